"""Memory of long runs: a long synthetic video, resident-memory sampling every N frames read, the curve.

Shared by ``tests/longrun/test_memory.py`` (pytest puts this folder on ``sys.path`` for the tests in it) and
``docs/memory_curves.py``. Memory is the process's resident set (``VmRSS`` of ``/proc/self/status``, else
psutil); after the baseline frame the kernel's peak (``VmHWM``) is reset, so the reported peak also covers the
moments between samples (when ``/proc/self/clear_refs`` accepts it; else the peak is the largest sample).
"""

from __future__ import annotations

import contextlib
import csv
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench.cli import main
from workbench.io import VideoSequence, VideoWriter

STATUS = Path("/proc/self/status")


def _status_mb(key: str) -> float | None:
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return None


def rss_mb() -> float:
    """Resident memory of this process, MB."""
    value = _status_mb("VmRSS")
    if value is None:
        import psutil  # only where /proc is missing

        value = psutil.Process().memory_info().rss / 2**20
    return value


def reset_peak() -> bool:
    """Reset the kernel's peak resident memory (VmHWM) to the current value; False where not supported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_mb("VmHWM") is not None


def memory_available() -> bool:
    if _status_mb("VmRSS") is not None:
        return True
    try:
        import psutil  # noqa: F401
    except ImportError:
        return False
    return True


def write_long_video(folder: Path, frames: int, size: tuple[int, int] = (96, 64), loop: int = 150, seed: int = 10001
                     ) -> tuple[Path, Path]:
    """``folder/long.mp4`` and its mask video ``folder/long_mask.mp4`` (0/255), ``frames`` frames long: one
    synthetic video-call clip of ``loop`` frames (held-out seed) played forward and backward until long enough,
    so that motion stays continuous and the shipped networks see what they were trained on. Takes a few seconds.
    """
    from workbench.data.synthetic import SynthConfig, memory_clips

    clip = memory_clips(SynthConfig(clips=1, frames=loop, size=size, seed=seed, difficulty="medium"))[0]
    order = list(range(loop)) + list(range(loop - 2, 0, -1))  # ping-pong without repeating the ends
    video, masks = folder / "long.mp4", folder / "long_mask.mp4"
    with VideoWriter(video, clip.fps, size) as frames_out, VideoWriter(masks, clip.fps, size) as masks_out:
        for t in range(frames):
            index = order[t % len(order)]
            frames_out.write(clip.frame(index))
            masks_out.write(np.where(clip.mask(index) > 0, 255, 0).astype(np.uint8))
    return video, masks


@dataclass
class MemoryCurve:
    """RSS sampled every ``every`` frames read; the baseline is the sample at ``baseline_frame``."""

    command: str
    every: int = 50
    baseline_frame: int = 300
    samples: list[tuple[int, float]] = field(default_factory=list)  # (frames read, RSS MB)
    start_mb: float = 0.0
    end_mb: float = 0.0
    kernel_peak_mb: float | None = None  # VmHWM since the baseline, when it could be reset
    seconds: float = 0.0
    frames: int = 0  # frames read
    _hwm_reset: bool = False

    def on_frame(self, index: int) -> None:
        self.frames = max(self.frames, index + 1)
        if index % self.every == 0 or index == self.baseline_frame:
            self.samples.append((index, rss_mb()))
        if index == self.baseline_frame:
            self._hwm_reset = reset_peak()

    @property
    def baseline_mb(self) -> float:
        return next(mb for frame, mb in self.samples if frame == self.baseline_frame)

    @property
    def peak_mb(self) -> float:
        """Largest resident memory from the baseline frame to the end of the command (end included)."""
        sampled = max([mb for frame, mb in self.samples if frame >= self.baseline_frame] + [self.end_mb])
        return max(sampled, self.kernel_peak_mb or 0.0)

    @property
    def growth_mb(self) -> float:
        return self.peak_mb - self.baseline_mb

    def slope_mb_per_1000(self) -> float:
        """Least-squares slope of RSS over frames read after the baseline, MB per 1000 frames."""
        points = np.array([(f, mb) for f, mb in self.samples if f >= self.baseline_frame], np.float64)
        if len(points) < 2:
            return 0.0
        return float(np.polyfit(points[:, 0], points[:, 1], 1)[0] * 1000)

    def summary(self) -> str:
        kernel = "n/a" if self.kernel_peak_mb is None else f"{self.kernel_peak_mb:.1f} MB"
        return (f"{self.command}: {self.frames} frames read in {self.seconds:.1f} s; RSS at frame "
                f"{self.baseline_frame} {self.baseline_mb:.1f} MB, peak after it {self.peak_mb:.1f} MB "
                f"(+{self.growth_mb:.1f} MB; kernel peak {kernel}), slope {self.slope_mb_per_1000():+.2f} MB/1000 "
                f"frames, end {self.end_mb:.1f} MB")

    def write_csv(self, path: Path) -> Path:
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["command", "frame", "rss_mb"])
            writer.writerows((self.command, frame, f"{mb:.3f}") for frame, mb in self.samples)
        return path


@contextlib.contextmanager
def sampling_reads(curve: MemoryCurve) -> Iterator[None]:
    """Sample ``curve`` as a :class:`VideoSequence` hands out frames (``frame(i)`` and ``frames()``)."""
    original_frame, original_frames = VideoSequence.frame, VideoSequence.frames

    def frame(self, index):
        curve.on_frame(index % len(self))
        return original_frame(self, index)

    def frames(self):
        for index, item in enumerate(original_frames(self)):
            curve.on_frame(index)
            yield item

    VideoSequence.frame, VideoSequence.frames = frame, frames
    try:
        yield
    finally:
        VideoSequence.frame, VideoSequence.frames = original_frame, original_frames


def run_quietly(argv: list[str], threads: int = 1) -> None:
    """``workbench ARGV`` in this process on ``threads`` torch/OpenCV threads, its output discarded."""
    from workbench.experiments.measure import PinnedThreads

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), PinnedThreads(threads):
        code = main(argv)
    if code != 0:
        raise RuntimeError(f"workbench {' '.join(argv)} exited with {code}")


def measure(command: str, argv: list[str], every: int = 50, baseline_frame: int = 300, threads: int = 1
            ) -> MemoryCurve:
    """Run ``workbench ARGV`` in this process (see :func:`run_quietly`), sampling RSS every ``every`` frames
    read; the curve ends with the command's return (its last files written)."""
    curve = MemoryCurve(command, every, baseline_frame)
    curve.start_mb = rss_mb()
    start = time.perf_counter()
    with sampling_reads(curve):
        run_quietly(argv, threads)
    curve.seconds = time.perf_counter() - start
    curve.end_mb = rss_mb()
    if curve._hwm_reset:
        curve.kernel_peak_mb = _status_mb("VmHWM")
    return curve


def dvs_run_argv(video: Path, masks: Path, out: Path) -> list[str]:
    """``dvs run``, adaptive policy, evaluation on (IoU, flicker), every frame stored in the run record — with the
    cheapest shipped networks (segmentation ``fastseg``, the flow-feature decision network ``decision_flow``)
    on one region, so that 3000 frames take about half a minute on one core."""
    return ["dvs", "run", "--data", str(video), "--mask", str(masks), "--policy", "adaptive", "--target", "80",
            "--eval", "--seg", "fastseg", "--decision", "decision_flow", "--regions", "1x1", "--out", str(out),
            "--threads", "1", "--quiet"]


def predict_argv(video: Path, masks: Path, out: Path, model: str = "fastseg") -> list[str]:
    """``predict`` with ground truth: masks/, composite.webm, viz.webm, metrics.csv, summary with flicker."""
    return ["predict", "-m", model, "--img", str(video), "--mask", str(masks), "-o", str(out), "--quiet"]
