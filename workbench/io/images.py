"""Image and mask files.

Images at this boundary are ``uint8`` RGB ``(H, W, 3)``; OpenCV's BGR order never leaves this module.
Grayscale images are expanded to three channels, RGBA images lose their alpha (use
:func:`read_image_alpha` to keep it), 16-bit images are scaled to 8 bits. Masks are ``uint8 (H, W)``
class ids; :func:`binarize_mask` turns 0/255 (or JPEG-damaged 0/255) files into 0/1.
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from workbench.errors import InputError
from workbench.io.atomic import write_bytes_atomic

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def natural_key(text: str) -> list:
    """Sort key that orders ``frame2`` before ``frame10`` (numbers compared as numbers)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def list_images(folder: str | Path) -> list[Path]:
    """Image files of ``folder`` in natural order; a clear error if the folder is missing or has none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: folder not found (expected a folder of images)")
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
             and not p.name.startswith(".")]
    if not files:
        raise InputError(f"{folder}: no images found (expected {', '.join(IMAGE_EXTENSIONS)} files)")
    return sorted(files, key=lambda p: natural_key(p.name))


def _decode(path: Path) -> np.ndarray:
    """Raw decoded array (BGR/BGRA/gray, any depth) with errors that name the file."""
    if not path.is_file():
        raise InputError(f"{path}: file not found (expected an image)")
    data = path.read_bytes()
    if not data:
        raise InputError(f"{path}: file is empty (0 bytes), expected an image")
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None or array.size == 0:
        raise InputError(f"{path}: cannot decode as an image (corrupt or unsupported format)")
    if array.dtype == np.uint16:
        array = (array >> 8).astype(np.uint8)  # 16-bit PNG/TIFF: keep the high byte
    elif array.dtype != np.uint8:
        raise InputError(f"{path}: unsupported pixel type {array.dtype} (expected 8- or 16-bit)")
    return array


def read_image_alpha(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Read an image as ``uint8`` RGB ``(H, W, 3)`` plus its alpha ``(H, W)`` (``None`` if it has none)."""
    path = Path(path)
    array = _decode(path)
    alpha = None
    if array.ndim == 2:
        rgb = np.repeat(array[:, :, None], 3, axis=2)
    elif array.shape[2] == 4:
        alpha = np.ascontiguousarray(array[:, :, 3])
        rgb = cv2.cvtColor(array, cv2.COLOR_BGRA2RGB)
    elif array.shape[2] == 3:
        rgb = cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
    else:
        raise InputError(f"{path}: {array.shape[2]} channels, expected a gray, RGB or RGBA image")
    return np.ascontiguousarray(rgb), alpha


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as ``uint8`` RGB ``(H, W, 3)`` (gray expanded, alpha dropped)."""
    return read_image_alpha(path)[0]


def read_mask(path: str | Path) -> np.ndarray:
    """Read a mask as ``uint8 (H, W)`` values as stored (class ids, or 0/255).

    Palette PNGs (DAVIS) give their palette indices. Colour files are accepted only when their three
    channels are equal (a gray mask saved as RGB); otherwise the message says what was found.
    """
    path = Path(path)
    if path.suffix.lower() == ".png" and path.is_file() and path.stat().st_size > 0:
        try:
            with Image.open(path) as im:
                if im.mode == "P":
                    return np.array(im, dtype=np.uint8)
        except Exception as exc:  # PIL raises many types for corrupt files
            raise InputError(f"{path}: cannot decode as an image ({exc})") from None
    array = _decode(path)
    if array.ndim == 3:
        channels = array[:, :, :3]
        if not (np.array_equal(channels[:, :, 0], channels[:, :, 1])
                and np.array_equal(channels[:, :, 0], channels[:, :, 2])):
            raise InputError(f"{path}: colour mask, expected a single-channel mask of class ids or 0/255")
        array = channels[:, :, 0]
    return np.ascontiguousarray(array)


def binarize_mask(mask: np.ndarray, threshold: int = 128) -> np.ndarray:
    """0/255 (possibly JPEG-damaged) mask → 0/1 ``uint8`` by ``value >= threshold``.

    The FUNet seed never re-binarised its JPEG ground truth; this is the fix.
    """
    return (mask >= threshold).astype(np.uint8)


def check_binary_mask(mask: np.ndarray, path: str | Path) -> np.ndarray:
    """Accept a strict 0/255 (or 0/1) mask and return it as 0/1; anything else is an error."""
    values = np.unique(mask)
    if np.all(np.isin(values, (0, 255))) or np.all(np.isin(values, (0, 1))):
        return (mask > 0).astype(np.uint8)
    shown = ", ".join(str(v) for v in values[:6]) + (", ..." if len(values) > 6 else "")
    raise InputError(f"{path}: mask has values {shown}; expected only 0 and 255")


def encode_image(image: np.ndarray, suffix: str = ".png") -> bytes:
    """Encode ``uint8`` RGB ``(H, W, 3)`` or gray ``(H, W)`` as file bytes in the format of ``suffix``."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected uint8 (H, W) or (H, W, 3), got {image.dtype} {image.shape}")
    array = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, buffer = cv2.imencode(suffix, array)
    if not ok:
        raise InputError(f"cannot encode an image as {suffix!r} (unsupported extension?)")
    return buffer.tobytes()


def write_image(path: str | Path, image: np.ndarray) -> None:
    """Write ``uint8`` RGB ``(H, W, 3)`` (or a gray ``(H, W)`` mask) atomically; format from the suffix."""
    path = Path(path)
    write_bytes_atomic(path, encode_image(image, path.suffix or ".png"))


def write_mask(path: str | Path, mask: np.ndarray) -> None:
    """Write class ids ``uint8 (H, W)`` as a single-channel PNG."""
    if mask.ndim != 2:
        raise ValueError(f"write_mask expects (H, W), got {mask.shape}")
    write_image(path, np.ascontiguousarray(mask, dtype=np.uint8))
