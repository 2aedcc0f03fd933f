"""Make the README's pictures of a synthetic clip: ``python docs/make_readme_figures.py``.

Writes docs/synth_frame.png, docs/synth_mask.png, docs/synth_flow.png (with the colour-code legend inset)
and docs/synth_strip.png from a fixed seed, through the public API only — rerun it after changing the
generator and commit the PNGs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.data.synthetic import SynthConfig, TalkingHeadClip
from workbench.io import write_image
from workbench.viz import colorize_labels, flow_legend, flow_to_color

DOCS = Path(__file__).resolve().parent
CONFIG = SynthConfig(frames=48, size=(320, 192), seed=2026, classes="parts", difficulty="medium")


def pick_frame() -> tuple[int, int]:
    """The first clip and frame where a hand is in view (the most telling flow), else the middle frame."""
    for index in range(16):
        clip = TalkingHeadClip(CONFIG, index)
        for event in clip.meta["events"]:
            if event["kind"] in ("wave", "cross"):
                middle = int((event["start"] + 0.5 * event["duration"]) * CONFIG.fps)
                return index, min(max(middle, 1), CONFIG.frames - 2)
    return 0, CONFIG.frames // 2


def main() -> None:
    index, t = pick_frame()
    frames = list(TalkingHeadClip(CONFIG, index))
    item = frames[t]
    write_image(DOCS / "synth_frame.png", item.frame)
    write_image(DOCS / "synth_mask.png", colorize_labels(item.mask))
    flow = flow_to_color(item.flow_bwd)
    legend = flow_legend(56)
    flow[4:60, -60:-4] = legend  # the colour code, top right
    write_image(DOCS / "synth_flow.png", flow)
    strip = np.concatenate([frames[i].frame[::2, ::2] for i in np.linspace(0, CONFIG.frames - 1, 4).astype(int)],
                           axis=1)
    write_image(DOCS / "synth_strip.png", strip)
    print(f"clip {index} (seed {CONFIG.seed}), frame {t}: events {TalkingHeadClip(CONFIG, index).meta['events']}")


if __name__ == "__main__":
    main()
