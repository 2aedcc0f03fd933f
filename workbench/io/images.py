"""Image and mask files, and the one decode guard every image read of the package goes through.

Images at this boundary are ``uint8`` RGB ``(H, W, 3)``; OpenCV's BGR order never leaves this module.
Grayscale images are expanded to three channels, RGBA images lose their alpha (use
:func:`read_image_alpha` to keep it), 16-bit images are scaled to 8 bits. Masks are ``uint8 (H, W)``
class ids; :func:`binarize_mask` turns 0/255 (or JPEG-damaged 0/255) files into 0/1, and
:func:`check_mask_values` / :func:`check_binary_mask` refuse masks holding values their layout does not define.

The decode guard (:func:`decode_image`; :func:`image_header` for the header alone): a file is read once, at
most :data:`MAX_FILE_BYTES`; its header's width and height are read first (Pillow parses headers without
decoding pixels) and an image declaring more than :data:`MAX_PIXELS` pixels, a side over :data:`MAX_SIDE` or a
side of 0 is refused **before** any pixel buffer is allocated. A PNG is refused as truncated, corrupt or a
decompression bomb when a chunk declares more bytes than the file has left, or when its declared pixel data
could not come out of the file even at deflate's largest expansion (1032:1).
OpenCV then decodes the pixels; whatever goes wrong (truncated, corrupt, not an image, a size other than the
header's) is an :class:`~workbench.errors.InputError` whose one-line message names the file. Only the
:data:`IMAGE_FORMATS` are parsed at all. A decoded image is therefore at most ``MAX_PIXELS`` × 4 channels ×
2 bytes (16-bit RGBA, 320 MB); a read holds it and at most two converted copies.
"""

from __future__ import annotations

import io
import os
import re
import struct
import warnings
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image

from workbench.errors import InputError
from workbench.io.atomic import write_bytes_atomic

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: Formats the guard lets through to the decoder, recognised by content (Pillow's names; a camera JPEG with extra
#: pictures opens as JPEG and reports "MPO"): those of IMAGE_EXTENSIONS. Anything else — GIF, JPEG 2000, the
#: exotic formats a renamed file may hold — is refused unparsed.
IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "WEBP")

#: Largest image (width × height) any reader decodes: 40 megapixels. An 8K UHD frame (7680×4320, 33 MP) and
#: the photographs of current phones fit; a header declaring more is refused before decoding.
MAX_PIXELS = 40_000_000
#: Longest side accepted, whatever the pixel count (a 40000×1 strip is not a frame).
MAX_SIDE = 32_768
#: Largest image file read into memory (an uncompressed 16-bit RGBA image of MAX_PIXELS is 320 MB).
MAX_FILE_BYTES = 512 * 1024 * 1024
#: Deflate never expands data more than 1032:1 (a 258-byte match coded in 2 bits), so neither can a PNG.
PNG_MAX_EXPANSION = 1032
#: Largest share of mid-gray pixels a lossy (JPEG) binary mask may have (see :func:`check_binary_mask`).
MAX_MID_GRAY_FRACTION = 0.10
MID_GRAY = (32, 224)  # values in [32, 224) are neither near 0 nor near 255

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # IHDR colour type → samples per pixel
_PIL_PIXELS = re.compile(r"\((\d+) pixels\)")


class ImageHeader(NamedTuple):
    """What an image file declares before any pixel is decoded."""

    width: int
    height: int
    format: str  # Pillow's name: "PNG", "JPEG", "BMP", "TIFF", "WEBP", ...
    mode: str  # Pillow's mode: "L", "RGB", "RGBA", "P" (palette), "I;16", ...


def natural_key(text: str) -> list:
    """Sort key that orders ``frame2`` before ``frame10`` (numbers compared as numbers).

    ``re.split`` with a capturing group puts the digit runs at odd positions, so keys always compare number
    with number and text with text (``str.isdigit`` would also take ``²``, which ``int`` refuses).
    """
    return [int(part) if i % 2 else part.lower() for i, part in enumerate(re.split(r"(\d+)", text))]


def list_images(folder: str | Path) -> list[Path]:
    """Image files of ``folder`` in natural order; a clear error if the folder is missing or has none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: folder not found (expected a folder of images)")
    try:
        files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
                 and not p.name.startswith(".")]
    except OSError as exc:
        raise InputError(f"{folder}: cannot list the folder ({exc.strerror or exc})") from None
    if not files:
        raise InputError(f"{folder}: no images found (expected {', '.join(IMAGE_EXTENSIONS)} files)")
    return sorted(files, key=lambda p: natural_key(p.name))


def _read_bytes(path: Path, expected: str) -> bytes:
    """The whole file, at most :data:`MAX_FILE_BYTES`, with errors that name the file."""
    if not path.is_file():
        what = "not a regular file" if path.exists() else "file not found"  # a folder, or a pipe never opened
        raise InputError(f"{path}: {what} (expected {expected})")
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise InputError(f"{path}: file is over {MAX_FILE_BYTES // 2**20} MiB (MAX_FILE_BYTES), expected "
                                 f"{expected}")
            data = file.read(size + 1)  # read(n) allocates n bytes up front: never more than the file's size
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc}), expected {expected}") from None
    if not data:
        raise InputError(f"{path}: file is empty (0 bytes), expected {expected}")
    if len(data) > size:
        raise InputError(f"{path}: the file grew while it was read, expected {expected}")
    return data


def _check_size(path: Path, width: int, height: int) -> None:
    """Refuse a declared size of 0, a side over :data:`MAX_SIDE` or more than :data:`MAX_PIXELS` pixels."""
    if width < 1 or height < 1:
        raise InputError(f"{path}: image header declares {width}x{height} pixels; expected a width and height of "
                         "at least 1 (corrupt file)")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise InputError(f"{path}: image header declares {width}x{height} pixels, a side over the limit of "
                         f"{MAX_SIDE:,} (workbench.io.images.MAX_SIDE); refused before decoding")
    if width * height > MAX_PIXELS:
        raise InputError(f"{path}: image header declares {width}x{height} = {width * height:,} pixels, over the "
                         f"limit of {MAX_PIXELS:,} (workbench.io.images.MAX_PIXELS); refused before decoding")


def _check_png(path: Path, data: bytes) -> None:
    """PNG only: every chunk fits in the file (OpenCV allocates a chunk's declared length before reading it:
    2 GB for a corrupt 2 kB file), the size in IHDR (read here so that it is checked even where Pillow stops
    first), and that the declared pixel data can come out of a file this long at deflate's largest expansion."""
    if not data.startswith(_PNG_SIGNATURE) or len(data) < 26 or data[12:16] != b"IHDR":
        return  # not a PNG, or a broken one that Pillow reports
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        left = len(data) - pos - 12  # after this chunk's length, type and CRC
        if length > left:
            raise InputError(f"{path}: PNG chunk {kind!r} at byte {pos:,} declares {length:,} bytes but "
                             f"{max(left, 0):,} are left (truncated or corrupt file); refused before decoding")
        if kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    _check_size(path, width, height)
    channels = _PNG_CHANNELS.get(colour)
    if channels is None or depth not in (1, 2, 4, 8, 16):
        raise InputError(f"{path}: PNG header declares bit depth {depth} and colour type {colour} (corrupt file)")
    row_bytes = 1 + (width * channels * depth + 7) // 8  # one filter byte per row
    if height * row_bytes > PNG_MAX_EXPANSION * len(data):
        raise InputError(f"{path}: PNG header declares {width}x{height} pixels, which cannot fit in the file's "
                         f"{len(data):,} bytes (truncated, or a decompression bomb); refused before decoding")


def _header(path: Path, data: bytes) -> ImageHeader:
    """The guard's first half: the declared size, checked before anything is decoded."""
    _check_png(path, data)
    try:
        with warnings.catch_warnings():
            # Pillow warns about corrupt metadata (TIFF/EXIF tags) and, above 89 MP, of a decompression bomb
            # (it raises above 179 MP); the guard gives the one verdict, so its warnings are not shown
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as im:
                header = ImageHeader(int(im.size[0]), int(im.size[1]), str(im.format), str(im.mode))
    except Image.DecompressionBombError as exc:
        match = _PIL_PIXELS.search(str(exc))
        declared = f"{int(match.group(1)):,} pixels" if match else f"over {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels"
        raise InputError(f"{path}: image header declares {declared}, over the limit of {MAX_PIXELS:,} "
                         "(workbench.io.images.MAX_PIXELS); refused before decoding") from None
    except Image.UnidentifiedImageError:
        raise InputError(f"{path}: cannot decode as an image (not a PNG, JPEG, BMP, TIFF or WebP file)") from None
    except Exception as exc:  # Pillow raises many types for corrupt headers (OSError, SyntaxError, struct.error…)
        raise InputError(f"{path}: cannot decode as an image (unreadable header: {_one_line(exc)})") from None
    _check_size(path, header.width, header.height)
    return header


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def image_header(path: str | Path, expected: str = "an image") -> ImageHeader:
    """Width, height, format and mode an image file declares, checked by the decode guard (nothing decoded).

    Raises :class:`~workbench.errors.InputError` for what :func:`decode_image` would refuse before decoding.
    """
    path = Path(path)
    return _header(path, _read_bytes(path, expected))


def _check_decoded(path: Path, array: np.ndarray, header: ImageHeader) -> np.ndarray:
    if array.shape[:2] != (header.height, header.width):
        raise InputError(f"{path}: decoded {array.shape[1]}x{array.shape[0]} pixels but the header declares "
                         f"{header.width}x{header.height} (corrupt file)")
    return array


def _imdecode(path: Path, data: bytes, header: ImageHeader) -> np.ndarray:
    """The guard's second half: OpenCV decodes bytes whose header passed :func:`_header`."""
    try:
        array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise InputError(f"{path}: cannot decode as an image ({_one_line(exc)})") from None
    if array is None or array.size == 0:
        raise InputError(f"{path}: cannot decode as an image (corrupt, truncated or unsupported format)")
    return _check_decoded(path, array, header)


def decode_image(path: str | Path, expected: str = "an image") -> np.ndarray:
    """Decode an image file as stored: BGR/BGRA/gray, 8- or 16-bit, the OpenCV layout (the decode guard).

    ``expected`` completes messages such as "file not found (expected ...)". Every failure, including a
    header declaring more than :data:`MAX_PIXELS` pixels, is an :class:`~workbench.errors.InputError` naming
    the file (module docstring).
    """
    path = Path(path)
    data = _read_bytes(path, expected)
    return _imdecode(path, data, _header(path, data))


def _to_8bit(path: Path, array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint16:
        return (array >> 8).astype(np.uint8)  # 16-bit PNG/TIFF: keep the high byte
    if array.dtype != np.uint8:
        raise InputError(f"{path}: unsupported pixel type {array.dtype} (expected 8- or 16-bit)")
    return array


def read_image_alpha(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Read an image as ``uint8`` RGB ``(H, W, 3)`` plus its alpha ``(H, W)`` (``None`` if it has none)."""
    path = Path(path)
    array = _to_8bit(path, decode_image(path))
    alpha = None
    if array.ndim == 2:
        rgb = np.repeat(array[:, :, None], 3, axis=2)
    elif array.ndim == 3 and array.shape[2] == 4:
        alpha = np.ascontiguousarray(array[:, :, 3])
        rgb = cv2.cvtColor(array, cv2.COLOR_BGRA2RGB)
    elif array.ndim == 3 and array.shape[2] == 3:
        rgb = cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
    else:
        raise InputError(f"{path}: {array.shape[2:] or '?'} channels, expected a gray, RGB or RGBA image")
    return np.ascontiguousarray(rgb), alpha


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as ``uint8`` RGB ``(H, W, 3)`` (gray expanded, alpha dropped)."""
    return read_image_alpha(path)[0]


def read_mask(path: str | Path) -> np.ndarray:
    """Read a mask as ``uint8 (H, W)`` values as stored (class ids, or 0/255).

    Palette PNGs (DAVIS) give their palette indices. Colour files are accepted only when their three
    channels are equal (a gray mask saved as RGB); otherwise the message says what was found. Which values
    are valid depends on the layout: see :func:`check_mask_values` and :func:`check_binary_mask`.
    """
    path = Path(path)
    data = _read_bytes(path, "a mask image")
    header = _header(path, data)
    if header.format == "PNG" and header.mode == "P":
        # OpenCV validates the file as for every image (Pillow accepts some truncated PNGs); Pillow gives indices
        _imdecode(path, data, header)
        try:
            with Image.open(io.BytesIO(data), formats=["PNG"]) as im:
                indices = np.array(im, dtype=np.uint8)
        except Exception as exc:  # PIL raises many types for corrupt files
            raise InputError(f"{path}: cannot decode as an image ({_one_line(exc)})") from None
        if indices.ndim != 2:
            raise InputError(f"{path}: palette image decoded with shape {indices.shape}, expected (H, W)")
        return _check_decoded(path, indices, header)
    array = _to_8bit(path, _imdecode(path, data, header))
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


def _shown(values: np.ndarray, limit: int = 6) -> str:
    """``3, 7, 128, ...``: the first few of sorted distinct values."""
    return ", ".join(f"{v:g}" for v in values[:limit].tolist()) + (", ..." if len(values) > limit else "")


def check_binary_mask(mask: np.ndarray, path: str | Path, lossy: bool = False) -> np.ndarray:
    """Accept a binary mask and return it as 0/1 ``uint8``; anything else is an error naming the stray values.

    Strict (``lossy=False``): only 0/255 or only 0/1. ``lossy=True`` (a JPEG file): exact 0/1 is kept, and
    otherwise the JPEG-damaged 0/255 mask is binarised at 128 — unless more than
    :data:`MAX_MID_GRAY_FRACTION` of its pixels are mid-gray (32..223), which JPEG damage (a few pixels along
    edges) never produces but a gray or soft mask does; binarising that would silently lose the person.
    """
    values = np.unique(mask)
    if np.all(np.isin(values, (0, 1))) or (not lossy and np.all(np.isin(values, (0, 255)))):
        return (mask > 0).astype(np.uint8)
    if not lossy:
        raise InputError(f"{path}: mask has values {_shown(values)}; expected only 0 and 255 (or 0 and 1)")
    mid = (mask >= MID_GRAY[0]) & (mask < MID_GRAY[1])
    fraction = float(np.count_nonzero(mid)) / max(mask.size, 1)
    if fraction > MAX_MID_GRAY_FRACTION:
        stray = np.unique(np.rint(mask[mid]).astype(np.int64))
        raise InputError(f"{path}: {100 * fraction:.1f} % of the mask's pixels are mid-gray (values {_shown(stray)}); "
                         "expected a 0/255 mask (JPEG damage along edges is tolerated)")
    return binarize_mask(mask)


def check_mask_values(mask: np.ndarray, path: str | Path, num_classes: int) -> np.ndarray:
    """Return ``mask`` unchanged if every value is a class id ``0..num_classes-1`` or 255 (ignore).

    Otherwise an :class:`~workbench.errors.InputError` names the file and the stray values: a mask of
    0/128 or an anti-aliased 0..255 mask would otherwise be scored as wrong classes or as "ignore" and give a
    silently meaningless IoU.
    """
    values = np.unique(mask)
    stray = values[(values >= num_classes) & (values != 255)]
    if stray.size:
        ids = "0" if num_classes == 1 else f"0..{num_classes - 1}"
        raise InputError(f"{path}: mask has values {_shown(stray)}; expected class ids {ids} ({num_classes} "
                         "classes) or 255 (ignore)")
    return mask


def encode_image(image: np.ndarray, suffix: str = ".png", quality: int | None = None) -> bytes:
    """Encode ``uint8`` RGB ``(H, W, 3)`` or gray ``(H, W)`` as file bytes in the format of ``suffix``;
    ``quality`` (1–100) for JPEG and WebP (OpenCV's default: 95)."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected uint8 (H, W) or (H, W, 3), got {image.dtype} {image.shape}")
    array = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    params = []
    if quality is not None:
        flag = cv2.IMWRITE_WEBP_QUALITY if suffix.lower() == ".webp" else cv2.IMWRITE_JPEG_QUALITY
        params = [flag, int(quality)]
    ok, buffer = cv2.imencode(suffix, array, params)
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
