"""Photographs that install with the workbench's dependencies, as backgrounds and textures for training data.

Networks trained only on procedural rooms learn that "textured and photographic" means "person", and mark
most of a real room as person. Real photographs fix that, but the workbench downloads nothing, so it uses the
photographs that its dependencies bundle: scikit-image's sample images, matplotlib's sample data and (with the
``dev`` extra) scikit-learn's two sample photographs. Each is assigned to one split:

- ``train`` — backgrounds and clothing textures of training clips;
- ``heldout`` — backgrounds of evaluation clips only (``coffee``, ``rocket``, ``china``): a benchmark over
  them measures backgrounds that training never saw.

Excluded altogether, with the reason in :data:`EXCLUDED`: images of people (a person in a background would
be labelled background), and evaluation material (the Middlebury motorcycle pair, which has true disparity).
The two bundled portraits of real people are :data:`PORTRAITS`: scikit-image's astronaut (Eileen Collins) is
the one real person training may use; matplotlib's Grace Hopper is held out for evaluation.

A photo background (:func:`photo_background`) is a random crop of one photograph, zoomed 1–2.5×, flipped,
colour-jittered (brightness, contrast, saturation, a hue rotation — half of the time to any hue; greyscale
photographs are tinted), and defocused 30 % of the time (σ 0.5–2 px at 320 px width: a webcam focused on the
person). A quarter of them
are collages of two to four photographs in panels, like the furniture and pictures of a room.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from workbench.errors import InputError
from workbench.io.images import image_header

SPLITS = ("train", "heldout")


@dataclass(frozen=True)
class Photo:
    name: str
    package: str  # the distribution that installs it
    path: str  # relative to the package's folder
    split: str  # train | heldout


PHOTOS = (
    Photo("chelsea", "skimage", "data/chelsea.png", "train"),
    Photo("hubble_deep_field", "skimage", "data/hubble_deep_field.jpg", "train"),
    Photo("ihc", "skimage", "data/ihc.png", "train"),
    Photo("retina", "skimage", "data/retina.jpg", "train"),
    Photo("color", "skimage", "data/color.png", "train"),
    Photo("coins", "skimage", "data/coins.png", "train"),
    Photo("brick", "skimage", "data/brick.png", "train"),
    Photo("grass", "skimage", "data/grass.png", "train"),
    Photo("gravel", "skimage", "data/gravel.png", "train"),
    Photo("moon", "skimage", "data/moon.png", "train"),
    Photo("cell", "skimage", "data/cell.png", "train"),
    Photo("clock_motion", "skimage", "data/clock_motion.png", "train"),
    Photo("page", "skimage", "data/page.png", "train"),
    Photo("text", "skimage", "data/text.png", "train"),
    Photo("flower", "sklearn", "datasets/images/flower.jpg", "train"),
    Photo("coffee", "skimage", "data/coffee.png", "heldout"),
    Photo("rocket", "skimage", "data/rocket.jpg", "heldout"),
    Photo("china", "sklearn", "datasets/images/china.jpg", "heldout"),
)
#: bundled images never used as backgrounds or textures, and why
EXCLUDED = {
    "astronaut": "a real person (the training portrait, PORTRAITS)",
    "grace_hopper": "a real person (the held-out evaluation portrait, PORTRAITS)",
    "camera": "a person (the cameraman) who would be labelled background",
    "no_time_for_that_tiny": "a person",
    "lfw_subset": "faces of real people",
    "motorcycle_left/right": "evaluation material: a stereo pair with true disparity (workbench bench flow)",
}
#: the real portraits that install with the dependencies: name → (package, path, split)
PORTRAITS = {
    "astronaut": Photo("astronaut", "skimage", "data/astronaut.png", "train"),
    "grace_hopper": Photo("grace_hopper", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "heldout"),
}


def _package_dir(package: str) -> Path | None:
    """The installed package's folder, without importing it (scikit-image and friends import slowly)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def photo_path(photo: Photo) -> Path | None:
    folder = _package_dir(photo.package)
    path = folder / photo.path if folder is not None else None
    return path if path is not None and path.is_file() else None


def list_photos(split: str = "train") -> list[Photo]:
    """The photographs of ``split`` that are installed here (scikit-learn's need the ``dev`` extra)."""
    if split not in SPLITS:
        raise InputError(f"photo split {split!r}: expected one of {', '.join(SPLITS)}")
    return [p for p in PHOTOS if p.split == split and photo_path(p) is not None]


@functools.lru_cache(maxsize=64)
def load_photo(name: str) -> np.ndarray:
    """``uint8 (H, W, 3)`` RGB of a bundled photograph or portrait (greyscale expanded, alpha dropped)."""
    from PIL import Image

    photo = PORTRAITS.get(name) or next((p for p in PHOTOS if p.name == name), None)
    if photo is None:
        raise InputError(f"unknown photograph {name!r}; expected one of "
                         f"{', '.join(p.name for p in PHOTOS)}, {', '.join(PORTRAITS)}")
    path = photo_path(photo)
    if path is None:
        raise InputError(f"photograph {name!r} is not installed here (it comes with {photo.package})")
    image_header(path, "a bundled photograph")  # the one decode guard: size checked before decoding
    with Image.open(path) as file:  # PIL, not OpenCV: libpng warns about page.png's colour profile on stderr
        image = np.asarray(file.convert("RGB"), np.uint8).copy()
    image.setflags(write=False)  # cached: shared by every caller
    return image


def _jitter(rng: np.random.Generator, rgb: np.ndarray, grey: bool) -> np.ndarray:
    """Brightness, contrast, saturation and hue changes of a float RGB image in [0, 1]."""
    if grey:  # a greyscale photograph: tint it, as a coloured wall or object would be
        tint = rng.uniform(0.55, 1.0, 3).astype(np.float32)
        rgb = rgb * tint / tint.max()
    hsv = cv2.cvtColor(np.clip(rgb, 0, 1).astype(np.float32), cv2.COLOR_RGB2HSV)
    # Half of the time any hue: a background's colour must not tell person from room (skin-toned walls exist).
    shift = rng.uniform(-25, 25) if rng.random() < 0.5 else rng.uniform(0, 360)
    hsv[..., 0] = (hsv[..., 0] + shift) % 360.0  # OpenCV's float hue is in degrees
    hsv[..., 1] *= rng.uniform(0.6, 1.3)
    rgb = cv2.cvtColor(np.clip(hsv, 0, [360, 1, 1]).astype(np.float32), cv2.COLOR_HSV2RGB)
    mean = rgb.mean()
    rgb = (rgb - mean) * rng.uniform(0.7, 1.2) + mean * rng.uniform(0.6, 1.25)
    return np.clip(rgb, 0, 1).astype(np.float32)


def _crop(rng: np.random.Generator, image: np.ndarray, size: tuple[int, int], zoom: tuple[float, float]
          ) -> np.ndarray:
    """A random crop of ``image`` that covers ``size`` (W, H) after a random zoom, as float RGB in [0, 1]."""
    w, h = size
    cover = max(w / image.shape[1], h / image.shape[0]) * rng.uniform(*zoom)
    cw, ch = min(image.shape[1], int(np.ceil(w / cover))), min(image.shape[0], int(np.ceil(h / cover)))
    x0 = int(rng.integers(0, image.shape[1] - cw + 1))
    y0 = int(rng.integers(0, image.shape[0] - ch + 1))
    crop = image[y0:y0 + ch, x0:x0 + cw]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    crop = cv2.resize(np.ascontiguousarray(crop), (w, h), interpolation=cv2.INTER_AREA if cover < 1 else
                      cv2.INTER_CUBIC)
    return crop.astype(np.float32) / 255.0


def photo_background(rng: np.random.Generator, size: tuple[int, int], split: str = "train"
                     ) -> tuple[np.ndarray, str]:
    """A photographic background canvas ``float32 (H, W, 3)`` in [0, 1] of ``size`` (W, H), and its description.

    Everything is drawn from ``rng``; the photographs come from ``split`` (module docstring).
    """
    photos = list_photos(split)
    if not photos:
        raise InputError(f"no {split} photographs are installed (they come with scikit-image)")
    w, h = size

    def one(region: tuple[int, int]) -> tuple[np.ndarray, str]:
        photo = photos[int(rng.integers(len(photos)))]
        image = load_photo(photo.name)
        grey = bool(np.ptp(image.astype(np.int16)[..., 0] - image[..., 1]) < 3)
        return _jitter(rng, _crop(rng, image, region, (1.0, 2.5)), grey), photo.name

    if rng.random() < 0.25:  # a collage: panels side by side, or stacked
        panels = int(rng.integers(2, 5))
        vertical = rng.random() < 0.6
        length = w if vertical else h
        cuts = np.sort(rng.uniform(0.15, 0.85, panels - 1)) * length
        edges = [0, *[int(c) for c in cuts], length]
        rgb = np.zeros((h, w, 3), np.float32)
        names = []
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            if b - a < 2:
                continue
            part, name = one((b - a, h) if vertical else (w, b - a))
            if vertical:
                rgb[:, a:b] = part
            else:
                rgb[a:b] = part
            names.append(name)
        desc = "collage(" + ",".join(names) + ")"
    else:
        rgb, name = one((w, h))
        desc = f"photo({name})"
    # Depth of field: the webcam focuses on the person and the room may be soft — but only sometimes, so that
    # sharpness does not become the cue for "person" (sharp real rooms were marked as person when it was 1 in 2).
    if rng.random() < 0.3:
        sigma = rng.uniform(0.5, 2.0) * w / 320.0
        rgb = cv2.GaussianBlur(rgb, (0, 0), sigma)
        desc += f",blur{sigma:.1f}"
    return np.ascontiguousarray(rgb, np.float32), desc


#: colours of clutter objects: anything, and on purpose skin and hair tones (a background may have them)
_SKIN_LIKE = ((0.87, 0.68, 0.55), (0.76, 0.55, 0.42), (0.55, 0.38, 0.27), (0.36, 0.24, 0.17), (0.93, 0.80, 0.70),
              (0.20, 0.15, 0.12), (0.65, 0.45, 0.25))


def add_clutter(rng: np.random.Generator, rgb: np.ndarray, count: tuple[int, int] = (2, 7)) -> tuple[np.ndarray, int]:
    """Shaded objects in front of a background canvas (``float32 (H, W, 3)`` in [0, 1]; a new array is returned).

    Ellipses, rounded boxes and blobs of 5–45 % of the frame's height, lit from one side with a soft highlight
    and a contact shadow, in random colours — 40 % of them skin or hair tones — and some with a photographic
    texture. Real rooms hold smooth, shaded, skin-coloured things (a cup, a lamp, a sofa, a face in a picture);
    without them a network learns that such a blob is a person.
    """
    from workbench.data.textures import ellipse_mask, polygon_mask, smooth_noise

    H, W = rgb.shape[:2]
    out = rgb.copy()
    n = int(rng.integers(count[0], count[1] + 1))
    for _ in range(n):
        size = rng.uniform(0.05, 0.45) * H
        cx, cy = rng.uniform(-0.1, 1.1) * W, rng.uniform(-0.1, 1.1) * H
        kind = rng.random()
        if kind < 0.45:
            mask = ellipse_mask((H, W), (cx, cy), (size * rng.uniform(0.4, 1.0), size * rng.uniform(0.4, 1.0)),
                                float(rng.uniform(0, 180)))
        elif kind < 0.75:
            a, b = size * rng.uniform(0.3, 1.0), size * rng.uniform(0.3, 1.0)
            mask = polygon_mask((H, W), [(cx - a, cy - b), (cx + a, cy - b), (cx + a, cy + b), (cx - a, cy + b)])
            mask = cv2.GaussianBlur(mask, (0, 0), max(0.8, 0.06 * min(a, b)))  # rounded corners
            mask = np.clip((mask - 0.5) * 4 + 0.5, 0, 1)
        else:  # a blob: a thresholded noise field around the centre
            ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
            radial = 1 - np.hypot(xs - cx, ys - cy) / size
            mask = np.clip((radial + 0.35 * smooth_noise(rng, (H, W), size * 0.5, 2)) * 6, 0, 1)
        if mask.max() <= 0:
            continue
        if rng.random() < 0.4:
            color = np.array(_SKIN_LIKE[int(rng.integers(len(_SKIN_LIKE)))], np.float32)
            color = np.clip(color * rng.uniform(0.85, 1.15, 3), 0, 1)
        else:
            color = rng.uniform(0.05, 0.95, 3).astype(np.float32)
        # Lambert-like shading across the object from a random side, and a soft highlight.
        ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
        angle = rng.uniform(0, 2 * np.pi)
        along = ((xs - cx) * np.cos(angle) + (ys - cy) * np.sin(angle)) / max(size, 1.0)
        shade = np.clip(0.8 + 0.35 * along, 0.35, 1.2)
        hx, hy = cx + 0.4 * size * np.cos(angle), cy + 0.4 * size * np.sin(angle)
        highlight = 0.25 * rng.random() * np.exp(-((xs - hx) ** 2 + (ys - hy) ** 2) / (2 * (0.2 * size) ** 2))
        paint = color[None, None, :] * shade[:, :, None] + highlight[:, :, None]
        if rng.random() < 0.25:
            photos = list_photos("train")
            if photos:
                crop = _crop(rng, load_photo(photos[int(rng.integers(len(photos)))].name), (W, H), (1.0, 3.0))
                paint = paint * (0.5 + crop)
        shadow = cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.08 * size))  # contact shadow on what is behind
        out = out * (1 - 0.25 * shadow[:, :, None])
        out = out * (1 - mask[:, :, None]) + np.clip(paint, 0, 1) * mask[:, :, None]
    return out.astype(np.float32), n


def photo_texture(rng: np.random.Generator, shape: tuple[int, int], split: str = "train") -> np.ndarray:
    """A photographic texture ``float32 (h, w, 3)`` in [0, 1] for clothes or hair: a zoomed-in, jittered crop."""
    photos = list_photos(split)
    if not photos:
        raise InputError(f"no {split} photographs are installed (they come with scikit-image)")
    h, w = shape
    photo = photos[int(rng.integers(len(photos)))]
    image = load_photo(photo.name)
    grey = bool(np.ptp(image.astype(np.int16)[..., 0] - image[..., 1]) < 3)
    return _jitter(rng, _crop(rng, image, (w, h), (1.5, 4.0)), grey)


def labelled_portrait(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A bundled real portrait and its person mask by the MediaPipe teacher: ``(uint8 RGB, uint8 0/1)``.

    Needs the teacher (``make teacher``); the masks are the teacher's (general model, probability > 0.5), as in
    any real material the workbench measures on.
    """
    from workbench.seg.teacher import MediaPipeSelfie

    if name not in PORTRAITS:
        raise InputError(f"unknown portrait {name!r}; expected one of {', '.join(PORTRAITS)}")
    image = np.array(load_photo(name))
    teacher = MediaPipeSelfie(0)
    try:
        mask = (teacher.segment(image) > 0.5).astype(np.uint8)
    finally:
        teacher.close()
    return image, mask


def write_portraits(out: str | Path, names: list[str], overwrite: bool = False) -> list[Path]:
    """Write bundled portraits as ``out/images/<name>.png`` and teacher masks ``out/masks/<name>.png`` (0/255),
    the layout ``workbench data animate`` and ``train seg --portraits`` read. The folder appears when complete."""
    from workbench.io.atomic import atomic_dir
    from workbench.io.images import write_image

    pairs = [(name, *labelled_portrait(name)) for name in names]
    with atomic_dir(out, overwrite=overwrite) as tmp:
        (tmp / "images").mkdir()
        (tmp / "masks").mkdir()
        for name, image, mask in pairs:
            write_image(tmp / "images" / f"{name}.png", image)
            write_image(tmp / "masks" / f"{name}.png", mask * 255)
    return [Path(out) / "images" / f"{name}.png" for name in names]


__all__ = ["EXCLUDED", "PHOTOS", "PORTRAITS", "Photo", "labelled_portrait", "list_photos", "load_photo",
           "add_clutter", "photo_background", "photo_path", "photo_texture", "write_portraits"]
