"""Pictures of one frame of a run record, for the dashboard and the notebooks (arrays in, ``uint8`` RGB out).

Regions are ``(x0, y0, x1, y1)`` boxes (``run.json`` ``config.regions_px``); decisions ``"segment"`` or
``"warp"``. Nothing here reads files: callers pass what :meth:`workbench.runs.Run.frame_data` returned.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from workbench.viz.composite import error_map
from workbench.viz.flow import draw_arrows, flow_legend, flow_to_color, overlay_mask

DECISION_COLORS = {"segment": (255, 140, 0), "warp": (30, 144, 255)}  # orange: new key frame; blue: warped
KEY_COLOR = (255, 215, 0)


def _text(canvas: np.ndarray, text: str, origin: tuple[int, int], color=(255, 255, 255), scale: float = 0.4) -> None:
    """Readable text: a dark outline under the coloured glyphs."""
    glyph = max(1, round(2 * scale))
    cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), glyph + 2, cv2.LINE_AA)
    cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, color, glyph, cv2.LINE_AA)


def prediction_panel(image: np.ndarray, seg: np.ndarray) -> np.ndarray:
    return overlay_mask(image, seg)


def truth_panel(image: np.ndarray, gt: np.ndarray) -> np.ndarray:
    return overlay_mask(image, np.where(gt == 255, 0, gt), color=(0, 200, 0))


def error_panel(seg: np.ndarray, gt: np.ndarray, image: np.ndarray) -> np.ndarray:
    """False positives red, false negatives blue over the dimmed frame."""
    return error_map(seg, gt, image)


def flow_panel(flow: np.ndarray, arrows: bool = False, max_flow: float | None = None, legend: bool = True
               ) -> np.ndarray:
    """Middlebury colours of the stored flow (black where no flow was estimated), the colour key in the corner,
    optional arrows."""
    picture = flow_to_color(flow.astype(np.float32), max_flow)
    if arrows:
        picture = draw_arrows(picture, np.nan_to_num(flow.astype(np.float32)), step=16, scale=2.0)
    if legend:
        size = max(24, min(picture.shape[:2]) // 4)
        key = flow_legend(size)
        picture = picture.copy()
        picture[-size:, -size:] = key
        cv2.rectangle(picture, (picture.shape[1] - size, picture.shape[0] - size),
                      (picture.shape[1] - 1, picture.shape[0] - 1), (64, 64, 64), 1)
    return picture


def epe_panel(error: np.ndarray, vmax: float, bar: int = 14) -> np.ndarray:
    """An end-point-error map (px; NaN: not estimated, drawn grey) in the inferno colour map on the scale 0 to
    ``vmax`` px (larger errors saturate), with the labelled colour bar beneath — so that two methods' maps
    shown with the same ``vmax`` compare pixel by pixel."""
    vmax = max(float(vmax), 1e-6)
    valid = np.isfinite(error)
    levels = (255 * np.clip(np.where(valid, error, 0) / vmax, 0, 1)).astype(np.uint8)
    picture = cv2.cvtColor(cv2.applyColorMap(levels, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)
    picture[~valid] = 128
    width = picture.shape[1]
    strip = np.linspace(0, 255, width).astype(np.uint8)[None].repeat(bar, axis=0)
    strip = cv2.cvtColor(cv2.applyColorMap(strip, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)
    labels = np.zeros((bar + 4, width, 3), np.uint8)
    _text(labels, "0 px", (2, bar), scale=0.4)
    text = f">= {vmax:.1f} px"
    (w, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
    _text(labels, text, (max(2, width - w - 4), bar), scale=0.4)
    return np.vstack([picture, strip, labels])


def panel_sheet(pictures: Sequence[tuple[np.ndarray, str]], columns: int = 3, width: int = 480) -> np.ndarray:
    """The panels shown side by side as one picture (RGB ``uint8``): ``columns`` per row, each resized to
    ``width`` pixels wide, its caption written above it — what the dashboard's *panels PNG* download holds."""
    tiles = []
    for picture, caption in pictures:
        if picture.ndim == 2:
            picture = np.repeat(picture[..., None], 3, axis=2)
        height = max(1, round(picture.shape[0] * width / picture.shape[1]))
        tile = np.full((height + 24, width, 3), 255, np.uint8)
        tile[24:] = cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA)
        cv2.putText(tile, caption[:70], (4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(tile)
    if not tiles:
        raise ValueError("panel_sheet needs at least one picture")
    rows = []
    for start in range(0, len(tiles), columns):
        row = tiles[start:start + columns]
        tallest = max(t.shape[0] for t in row)
        row = [np.pad(t, ((0, tallest - t.shape[0]), (0, 0), (0, 0)), constant_values=255) for t in row]
        row += [np.full((tallest, width, 3), 255, np.uint8)] * (min(columns, len(tiles)) - len(row))
        rows.append(np.hstack(row))
    return np.vstack(rows)


def compared_score(score_pred: float, score_true: float, score_cum: float) -> tuple[float, str]:
    """The score a region's decision compared with its target, and its name: the compound score under the
    cumulative rule (``score_cum``), else the decision network's prediction (adaptive), else the true score
    (the oracle looks ahead). NaN and ``""`` where nothing was compared (per-frame, fixed, flow-only)."""
    for value, name in ((score_cum, "compound"), (score_pred, "predicted"), (score_true, "true")):
        if value is not None and np.isfinite(value):
            return float(value), name
    return float("nan"), ""


def region_label(decision: str, key_frame: int | None, score: float, name: str, target: float) -> list[str]:
    """A region's label lines: its decision (and key frame), then ``name score </>= target`` — the comparison
    that made the decision (``target`` NaN: the score alone; ``score`` NaN: no second line)."""
    lines = [decision + ("" if key_frame is None else f" (key {key_frame})")]
    if score is not None and np.isfinite(score):
        text = f"{name} {score:.1f}".strip()
        if target is not None and np.isfinite(target):
            text += f" {'<' if score < target else '>='} {target:.1f}"
        lines.append(text)
    return lines


def regions_panel(image: np.ndarray, boxes: Sequence[Sequence[int]], decisions: Sequence[str],
                  scores: Sequence[float], targets: Sequence[float], key_frames: Sequence[int] | None = None,
                  selected: int | None = None, names: Sequence[str] | None = None, min_width: int = 640
                  ) -> np.ndarray:
    """The frame with each region's box tinted by its decision and labelled ``name score </>= target``.

    ``scores`` are the scores each decision compared with its target (:func:`compared_score`; ``names`` say
    which). The picture is enlarged to at least ``min_width`` pixels so that the labels stay readable when
    the panel is projected; the text is white on a dark outline, the decision's colour on the box."""
    factor = max(1, int(np.ceil(min_width / image.shape[1])))
    canvas = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_NEAREST) if factor > 1 \
        else image.copy()
    boxes = [[int(v) * factor for v in box] for box in boxes]
    tint = canvas.copy()
    for (x0, y0, x1, y1), decision in zip(boxes, decisions, strict=True):
        inner = (slice(y0 + 1, y1 - 1), slice(x0 + 1, x1 - 1))
        tint[inner] = DECISION_COLORS[decision]
    canvas = cv2.addWeighted(canvas, 0.78, tint, 0.22, 0)
    names = names if names is not None else [""] * len(boxes)
    for i, ((x0, y0, x1, y1), decision, score, target, name) in enumerate(zip(boxes, decisions, scores, targets,
                                                                             names, strict=True)):
        color = DECISION_COLORS[decision]
        cv2.rectangle(canvas, (x0, y0), (x1 - 1, y1 - 1), color, 2 * factor if i == selected else factor)
        lines = region_label(decision, None if key_frames is None else key_frames[i], score, name, target)
        for j, line in enumerate(lines):
            _text(canvas, line, (x0 + 4 * factor, y0 + (14 + 14 * j) * factor), scale=0.4 * factor)
    return canvas


def key_frame_panel(key_image: np.ndarray, box: Sequence[int], key_index: int) -> np.ndarray:
    """The region's key frame with the region outlined."""
    x0, y0, x1, y1 = box
    canvas = (key_image // 2).copy()
    canvas[y0:y1, x0:x1] = key_image[y0:y1, x0:x1]
    cv2.rectangle(canvas, (x0, y0), (x1 - 1, y1 - 1), KEY_COLOR, 2)
    _text(canvas, f"key frame {key_index}", (x0 + 6, y1 - 8), KEY_COLOR)
    return canvas


def region_output_panel(image: np.ndarray, prob: np.ndarray, box: Sequence[int], decision: str, key_index: int
                        ) -> np.ndarray:
    """What the region contributed this frame: the warped key segmentation (warp) or a new segmentation."""
    x0, y0, x1, y1 = box
    canvas = (image // 3).copy()
    p = prob[y0:y1, x0:x1].astype(np.float32) / 255.0
    canvas[y0:y1, x0:x1] = (image[y0:y1, x0:x1] * (0.35 + 0.65 * p[..., None])).astype(np.uint8)
    canvas[y0:y1, x0:x1] = overlay_mask(canvas[y0:y1, x0:x1], (p >= 0.5).astype(np.uint8),
                                        color=DECISION_COLORS[decision], alpha=0.45)
    label = f"warped from key {key_index}" if decision == "warp" else "segmented (new key)"
    _text(canvas, label, (x0 + 6, y0 + 14), DECISION_COLORS[decision])
    return canvas


AGREEMENT_COLORS = {"only A right": (255, 0, 255), "only B right": (0, 220, 0), "both wrong": (255, 40, 40)}


def agreement(seg_a: np.ndarray, seg_b: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    """Masks of where two predictions are both right, only A is, only B is, both are wrong, against ``truth``
    (0/1, 255 = ignore: in none of the masks)."""
    valid = truth != 255
    right_a, right_b = (seg_a > 0) == (truth == 1), (seg_b > 0) == (truth == 1)
    return {"both right": valid & right_a & right_b, "only A right": valid & right_a & ~right_b,
            "only B right": valid & ~right_a & right_b, "both wrong": valid & ~right_a & ~right_b}


def agreement_panel(seg_a: np.ndarray, seg_b: np.ndarray, truth: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Which of two predictions is right where they differ from the truth: magenta only A, green only B, red
    both wrong; the dimmed frame where both are right."""
    canvas = (image // 3).copy()
    for name, mask in agreement(seg_a, seg_b, truth).items():
        if name in AGREEMENT_COLORS:
            canvas[mask] = AGREEMENT_COLORS[name]
    return canvas


def difference_panel(seg_a: np.ndarray, seg_b: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Where two predictions disagree: magenta where only A says person, green where only B does."""
    canvas = (image // 3).copy()
    canvas[(seg_a > 0) & (seg_b == 0)] = (255, 0, 255)
    canvas[(seg_a == 0) & (seg_b > 0)] = (0, 220, 0)
    return canvas
