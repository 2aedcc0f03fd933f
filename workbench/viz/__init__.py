"""Visualisation: flow colour coding and legend, arrows, mask overlays, label palettes.

Functions return ``uint8`` RGB arrays ``(H, W, 3)`` (or plain arrays for plotting); nothing here shows or
saves a figure. Flow is ``float32 (2, H, W)`` in pixels (dx, dy); NaN = unknown.
"""

from workbench.viz.flow import (
    IGNORE_COLOR,
    PERSON_COLOR,
    color_wheel,
    colorize_labels,
    draw_arrows,
    flow_legend,
    flow_to_color,
    label_colors,
    overlay_mask,
    sample_arrows,
)

__all__ = [
    "IGNORE_COLOR", "PERSON_COLOR", "color_wheel", "colorize_labels", "draw_arrows", "flow_legend",
    "flow_to_color", "label_colors", "overlay_mask", "sample_arrows",
]
