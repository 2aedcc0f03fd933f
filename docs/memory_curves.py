"""Resident memory over a long video, for the documentation: ``python docs/memory_curves.py``.

Writes a 3000-frame 96×64 video call and its mask video (``tests/longrun/memory_probe.py``), then runs
``workbench dvs run`` (adaptive, evaluation on, frames stored) and ``workbench predict`` (masks, composite and
side-by-side videos, metrics) on it, each in a fresh interpreter on one thread, sampling the process's
resident memory every 50 frames read. As in the long-run test, each interpreter first runs its command on a
40-frame video (a warm-up: imports, pyarrow's first parquet file, allocator arenas), so that the curves show
growth; ``--cold`` skips it (a cold ``dvs run`` then jumps by about 100 MB at its end, when it first imports
pandas and pyarrow to write the run record — the same for any length of video). Writes
``docs/memory_curves.png`` and ``docs/memory_curves.csv`` and prints, per command: frames, RSS at frame 300,
the peak after it (to the end of the command) and the slope.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "tests" / "longrun"))

import memory_probe as probe  # noqa: E402

COMMANDS = ("dvs run", "predict")


def argv_of(command: str, folder: Path, out: Path) -> list[str]:
    video, masks = folder / "long.mp4", folder / "long_mask.mp4"
    if command == "dvs run":
        return probe.dvs_run_argv(video, masks, out)
    return probe.predict_argv(video, masks, out)


def child(command: str, folder: Path, baseline: int, cold: bool) -> None:
    """Measure one command in this (fresh) process; write its curve to ``folder/<command>.json``."""
    if not cold:
        probe.run_quietly(argv_of(command, folder / "short", folder / f"warm-up-{command.replace(' ', '_')}"))
    argv = argv_of(command, folder, folder / command.replace(" ", "_"))
    curve = probe.measure(command, argv, baseline_frame=baseline)
    result = {"command": command, "argv": argv, "cold": cold, "frames": curve.frames, "samples": curve.samples,
              "start_mb": curve.start_mb, "end_mb": curve.end_mb, "baseline_mb": curve.baseline_mb,
              "peak_mb": curve.peak_mb, "kernel_peak_mb": curve.kernel_peak_mb, "growth_mb": curve.growth_mb,
              "slope_mb_per_1000": curve.slope_mb_per_1000(), "seconds": curve.seconds, "summary": curve.summary()}
    (folder / f"{command.replace(' ', '_')}.json").write_text(json.dumps(result, indent=2) + "\n")


def plot(results: list[dict], path: Path, baseline: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=120)
    for result, colour in zip(results, ("tab:blue", "tab:orange"), strict=False):
        frames, mb = zip(*result["samples"], strict=True)
        label = (f"{result['command']}: {result['baseline_mb']:.0f} MB at frame {baseline}, peak after it "
                 f"+{result['growth_mb']:.1f} MB")
        ax.plot(frames, mb, color=colour, label=label)
        ax.plot([result["frames"]], [result["end_mb"]], "o", color=colour, markersize=4)  # command returned
        ax.axhline(result["baseline_mb"] + 50, color=colour, linestyle=":", linewidth=1)
    ax.axvline(baseline, color="gray", linestyle="--", linewidth=1)
    ax.plot([], [], "o", color="gray", markersize=4, label="after the command returned (its files written)")
    ax.set_xlabel("frames read")
    ax.set_ylabel("resident memory (MB)")
    start = "cold start" if results[0]["cold"] else "after a warm-up run"
    ax.set_title(f"Memory over a {results[0]['frames']}-frame video (96×64 mp4, {start}; dotted: +50 MB)",
                 fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--baseline", type=int, default=300, help="the frame the growth is measured from")
    parser.add_argument("--out", type=Path, default=DOCS / "memory_curves.png")
    parser.add_argument("--cold", action="store_true", help="no warm-up run: one-time costs show in the curves")
    parser.add_argument("--child", choices=COMMANDS, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.folder, args.baseline, args.cold)
        return
    with tempfile.TemporaryDirectory(prefix="memory_curves-") as tmp:
        folder = Path(tmp)
        probe.write_long_video(folder, args.frames)
        (folder / "short").mkdir()
        probe.write_long_video(folder / "short", 40)
        results = []
        for command in COMMANDS:
            subprocess.run([sys.executable, __file__, "--child", command, "--folder", str(folder), "--baseline",
                            str(args.baseline), *(["--cold"] if args.cold else [])], check=True, cwd=ROOT)
            results.append(json.loads((folder / f"{command.replace(' ', '_')}.json").read_text()))
            print(results[-1]["summary"])
    plot(results, args.out, args.baseline)
    with open(args.out.with_suffix(".csv"), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["command", "frame", "rss_mb"])
        for result in results:
            writer.writerows((result["command"], frame, f"{mb:.3f}") for frame, mb in result["samples"])
    print(f"wrote {args.out} and {args.out.with_suffix('.csv')}")


if __name__ == "__main__":
    main()
