"""Video files: a reader that is a :class:`Sequence`, and an atomic mp4 writer.

:class:`VideoSequence` yields ``uint8 (H, W, 3)`` RGB frames (OpenCV decodes BGR; it is converted here) and,
when given a mask video or a mask folder, ``uint8 (H, W)`` masks. Nothing ever decodes a whole file into
memory; memory does not depend on the video's length:

- ``frames()`` streams: a capture of its own, one decoded frame in memory at a time;
- ``frame(i)`` and ``mask(i)`` read through a *cursor*, an open capture that decodes forward: reading frames
  in order (what every command does) decodes each frame once; a frame behind the cursor reopens the file and
  decodes forward from the start again (``O(i)``: exact, as container seeking is not frame-accurate for every
  codec). The last ``cache_frames`` frames (and masks) read are kept, so ``frame(t - 1), frame(t)`` pairs and
  re-reads of a recent frame cost nothing.

Opening a video decodes it once (streaming) to count its frames exactly, because the frame count stored in
containers is often wrong. The frame rate comes from the container (30 when it has none).

:class:`VideoWriter` writes RGB frames under a temporary name in the same folder and renames it into place only
when the ``with`` block ends cleanly. The codec follows the suffix (:data:`FOURCC`): ``.webm`` is VP8, which
every browser plays (the dashboard, a notebook, a README); ``.mp4`` is MPEG-4 Part 2 (``mp4v``, the only mp4
codec opencv-headless writes), which VLC and most players read but browsers do not; ``.avi`` is MJPG.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from workbench.errors import InputError
from workbench.io.atomic import atomic_file
from workbench.io.folders import read_folder_mask
from workbench.io.images import binarize_mask, list_images
from workbench.io.sequence import Sequence

# FFmpeg prints its own diagnostics for damaged files ('moov atom not found'); our error says it in one line.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "8")  # AV_LOG_FATAL

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
DEFAULT_FPS = 30.0
#: decoded frames (and masks) a :class:`VideoSequence` keeps for random access by ``frame(i)`` / ``mask(i)``
CACHE_FRAMES = 8


def is_video_file(path: str | Path) -> bool:
    path = Path(path)
    return path.is_file() and path.suffix.lower() in VIDEO_EXTENSIONS


def _open_capture(path: Path) -> cv2.VideoCapture:
    if not path.is_file():
        raise InputError(f"{path}: file not found (expected a video file)")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: cannot decode video (file is empty, 0 bytes)")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise InputError(f"{path}: cannot decode video (corrupt, truncated or unsupported format)")
    return capture


def _iter_bgr(path: Path) -> Iterator[np.ndarray]:
    """Decoded frames as OpenCV gives them (BGR), streaming."""
    capture = _open_capture(path)
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield frame
    finally:
        capture.release()


def _probe(path: Path) -> tuple[int, np.ndarray, float, int]:
    """(frames counted by decoding, first frame BGR, fps, frame count the container claims)."""
    capture = _open_capture(path)
    try:
        ok, first = capture.read()
        if not ok or first is None:
            raise InputError(f"{path}: cannot decode video (no decodable frame)")
        fps = capture.get(cv2.CAP_PROP_FPS)
        claimed = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        count = 1
        while capture.grab():  # demux + decode without the colour conversion of read()
            count += 1
    finally:
        capture.release()
    if not (math.isfinite(fps) and 0 < fps < 1000):
        fps = DEFAULT_FPS
    return count, first, float(fps), claimed


def _mask_from_bgr(frame: np.ndarray) -> np.ndarray:
    """A mask video frame → 0/1 by gray level ≥ 128 (lossy codecs blur the 0/255 edges)."""
    return binarize_mask(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))


class _Cursor:
    """Random access to the decoded frames of one file without holding the file: an open capture that decodes
    forward (reopened for a frame behind it) and the last ``cache`` converted frames. Thread-safe."""

    def __init__(self, path: Path, count: int, convert: Callable[[np.ndarray], np.ndarray], cache: int):
        self.path, self.count, self.convert, self.cache = path, count, convert, max(0, int(cache))
        self.opened = 0  # times the file was (re)opened: reading in order opens it once
        self._reset()

    def _reset(self) -> None:
        self._capture: cv2.VideoCapture | None = None
        self._position = 0  # index of the frame the capture decodes next
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, index: int) -> np.ndarray:
        """Frame ``index`` converted (the cached array itself: callers copy before handing it out)."""
        with self._lock:
            if index in self._frames:
                self._frames.move_to_end(index)
                return self._frames[index]
            if self._capture is None or index < self._position:
                self._release()
                self._capture = _open_capture(self.path)
                self._position = 0
                self.opened += 1
            while self._position < index:  # skip forward without the colour conversion
                if not self._capture.grab():
                    self._ended()
                self._position += 1
            ok, bgr = self._capture.read()
            if not ok or bgr is None:
                self._ended()
            self._position += 1
            frame = self.convert(bgr)
            if self.cache:
                self._frames[index] = frame
                while len(self._frames) > self.cache:
                    self._frames.popitem(last=False)
            return frame

    def _ended(self) -> None:
        decoded = self._position
        self._release()
        raise InputError(f"{self.path}: decoded {decoded} frames, expected {self.count} (the file changed since "
                         "it was opened)")

    def _release(self) -> None:
        if self._capture is not None:
            self._capture.release()
        self._capture, self._position = None, 0

    def close(self) -> None:
        with self._lock:
            self._release()
            self._frames.clear()

    def __getstate__(self) -> dict[str, Any]:  # a capture and a lock do not pickle (DataLoader workers)
        return {k: v for k, v in self.__dict__.items() if k not in ("_capture", "_position", "_frames", "_lock")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset()


class VideoSequence(Sequence):
    """A video file; ``masks`` is a mask video (binarised at 128) or a mask folder (paired by order).

    Frames and masks stream (see the module docstring): reading in order decodes each frame once, and at most
    ``cache_frames`` decoded frames and masks are kept. ``close()`` releases the open captures (reading again
    reopens them).
    """

    def __init__(self, path: str | Path, masks: str | Path | None = None, cache_frames: int = CACHE_FRAMES):
        self.path = Path(path)
        self.name = self.path.stem
        count, first, self.fps, claimed = _probe(self.path)
        self._num_frames = count
        self.size = (first.shape[1], first.shape[0])
        self.cache_frames = cache_frames
        self._frame_cursor = _Cursor(self.path, count, self._frame_of, cache_frames)
        self._mask_cursor: _Cursor | None = None
        self.mask_video: Path | None = None
        self.mask_files: list[Path] = []
        if masks is not None:
            self._open_masks(Path(masks))
        self.has_masks = self.mask_video is not None or bool(self.mask_files)
        self.classes = ["background", "person"] if self.has_masks else None
        self.meta: dict[str, Any] = {"layout": "video", "path": str(self.path),
                                     "masks": str(masks) if masks is not None else None,
                                     "container_frames": claimed}

    def _open_masks(self, masks: Path) -> None:
        if masks.is_dir():
            files = list_images(masks)
            if len(files) != len(self):
                raise InputError(f"{masks}: {len(files)} masks for the {len(self)} frames of {self.path}")
            self.mask_files = files
        elif masks.is_file():
            if masks.suffix.lower() not in VIDEO_EXTENSIONS:
                raise InputError(f"{masks}: not a video file ({', '.join(VIDEO_EXTENSIONS)}); expected a mask "
                                 "video or a folder of masks")
            count, first, _, _ = _probe(masks)
            if count != len(self):
                raise InputError(f"{masks}: mask video has {count} frames, {self.path} has {len(self)}")
            self._check_shape(first[:, :, 0], "mask video", masks)
            self.mask_video = masks
            self._mask_cursor = _Cursor(masks, count, self._mask_of, self.cache_frames)
        else:
            raise InputError(f"{masks}: not found (expected a mask video or a folder of masks)")

    def _frame_of(self, bgr: np.ndarray) -> np.ndarray:
        return self._check_shape(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), "frame", self.path)

    def _mask_of(self, bgr: np.ndarray) -> np.ndarray:
        return self._check_shape(_mask_from_bgr(bgr), "mask", self.mask_video)

    def __len__(self) -> int:
        return self._num_frames

    def frames(self) -> Iterator[np.ndarray]:
        """Stream the frames in order (a capture of its own; one decoded frame in memory at a time)."""
        for index, bgr in enumerate(_iter_bgr(self.path)):
            if index >= len(self):
                return
            yield self._frame_of(bgr)

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index``, decoded by the cursor: cheap in order, ``O(index)`` behind the last frames read."""
        return self._frame_cursor.get(self._check_index(index)).copy()

    def mask(self, index: int) -> np.ndarray:
        if not self.has_masks:
            return super().mask(index)
        index = self._check_index(index)
        if self.mask_files:
            path = self.mask_files[index]
            return self._check_shape(read_folder_mask(path), "mask", path)
        return self._mask_cursor.get(index).copy()

    def close(self) -> None:
        """Release the open captures and the cached frames (reading again reopens the files)."""
        self._frame_cursor.close()
        if self._mask_cursor is not None:
            self._mask_cursor.close()


FOURCC = {".webm": "VP80", ".mp4": "mp4v", ".avi": "MJPG"}  # suffix → the codec VideoWriter uses


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence the process's stderr (file descriptor 2) for the block and restore it afterwards: for native
    code that writes straight to the descriptor, which ``sys.stderr`` cannot catch and no log level turns off
    (OpenCV's FFmpeg backend warns about the codec tag of every WebM it opens; MediaPipe prints its start-up).
    Not thread-safe: another thread's stderr is silenced too while the block runs."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class VideoWriter:
    """Write ``uint8`` RGB ``(H, W, 3)`` (or gray ``(H, W)``) frames of ``size = (W, H)`` to a video whose codec
    follows the file's suffix (:data:`FOURCC`).

    Use as a context manager. The file appears under ``path`` only when the block ends without an
    exception and at least one frame was written; otherwise the temporary file is deleted.
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int]):
        self.path = Path(path)
        self.fps = float(fps)
        self.size = (int(size[0]), int(size[1]))
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"fps must be a positive number, got {fps}")
        if self.size[0] <= 0 or self.size[1] <= 0:
            raise ValueError(f"size must be (W, H) with positive values, got {size}")
        if self.path.suffix.lower() not in FOURCC:
            raise InputError(f"{self.path}: expected a video file name ending in {', '.join(FOURCC)}")
        self.fourcc = FOURCC[self.path.suffix.lower()]
        self.num_frames = 0
        self._writer: cv2.VideoWriter | None = None
        self._stack: contextlib.ExitStack | None = None

    def __enter__(self) -> VideoWriter:
        stack = contextlib.ExitStack()
        tmp = stack.enter_context(atomic_file(self.path))  # same folder, same suffix
        with quiet_stderr() if self.fourcc == "VP80" else contextlib.nullcontext():
            writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*self.fourcc), self.fps, self.size)
        if not writer.isOpened():
            error = InputError(f"{self.path}: cannot open a {self.fourcc} video writer for this file type")
            stack.__exit__(InputError, error, None)
            raise error
        stack.callback(writer.release)  # runs before the rename (exit callbacks run last-in first-out)
        self._writer, self._stack = writer, stack
        return self

    def write(self, frame: np.ndarray) -> None:
        if self._writer is None:
            raise RuntimeError("VideoWriter.write called outside its 'with' block")
        width, height = self.size
        if frame.dtype != np.uint8 or frame.shape[:2] != (height, width) or frame.ndim not in (2, 3) \
                or (frame.ndim == 3 and frame.shape[2] != 3):
            raise ValueError(f"{self.path}: frame must be uint8 ({height}, {width}, 3) RGB or "
                             f"({height}, {width}) gray, got {frame.dtype} {frame.shape}")
        code = cv2.COLOR_GRAY2BGR if frame.ndim == 2 else cv2.COLOR_RGB2BGR
        self._writer.write(cv2.cvtColor(np.ascontiguousarray(frame), code))
        self.num_frames += 1

    def __exit__(self, exc_type, exc, tb) -> bool:
        stack, self._stack, self._writer = self._stack, None, None
        if stack is None:
            return False
        if exc_type is None and self.num_frames == 0:
            error = ValueError(f"{self.path}: no frames written; an empty video is not written")
            stack.__exit__(ValueError, error, None)
            raise error
        return bool(stack.__exit__(exc_type, exc, tb))
