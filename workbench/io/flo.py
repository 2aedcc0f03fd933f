"""Optical flow files: Middlebury ``.flo`` and KITTI 16-bit PNG.

Flow is ``float32 (2, H, W)`` in pixels, channel 0 = dx (+right), channel 1 = dy (+down).

``.flo`` (Middlebury): little-endian; float32 tag 202021.25 (the bytes "PIEH"); int32 width; int32 height;
then H·W interleaved (u, v) float32 pairs, row-major. |u| or |v| > 1e9 marks an unknown vector; readers
return it as NaN when ``unknown_as_nan`` (default) so that metrics can skip it.

KITTI PNG: 16-bit, 3 channels (R, G, B) = (u·64 + 2¹⁵, v·64 + 2¹⁵, valid), unsigned.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from workbench.errors import InputError
from workbench.io.atomic import atomic_file, write_bytes_atomic
from workbench.io.images import MAX_PIXELS, MAX_SIDE, decode_image

FLO_TAG = 202021.25  # "PIEH" read as a little-endian float32
UNKNOWN_THRESHOLD = 1e9
UNKNOWN_VALUE = np.float32(1e10)


def read_flo(path: str | Path, unknown_as_nan: bool = True) -> np.ndarray:
    """Read a Middlebury ``.flo`` file → ``float32 (2, H, W)``.

    The header's size is checked against :data:`~workbench.io.images.MAX_PIXELS` and against the file's
    length before the vectors are read, so a corrupt header can neither allocate nor read more than the file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found (expected a .flo flow file)")
    try:
        with path.open("rb") as file:
            header = file.read(12)
            if len(header) < 12:
                raise InputError(f"{path}: {len(header)} bytes, too short for a .flo header (12 bytes)")
            tag = np.frombuffer(header, "<f4", 1, 0)[0]
            if tag != np.float32(FLO_TAG):
                raise InputError(f"{path}: wrong .flo tag {header[:4]!r}, expected b'PIEH' (202021.25)")
            width, height = (int(v) for v in np.frombuffer(header, "<i4", 2, 4))
            if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
                raise InputError(f"{path}: implausible .flo size {width}x{height} (expected sides of 1..{MAX_SIDE:,})")
            if width * height > MAX_PIXELS:
                raise InputError(f"{path}: .flo header declares {width}x{height} = {width * height:,} vectors, over "
                                 f"the limit of {MAX_PIXELS:,} (workbench.io.images.MAX_PIXELS)")
            expected = 12 + 8 * width * height
            size = os.fstat(file.fileno()).st_size
            if size != expected:
                raise InputError(f"{path}: {size} bytes, expected {expected} for a {width}x{height} .flo "
                                 "(truncated or padded)")
            body = file.read(expected - 12 + 1)  # one byte more: a file that grew since fstat is caught too
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc}), expected a .flo flow file") from None
    if len(body) != expected - 12:
        raise InputError(f"{path}: {12 + len(body)} bytes, expected {expected} for a {width}x{height} .flo "
                         "(the file changed while it was read)")
    uv = np.frombuffer(body, "<f4").reshape(height, width, 2)
    flow = np.ascontiguousarray(uv.transpose(2, 0, 1), dtype=np.float32)  # (2, H, W)
    if unknown_as_nan:
        unknown = ~(np.abs(flow) <= UNKNOWN_THRESHOLD).all(axis=0)  # NaN in the file is unknown too
        if unknown.any():
            flow[:, unknown] = np.nan
    return flow


def flo_bytes(flow: np.ndarray) -> bytes:
    """Encode ``(2, H, W)`` flow as ``.flo`` bytes; NaN entries become the 'unknown' value 1e10."""
    flow = np.asarray(flow)
    if flow.ndim != 3 or flow.shape[0] != 2:
        raise ValueError(f"flow must be (2, H, W), got {flow.shape}")
    _, height, width = flow.shape
    uv = np.ascontiguousarray(flow.transpose(1, 2, 0), dtype="<f4")
    if np.isnan(uv).any():
        uv = uv.copy()
        uv[np.isnan(uv).any(axis=2)] = UNKNOWN_VALUE
    header = np.array([FLO_TAG], "<f4").tobytes() + np.array([width, height], "<i4").tobytes()
    return header + uv.tobytes()


def write_flo(path: str | Path, flow: np.ndarray) -> None:
    """Write ``(2, H, W)`` flow as a Middlebury ``.flo`` file (atomically)."""
    write_bytes_atomic(path, flo_bytes(flow))


def read_kitti_flow(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a KITTI flow PNG → (``float32 (2, H, W)`` flow, ``bool (H, W)`` valid)."""
    path = Path(path)
    array = decode_image(path, "a KITTI 16-bit flow PNG")
    if array.dtype != np.uint16 or array.ndim != 3 or array.shape[2] != 3:
        raise InputError(f"{path}: {array.dtype} with shape {array.shape}, expected a 16-bit 3-channel PNG")
    bgr = array.astype(np.float32)
    valid = bgr[:, :, 0] > 0  # OpenCV order: channel 0 is KITTI's B = valid flag
    flow = np.stack([(bgr[:, :, 2] - 2**15) / 64.0, (bgr[:, :, 1] - 2**15) / 64.0])
    flow[:, ~valid] = 0.0
    return flow.astype(np.float32), valid


def write_kitti_flow(path: str | Path, flow: np.ndarray, valid: np.ndarray | None = None) -> None:
    """Write flow as a KITTI 16-bit PNG (range ±512 px, 1/64 px steps); NaN or ``~valid`` → invalid."""
    flow = np.asarray(flow, dtype=np.float32)
    if flow.ndim != 3 or flow.shape[0] != 2:
        raise ValueError(f"flow must be (2, H, W), got {flow.shape}")
    ok = np.isfinite(flow).all(axis=0)
    if valid is not None:
        ok &= np.asarray(valid, bool)
    encoded = np.clip(np.nan_to_num(flow) * 64.0 + 2**15, 0, 2**16 - 1)
    encoded = np.rint(encoded).astype(np.uint16)
    bgr = np.stack([ok.astype(np.uint16), encoded[1], encoded[0]], axis=2)
    bgr[~ok, 1:] = 0
    with atomic_file(path, suffix=".png") as tmp:
        cv2.imwrite(str(tmp), bgr)
