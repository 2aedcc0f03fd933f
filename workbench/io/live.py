"""Live input: a camera, a network stream, or a video file played as if live — wherever a video path is accepted
(``workbench predict``, ``workbench dvs run``).

Names: ``0``, ``1`` … or ``camera:0`` (a camera index), ``rtsp://…``, ``http(s)://…``, ``udp://…``, ``tcp://…``
(a stream OpenCV can open), ``live:FILE`` (a video file delivered at its own frame rate, as a camera would — how
live input is tested).

A reader thread takes frames as the source delivers them and keeps only the newest: when the pipeline is slower
than the source, the frames that arrive meanwhile are dropped — the output stays current instead of falling
further behind — and :attr:`LiveSequence.dropped` counts them (``predict`` and ``dvs run`` say how many). A live
sequence is read once, in order; it ends when the source ends or after ``max_frames`` frames.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from workbench.errors import InputError
from workbench.io.sequence import Sequence

STREAMS = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://")
DEFAULT_MAX_FRAMES = 9000  # five minutes at 30 fps, unless --max-frames says otherwise


def is_live(name: str | Path) -> bool:
    text = str(name)
    return text.isdigit() or text.startswith(("camera:", "live:")) or text.lower().startswith(STREAMS)


class LiveSequence(Sequence):
    """Frames of a live source, newest first when behind (module docstring)."""

    live = True

    def __init__(self, source: str, max_frames: int | None = None):
        self.source = source
        self.paced = source.startswith("live:")
        target: str | int = source[5:] if self.paced else source
        if source.startswith("camera:") or source.isdigit():
            target = int(source.split(":")[-1])
        if self.paced and not Path(str(target)).is_file():
            raise InputError(f"{source}: no such video file")
        self.capture = cv2.VideoCapture(target)
        ok, first = self.capture.read() if self.capture.isOpened() else (False, None)
        if not ok:
            self.capture.release()
            raise InputError(f"{source}: cannot open this live source (a camera index, a stream URL or live:FILE)")
        self.name = Path(str(target)).stem if self.paced else ("camera" + str(target) if isinstance(target, int)
                                                               else "stream")
        source_fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(source_fps) if source_fps and 1 <= source_fps <= 240 else 30.0
        self.size = (first.shape[1], first.shape[0])
        self.meta = {"live": source}
        self.max_frames = max_frames or DEFAULT_MAX_FRAMES
        self.received = 1  # frames the source delivered
        self.delivered = 0  # frames handed to the pipeline
        self._latest: tuple[int, np.ndarray] | None = (0, cv2.cvtColor(first, cv2.COLOR_BGR2RGB))
        self._ended = False
        self._stop = False
        self._cond = threading.Condition()
        self._last_index = -1
        self._thread: threading.Thread | None = None
        self._next = 0

    @property
    def dropped(self) -> int:
        """Frames the source delivered that the pipeline never saw (they arrived while it was busy)."""
        seen = self.received if self._ended else self._last_index + 1
        return max(0, seen - self.delivered)

    def __len__(self) -> int:
        return self.max_frames

    def _read(self) -> None:
        start = time.perf_counter()
        try:
            while not self._stop:
                ok, bgr = self.capture.read()
                if not ok:
                    break
                if self.paced:  # deliver at the file's frame rate, as a camera would
                    due = start + self.received / self.fps
                    time.sleep(max(0.0, due - time.perf_counter()))
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                with self._cond:
                    self._latest = (self.received, rgb)
                    self.received += 1
                    self._cond.notify()
        finally:
            self.capture.release()
            with self._cond:
                self._ended = True
                self._cond.notify()

    def frames(self) -> Iterator[np.ndarray]:
        try:
            while self._next < self.max_frames:
                try:
                    frame = self.frame(self._next)
                except EOFError:
                    return
                yield frame
        finally:
            self.close()

    def frame(self, index: int) -> np.ndarray:
        """The newest frame not yet delivered; frames are taken in order (``index`` = 0, 1, 2 …). Raises
        ``EOFError`` when the source has ended."""
        if index != self._next:
            raise InputError(f"{self.source}: a live source is read once, in order (frame {index} asked after "
                             f"{self._next - 1})")
        if self._thread is None:
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()
        with self._cond:
            while self._latest is None or self._latest[0] <= self._last_index:
                if self._ended:
                    raise EOFError(self.source)
                self._cond.wait(timeout=1.0)
            self._last_index, frame = self._latest
        self.delivered += 1
        self._next += 1
        return frame

    def report(self) -> str:
        """One line: what the source delivered and what was dropped."""
        return (f"{self.name}: the source delivered {self.received} frames at {self.fps:g} fps; the pipeline took "
                f"{self.delivered} and dropped {self.dropped} that arrived while it was busy")

    def close(self) -> None:
        """Stop reading: the reader thread ends and releases the source (joined here, so that no thread is still in
        the decoder when the interpreter exits)."""
        self._stop = True
        if self._thread is None:
            self.capture.release()
        elif self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)


__all__ = ["DEFAULT_MAX_FRAMES", "LiveSequence", "is_live"]
