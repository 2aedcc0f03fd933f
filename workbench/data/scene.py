"""Layered scene content of a synthetic video call: background, torso, head, arm sprites.

Every layer is a sprite in its own canvas (premultiplied RGBA plus part labels) that the motion model
maps into the frame with one affine transform per instant. Because the content of a layer never changes,
only its transform, the optical flow of every pixel follows analytically from the transforms
(``workbench.data.render``), and shading is baked into the sprite so brightness is constant along the flow
(the lighting changes of harder clips are applied globally, on purpose, on top).

Canvas units: ``u`` = the person's scale in pixels (about the frame height), so a person looks the same at
any output size. Part labels (docs/conventions.md): 1 head (with hair and neck), 2 torso, 3 hand/arm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from workbench.data.textures import (
    ellipse_mask,
    fine_texture,
    hex_color,
    jitter_color,
    paint,
    polygon_mask,
    polyline_mask,
    rect_mask,
    smooth_noise,
    streaks,
)

HEAD, TORSO, ARM = 1, 2, 3
PART_CLASSES = ["background", "head", "torso", "arm"]
BINARY_CLASSES = ["background", "person"]

SKIN_TONES = ["#f1c7a5", "#e0ac8a", "#c68863", "#a86b4a", "#8d5524", "#5c3a21", "#f6d5c0", "#d29b7a"]
HAIR_COLORS = ["#1b1410", "#2e1f16", "#4a3020", "#6b4a2b", "#a67b4f", "#d8b879", "#8a8a88", "#7a2f1a"]
SHIRT_COLORS = ["#2f4b7c", "#1f1f24", "#7a1f2b", "#3f6e4a", "#d9d4c7", "#5d5d66", "#8a5a9b", "#c96f2a",
                "#1f6f8b", "#e8e8e8", "#44403c", "#9c2f2f"]
WALL_COLORS = ["#d9cfc1", "#bfc5c9", "#e8e4da", "#a9b8a2", "#c2b49b", "#8fa3b5", "#d4b8a8", "#6d7a80"]


@dataclass
class Layer:
    """One sprite: premultiplied ``rgba float32 (h, w, 4)``, part ``labels uint8 (h, w)``, border rule.

    The bottom (background) layer is opaque and stores plain RGB ``(h, w, 3)`` in ``rgba``.
    """

    name: str
    rgba: np.ndarray
    labels: np.ndarray | None
    label: int
    border: int = cv2.BORDER_CONSTANT  # BORDER_REPLICATE: the layer continues past its canvas (torso)
    anchors: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        return self.rgba.shape[1], self.rgba.shape[0]


def _premultiply(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    rgba = np.empty(rgb.shape[:2] + (4,), np.float32)
    rgba[:, :, :3] = np.clip(rgb, 0.0, 1.0) * alpha[:, :, None]
    rgba[:, :, 3] = alpha
    return rgba


def _shade(shape: tuple[int, int], center: tuple[float, float], radii: tuple[float, float],
           light: np.ndarray, ambient: float = 0.62) -> np.ndarray:
    """Lambert-like shading of an ellipsoid bump: bright where its normal faces ``light`` (unit 3-vector)."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    nx = (xs - center[0]) / radii[0]
    ny = (ys - center[1]) / radii[1]
    nz = np.sqrt(np.clip(1.0 - nx**2 - ny**2, 0.0, 1.0))
    lambert = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0.0, 1.0)
    return (ambient + (1.0 - ambient) * lambert).astype(np.float32)


def _light(rng: np.random.Generator) -> np.ndarray:
    v = np.array([rng.uniform(-0.6, 0.6), rng.uniform(-0.7, -0.1), 1.0], np.float32)
    return v / np.linalg.norm(v)


# --------------------------------------------------------------------------------------------- person


@dataclass
class PersonStyle:
    """Random appearance of one person (recorded in meta.json)."""

    skin: str
    hair: str
    hair_style: str  # short | long | bald | curly
    shirt: str
    shirt_pattern: str  # plain | stripes | checks | knit
    neckline: str  # round | v | collar
    glasses: bool
    long_sleeves: bool

    @classmethod
    def sample(cls, rng: np.random.Generator, shirt: str | None = None) -> PersonStyle:
        return cls(
            skin=str(rng.choice(SKIN_TONES)),
            hair=str(rng.choice(HAIR_COLORS)),
            hair_style=str(rng.choice(["short", "short", "long", "bald", "curly"])),
            shirt=shirt or str(rng.choice(SHIRT_COLORS)),
            shirt_pattern=str(rng.choice(["plain", "plain", "stripes", "checks", "knit"])),
            neckline=str(rng.choice(["round", "v", "collar"])),
            glasses=bool(rng.random() < 0.25),
            long_sleeves=bool(rng.random() < 0.6),
        )


def make_torso(rng: np.random.Generator, u: float, style: PersonStyle, light: np.ndarray,
               texture: np.ndarray | None = None) -> Layer:
    """Neck, shoulders and chest; the canvas bottom is cut by the frame, so the layer replicates downwards.

    ``texture`` (``float32 (int(u), int(1.5 u), 3)``) prints the shirt with a photograph instead of a pattern.

    Long because it is drawing code, one shape after another in painting order.
    """
    w, h = int(1.5 * u), int(1.0 * u)
    cx = w / 2.0
    neck_top, shoulder_y = 0.02 * u, 0.25 * u
    rgb = np.zeros((h, w, 3), np.float32)
    skin = hex_color(style.skin)
    shirt = hex_color(style.shirt)

    # Neck: a slightly tapered column, darker under the chin.
    neck_hw = 0.078 * u
    neck = polygon_mask((h, w), [(cx - neck_hw * 0.92, neck_top), (cx + neck_hw * 0.92, neck_top),
                                 (cx + neck_hw * 1.1, shoulder_y + 0.06 * u),
                                 (cx - neck_hw * 1.1, shoulder_y + 0.06 * u)])
    ys = np.arange(h, dtype=np.float32)[:, None] / u
    neck_shade = np.clip(0.72 + 0.9 * (ys - 0.05), 0.72, 1.0) * np.ones((1, w), np.float32)
    skin_img = skin * neck_shade[:, :, None] * (1.0 + 0.025 * fine_texture(rng, (h, w), 1.2))[:, :, None]
    paint(rgb, neck, skin_img)

    # Shoulders: a rounded trapezoid, wider than the frame's person centre column.
    half = rng.uniform(0.40, 0.47) * u
    drop = rng.uniform(0.10, 0.16) * u
    pts = [(cx - 0.09 * u, shoulder_y - 0.01 * u)]
    for t in np.linspace(0.0, 1.0, 12):  # shoulder curve: flat near the neck, rounding at the arm
        x = 0.09 * u + (half - 0.09 * u) * t
        pts.append((cx - x, shoulder_y + drop * t**2.2))
    pts += [(cx - half - 0.03 * u, shoulder_y + drop + 0.12 * u), (cx - half - 0.05 * u, h + 2),
            (cx + half + 0.05 * u, h + 2), (cx + half + 0.03 * u, shoulder_y + drop + 0.12 * u)]
    for t in np.linspace(1.0, 0.0, 12):
        x = 0.09 * u + (half - 0.09 * u) * t
        pts.append((cx + x, shoulder_y + drop * t**2.2))
    pts.append((cx + 0.09 * u, shoulder_y - 0.01 * u))
    body = polygon_mask((h, w), pts)

    fabric = _fabric(rng, (h, w), u, shirt, style.shirt_pattern)  # drawn even when replaced: same geometry after
    if texture is not None:
        fabric = texture[:h, :w]
    body_shade = _shade((h, w), (cx, shoulder_y + 0.5 * u), (half * 1.25, 0.9 * u), light, ambient=0.7)
    folds = 1.0 + 0.05 * smooth_noise(rng, (h, w), 0.25 * u, octaves=2)
    paint(rgb, body, fabric * (body_shade * folds)[:, :, None])

    # Neckline: skin showing through, or a shirt collar.
    if style.neckline == "v":
        paint(rgb, polygon_mask((h, w), [(cx - 0.085 * u, shoulder_y - 0.012 * u),
                                         (cx + 0.085 * u, shoulder_y - 0.012 * u),
                                         (cx, shoulder_y + 0.13 * u)]), skin_img)
    elif style.neckline == "round":
        paint(rgb, ellipse_mask((h, w), (cx, shoulder_y - 0.01 * u), (0.088 * u, 0.05 * u)), skin_img)
    else:
        collar = np.clip(shirt * 1.25 + 0.08, 0, 1)
        for side in (-1, 1):
            paint(rgb, polygon_mask((h, w), [(cx + side * 0.095 * u, shoulder_y - 0.03 * u),
                                             (cx + side * 0.01 * u, shoulder_y + 0.07 * u),
                                             (cx + side * 0.14 * u, shoulder_y + 0.05 * u)]), collar)
    alpha = np.clip(np.maximum(neck, body), 0.0, 1.0)

    # Parts: the neck belongs to the head class; everything from the shoulder line down is torso. Labels
    # cover the whole canvas so an anti-aliased edge pixel always has its layer's part.
    labels = np.full((h, w), TORSO, np.uint8)
    labels[: int(shoulder_y - 0.005 * u)] = HEAD
    labels[(neck > 0.5) & (body < 0.5)] = HEAD
    return Layer("torso", _premultiply(rgb, alpha), labels, TORSO, cv2.BORDER_REPLICATE,
                 anchors={"neck": (cx, 0.10 * u), "shoulder_l": (cx - half * 0.8, shoulder_y),
                          "shoulder_r": (cx + half * 0.8, shoulder_y)})


def _fabric(rng: np.random.Generator, shape: tuple[int, int], u: float, color: np.ndarray,
            pattern: str) -> np.ndarray:
    """Shirt texture: a base colour with weave noise and an optional pattern."""
    h, w = shape
    weave = 1.0 + 0.05 * fine_texture(rng, shape, 1.0) + 0.04 * smooth_noise(rng, shape, 0.05 * u, 2)
    img = color[None, None, :] * weave[:, :, None]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    if pattern == "stripes":
        period = rng.uniform(0.04, 0.09) * u
        other = jitter_color(rng, 1.0 - color * 0.6, 0.15)
        vertical = rng.random() < 0.5
        phase = (xs if vertical else ys) / period * 2 * np.pi
        m = np.clip(0.5 + 1.5 * np.sin(phase), 0, 1)[:, :, None]  # soft-edged stripes
        img = img * (1 - 0.5 * m) + other * 0.5 * m * weave[:, :, None]
    elif pattern == "checks":
        period = rng.uniform(0.06, 0.12) * u
        other = jitter_color(rng, color * 0.5 + 0.35, 0.1)
        m = (np.clip(0.5 + 1.5 * np.sin(xs / period * 2 * np.pi), 0, 1)
             + np.clip(0.5 + 1.5 * np.sin(ys / period * 2 * np.pi), 0, 1))[:, :, None] * 0.3
        img = img * (1 - m) + other * m
    elif pattern == "knit":
        img = img * (1.0 + 0.05 * streaks(rng, shape, 0.04 * u, 90.0, 1.0))[:, :, None]
    return np.clip(img, 0, 1).astype(np.float32)


def make_head(rng: np.random.Generator, u: float, style: PersonStyle, light: np.ndarray,
              hat: np.ndarray | None = None) -> Layer:
    """Face, ears, hair and facial features. Anchor ``neck`` is the pivot for nods and turns.

    ``hat`` (``float32 (int(0.7 u), int(0.66 u), 3)``, a texture) puts a cap or beanie over the hair.

    Long because it is drawing code, one feature after another in painting order.
    """
    w, h = int(0.66 * u), int(0.7 * u)
    cx, cy = w / 2.0, 0.28 * u
    a, b = rng.uniform(0.138, 0.152) * u, rng.uniform(0.178, 0.195) * u
    skin = hex_color(style.skin)
    hair = hex_color(style.hair)
    rgb = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)
    shade = _shade((h, w), (cx, cy), (a * 1.15, b * 1.1), light, ambient=0.68)
    hair_tex = hair[None, None, :] * (1.0 + 0.18 * streaks(rng, (h, w), 0.06 * u, 90.0, 0.8))[:, :, None]
    hair_img = np.clip(hair_tex * shade[:, :, None] + 0.02, 0, 1)

    def add(mask: np.ndarray, color: np.ndarray | np.ndarray) -> None:
        nonlocal alpha
        paint(rgb, mask, color)
        alpha = np.maximum(alpha, mask)

    # Hair behind the face (long hair falls to the shoulders).
    if style.hair_style == "long":
        add(polygon_mask((h, w), [(cx - a * 1.25, cy - 0.2 * b), (cx + a * 1.25, cy - 0.2 * b),
                                  (cx + a * 1.45, cy + 1.75 * b), (cx - a * 1.45, cy + 1.75 * b)]), hair_img)
        add(ellipse_mask((h, w), (cx, cy - 0.05 * b), (a * 1.25, b * 1.12)), hair_img)
    skin_img = np.clip(skin[None, None, :] * shade[:, :, None]
                       * (1.0 + 0.03 * fine_texture(rng, (h, w), 1.2))[:, :, None], 0, 1)
    ear_y = cy + 0.05 * b
    for side in (-1, 1):
        add(ellipse_mask((h, w), (cx + side * a * 0.98, ear_y), (0.22 * a, 0.3 * b)), skin_img * 0.92)
    # Face: an ellipse with a narrower jaw (a second ellipse for the chin).
    add(np.maximum(ellipse_mask((h, w), (cx, cy), (a, b)),
                   ellipse_mask((h, w), (cx, cy + 0.35 * b), (0.78 * a, 0.68 * b))), skin_img)

    # Features: eyes, brows, nose, mouth — they give the face texture that flow methods can lock on to.
    eye_y, eye_dx = cy - 0.08 * b, 0.42 * a
    iris = jitter_color(rng, [0.25, 0.18, 0.12], 0.1)
    for side in (-1, 1):
        ex = cx + side * eye_dx
        paint(rgb, ellipse_mask((h, w), (ex, eye_y), (0.2 * a, 0.085 * b)), [0.93, 0.92, 0.9])
        paint(rgb, ellipse_mask((h, w), (ex, eye_y), (0.085 * a, 0.075 * b)), iris)
        paint(rgb, ellipse_mask((h, w), (ex, eye_y), (0.04 * a, 0.04 * b)), [0.05, 0.05, 0.05])
        brow = [(ex - side * 0.22 * a, eye_y - 0.2 * b), (ex, eye_y - 0.26 * b), (ex + side * 0.24 * a,
                                                                                 eye_y - 0.21 * b)]
        paint(rgb, polyline_mask((h, w), brow, max(1.0, 0.035 * b)), hair * 0.9)
        if style.glasses:
            ring = (ellipse_mask((h, w), (ex, eye_y), (0.3 * a, 0.17 * b))
                    - ellipse_mask((h, w), (ex, eye_y), (0.25 * a, 0.13 * b)))
            paint(rgb, np.clip(ring, 0, 1), [0.08, 0.08, 0.1])
    if style.glasses:
        paint(rgb, polyline_mask((h, w), [(cx - eye_dx + 0.3 * a, eye_y), (cx + eye_dx - 0.3 * a, eye_y)],
                                 max(1.0, 0.03 * b)), [0.08, 0.08, 0.1])
    paint(rgb, polyline_mask((h, w), [(cx + 0.02 * a, eye_y + 0.05 * b), (cx + 0.08 * a, cy + 0.28 * b),
                                      (cx - 0.06 * a, cy + 0.32 * b)], max(1.0, 0.03 * b)), skin * 0.72)
    lips = jitter_color(rng, skin * np.array([0.85, 0.55, 0.55]), 0.05)
    paint(rgb, ellipse_mask((h, w), (cx, cy + 0.55 * b), (0.3 * a, 0.075 * b)), lips)
    paint(rgb, polyline_mask((h, w), [(cx - 0.28 * a, cy + 0.55 * b), (cx + 0.28 * a, cy + 0.55 * b)],
                             max(1.0, 0.02 * b)), lips * 0.55)

    # Hair on top of the face.
    if style.hair_style in ("short", "long"):
        cap = ellipse_mask((h, w), (cx, cy - 0.12 * b), (a * 1.1, b * 1.0), 0, 180, 360)
        side_burns = np.maximum(rect_mask((h, w), cx - a * 1.1, cy - 0.15 * b, cx - a * 0.85, cy + 0.1 * b),
                                rect_mask((h, w), cx + a * 0.85, cy - 0.15 * b, cx + a * 1.1, cy + 0.1 * b))
        fringe = ellipse_mask((h, w), (cx + rng.uniform(-0.3, 0.3) * a, cy - 0.5 * b), (a * 0.95, 0.3 * b))
        add(np.maximum(np.maximum(cap, side_burns), fringe), hair_img)
    elif style.hair_style == "curly":
        for _ in range(14):
            ang = rng.uniform(np.pi * 1.05, np.pi * 1.95)
            r = rng.uniform(0.95, 1.05)
            px, py = cx + np.cos(ang) * a * r, cy - 0.1 * b + np.sin(ang) * b * r
            add(ellipse_mask((h, w), (px, py), (0.3 * a, 0.26 * b)), hair_img)
    if hat is not None:  # a crown over the top of the head and a brim band at the forehead, shaded like the face
        crown = ellipse_mask((h, w), (cx, cy - 0.3 * b), (a * 1.15, b * 0.8), 0, 180, 360)
        brim = ellipse_mask((h, w), (cx, cy - 0.32 * b), (a * 1.22, 0.13 * b))
        add(np.maximum(crown, brim), np.clip(hat[:h, :w] * shade[:, :, None], 0, 1))
    alpha = np.clip(alpha, 0, 1)
    labels = np.full((h, w), HEAD, np.uint8)
    return Layer("head", _premultiply(rgb, alpha), labels, HEAD, anchors={"neck": (cx, cy + 0.95 * b),
                                                                          "face": (cx, cy)})


def make_arm(rng: np.random.Generator, u: float, style: PersonStyle, light: np.ndarray) -> Layer:
    """Forearm and open hand pointing up; anchor ``wrist`` is where the motion model holds it."""
    w, h = int(0.3 * u), int(0.9 * u)
    cx = w / 2.0
    skin = hex_color(style.skin)
    rgb = np.zeros((h, w, 3), np.float32)
    wrist_y = 0.24 * u
    shade = _shade((h, w), (cx, 0.4 * u), (0.12 * u, 0.7 * u), light, ambient=0.7)
    skin_img = np.clip(skin[None, None, :] * shade[:, :, None]
                       * (1 + 0.03 * fine_texture(rng, (h, w), 1.2))[:, :, None], 0, 1)
    forearm = polygon_mask((h, w), [(cx - 0.04 * u, wrist_y), (cx + 0.04 * u, wrist_y),
                                    (cx + 0.065 * u, h + 2), (cx - 0.065 * u, h + 2)])
    paint(rgb, forearm, skin_img)
    alpha = forearm.copy()
    if style.long_sleeves:
        sleeve = polygon_mask((h, w), [(cx - 0.06 * u, wrist_y + 0.12 * u), (cx + 0.06 * u, wrist_y + 0.12 * u),
                                       (cx + 0.08 * u, h + 2), (cx - 0.08 * u, h + 2)])
        paint(rgb, sleeve, _fabric(rng, (h, w), u, hex_color(style.shirt), "plain") * shade[:, :, None])
        alpha = np.maximum(alpha, sleeve)
    palm = ellipse_mask((h, w), (cx, wrist_y - 0.06 * u), (0.052 * u, 0.065 * u))
    hand = palm
    for i, dx in enumerate((-0.036, -0.012, 0.012, 0.036)):
        length = (0.075, 0.09, 0.085, 0.068)[i] * u
        base = (cx + dx * u, wrist_y - 0.1 * u)
        tip = (cx + dx * u * 1.25, base[1] - length)
        hand = np.maximum(hand, polyline_mask((h, w), [base, tip], 0.022 * u))
    hand = np.maximum(hand, polyline_mask((h, w), [(cx - 0.045 * u, wrist_y - 0.04 * u),
                                                   (cx - 0.095 * u, wrist_y - 0.1 * u)], 0.026 * u))
    paint(rgb, hand, skin_img)
    alpha = np.clip(np.maximum(alpha, hand), 0, 1)
    return Layer("arm", _premultiply(rgb, alpha), None, ARM, anchors={"wrist": (cx, wrist_y)})


# ----------------------------------------------------------------------------------------- background


def make_photo_background(rng: np.random.Generator, size: tuple[int, int], split: str = "train"
                          ) -> tuple[Layer, str]:
    """A bundled photograph or a collage of them behind the person (:func:`workbench.data.photos.photo_background`)."""
    from workbench.data.photos import photo_background

    rgb, desc = photo_background(rng, size, split)
    return Layer("background", rgb, None, 0, cv2.BORDER_REFLECT), desc


def with_clutter(rng: np.random.Generator, layer: Layer, desc: str) -> tuple[Layer, str]:
    """The background layer with shaded objects in front of it (:func:`workbench.data.photos.add_clutter`)."""
    from workbench.data.photos import add_clutter

    rgb, n = add_clutter(rng, layer.rgba)
    return Layer(layer.name, rgb, layer.labels, layer.label, layer.border, layer.anchors), f"{desc}+clutter{n}"


def make_background(rng: np.random.Generator, size: tuple[int, int], wall: np.ndarray | None = None,
                    image: np.ndarray | None = None) -> tuple[Layer, str]:
    """A room behind the person (``size`` = canvas W, H), or a user image scaled to cover it.

    ``wall`` forces the wall colour (camouflage: close to the shirt). Returns the layer and a description.
    """
    w, h = size
    if image is not None:
        scale = max(w / image.shape[1], h / image.shape[0])
        resized = cv2.resize(image, (int(np.ceil(image.shape[1] * scale)), int(np.ceil(image.shape[0] * scale))),
                             interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        y0, x0 = (resized.shape[0] - h) // 2, (resized.shape[1] - w) // 2
        rgb = resized[y0:y0 + h, x0:x0 + w].astype(np.float32) / 255.0
        return Layer("background", np.ascontiguousarray(rgb), None, 0, cv2.BORDER_REFLECT), "image"
    base = wall if wall is not None else hex_color(str(rng.choice(WALL_COLORS)))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    # Wall: vertical gradient, a lamp's glow, plaster noise.
    glow_x, glow_y = rng.uniform(0, w), rng.uniform(0, h * 0.5)
    glow = np.exp(-((xs - glow_x) ** 2 + (ys - glow_y) ** 2) / (2 * (0.5 * max(w, h)) ** 2))
    light = 0.8 + 0.15 * (1 - ys / h) + 0.15 * glow
    plaster = 1.0 + 0.03 * smooth_noise(rng, (h, w), 0.2 * h, 3) + 0.02 * fine_texture(rng, (h, w), 1.0)
    rgb = np.clip(base[None, None, :] * (light * plaster)[:, :, None], 0, 1).astype(np.float32)
    parts = []
    for _ in range(int(rng.integers(2, 6))):
        kind = str(rng.choice(["window", "shelf", "frame", "door", "plant", "lamp"]))
        parts.append(kind)
        {"window": _window, "shelf": _shelf, "frame": _frame, "door": _door, "plant": _plant,
         "lamp": _lamp}[kind](rng, rgb, base)
    # A desk edge or a sofa back low in the frame (mostly hidden by the torso).
    if rng.random() < 0.5:
        desk = jitter_color(rng, [0.45, 0.32, 0.2], 0.12)
        top = rng.uniform(0.8, 0.9) * h
        grain = 1 + 0.08 * streaks(rng, (h, w), 0.08 * w, 0.0, 1.0)
        paint(rgb, rect_mask((h, w), -2, top, w + 2, h + 2), desk[None, None, :] * grain[:, :, None])
        parts.append("desk")
    rgb = cv2.GaussianBlur(rgb, (0, 0), 0.6)  # camera optics: no aliased edges in the background
    return Layer("background", np.ascontiguousarray(rgb, np.float32), None, 0, cv2.BORDER_REFLECT), \
        "room(" + ",".join(parts) + ")"


def _box(rng: np.random.Generator, shape: tuple[int, int], wmin: float, wmax: float, hmin: float,
         hmax: float) -> tuple[float, float, float, float]:
    h, w = shape
    bw, bh = rng.uniform(wmin, wmax) * w, rng.uniform(hmin, hmax) * h
    x0, y0 = rng.uniform(-0.1 * w, w - 0.9 * bw), rng.uniform(-0.1 * h, h - 0.9 * bh)
    return x0, y0, x0 + bw, y0 + bh


def _window(rng: np.random.Generator, rgb: np.ndarray, wall: np.ndarray) -> None:
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = _box(rng, (h, w), 0.15, 0.35, 0.3, 0.6)
    frame_c = jitter_color(rng, [0.92, 0.92, 0.9], 0.08)
    paint(rgb, rect_mask((h, w), x0, y0, x1, y1), frame_c)
    t = 0.012 * w
    ys = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    sky = (1 - ys) * np.array([0.6, 0.78, 0.95], np.float32) + ys * np.array([0.85, 0.9, 0.95], np.float32)
    sky = np.broadcast_to(sky, (h, w, 3)).copy()
    if rng.random() < 0.5:  # trees or buildings outside
        outside = jitter_color(rng, [0.35, 0.5, 0.3], 0.15)
        blob = np.clip(smooth_noise(rng, (h, w), 0.06 * w, 3) * 0.8 + 0.2, 0, 1) * (ys[:, :, 0] > 0.4)
        sky = sky * (1 - blob[:, :, None]) + outside * blob[:, :, None]
    paint(rgb, rect_mask((h, w), x0 + t, y0 + t, x1 - t, y1 - t), sky)
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    paint(rgb, rect_mask((h, w), xm - t / 2, y0, xm + t / 2, y1), frame_c)
    paint(rgb, rect_mask((h, w), x0, ym - t / 2, x1, ym + t / 2), frame_c)
    if rng.random() < 0.6:  # a curtain
        curtain = jitter_color(rng, wall * 0.7, 0.2)
        fold = 1 + 0.15 * np.sin(np.arange(w, dtype=np.float32) / (0.01 * w))[None, :]
        side = x0 - 0.05 * w if rng.random() < 0.5 else x1 - 0.03 * w
        paint(rgb, rect_mask((h, w), side, y0 - 0.05 * h, side + 0.08 * w, y1 + 0.05 * h),
              curtain[None, None, :] * fold[:, :, None])


def _shelf(rng: np.random.Generator, rgb: np.ndarray, wall: np.ndarray) -> None:
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = _box(rng, (h, w), 0.2, 0.4, 0.35, 0.8)
    wood = jitter_color(rng, [0.45, 0.3, 0.18], 0.15)
    paint(rgb, rect_mask((h, w), x0, y0, x1, y1), wood * 0.6)
    rows = int(rng.integers(2, 5))
    row_h = (y1 - y0) / rows
    for r in range(rows):
        bottom = y0 + (r + 1) * row_h
        x = x0 + 0.01 * w
        while x < x1 - 0.02 * w:  # books of random width, height and colour
            bw = rng.uniform(0.008, 0.025) * w
            bh = rng.uniform(0.55, 0.9) * row_h
            color = jitter_color(rng, rng.uniform(0.15, 0.8, 3), 0.0)
            paint(rgb, rect_mask((h, w), x, bottom - bh - 0.01 * h, min(x + bw, x1 - 0.01 * w), bottom - 0.01 * h),
                  color)
            x += bw + rng.uniform(0.0, 0.004) * w
        paint(rgb, rect_mask((h, w), x0, bottom - 0.012 * h, x1, bottom), wood)


def _frame(rng: np.random.Generator, rgb: np.ndarray, wall: np.ndarray) -> None:
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = _box(rng, (h, w), 0.08, 0.2, 0.12, 0.3)
    paint(rgb, rect_mask((h, w), x0, y0, x1, y1), jitter_color(rng, [0.2, 0.15, 0.1], 0.1))
    t = 0.01 * w
    art = np.clip(0.5 + 0.25 * np.stack([smooth_noise(rng, (h, w), 0.05 * w, 2) for _ in range(3)], 2), 0, 1)
    paint(rgb, rect_mask((h, w), x0 + t, y0 + t, x1 - t, y1 - t), art)


def _door(rng: np.random.Generator, rgb: np.ndarray, wall: np.ndarray) -> None:
    h, w = rgb.shape[:2]
    x0 = rng.uniform(0, w * 0.85)
    x1, y0 = x0 + rng.uniform(0.12, 0.2) * w, rng.uniform(0.05, 0.25) * h
    door = jitter_color(rng, [0.55, 0.42, 0.3], 0.15)
    grain = 1 + 0.06 * streaks(rng, (h, w), 0.05 * h, 90.0, 1.0)
    paint(rgb, rect_mask((h, w), x0, y0, x1, h + 2), door[None, None, :] * grain[:, :, None])
    paint(rgb, ellipse_mask((h, w), (x1 - 0.02 * w, y0 + 0.5 * (h - y0)), (0.006 * w, 0.006 * w)), [0.8, 0.75, 0.5])


def _plant(rng: np.random.Generator, rgb: np.ndarray, wall: np.ndarray) -> None:
    h, w = rgb.shape[:2]
    cx, base = rng.uniform(0.05, 0.95) * w, rng.uniform(0.6, 1.0) * h
    pot = jitter_color(rng, [0.6, 0.35, 0.25], 0.15)
    paint(rgb, polygon_mask((h, w), [(cx - 0.04 * w, base - 0.1 * h), (cx + 0.04 * w, base - 0.1 * h),
                                     (cx + 0.03 * w, base), (cx - 0.03 * w, base)]), pot)
    for _ in range(int(rng.integers(6, 14))):
        leaf = jitter_color(rng, [0.2, 0.45, 0.18], 0.12)
        ang = rng.uniform(-160, -20)
        r = rng.uniform(0.05, 0.15) * h
        lx = cx + np.cos(np.radians(ang)) * r
        ly = base - 0.1 * h + np.sin(np.radians(ang)) * r
        paint(rgb, ellipse_mask((h, w), (lx, ly), (0.045 * h, 0.015 * h), ang), leaf)


def _lamp(rng: np.random.Generator, rgb: np.ndarray, wall: np.ndarray) -> None:
    h, w = rgb.shape[:2]
    cx, cy = rng.uniform(0.05, 0.95) * w, rng.uniform(0.1, 0.5) * h
    paint(rgb, polyline_mask((h, w), [(cx, cy), (cx, cy + 0.4 * h)], 0.006 * w), [0.15, 0.15, 0.15])
    shade = jitter_color(rng, [0.95, 0.88, 0.7], 0.05)
    paint(rgb, polygon_mask((h, w), [(cx - 0.03 * w, cy - 0.06 * h), (cx + 0.03 * w, cy - 0.06 * h),
                                     (cx + 0.05 * w, cy + 0.02 * h), (cx - 0.05 * w, cy + 0.02 * h)]), shade)

