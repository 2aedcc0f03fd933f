"""Property-based fuzzing of every reader (issue 15): only ``InputError`` escapes, and memory stays bounded.

Each property feeds readers files made by mutating small valid ones — bit flips, overwritten, inserted and
deleted bytes, truncation, integers and declared sizes set to awkward values, PNG chunk CRCs recomputed so
that mutations get past libpng's checksums — and asserts, for every call:

- the reader returns a well-formed result or raises :class:`~workbench.errors.InputError` with a one-line
  message naming the file (single-file readers) or a path inside the dataset (layouts); any other exception
  fails the test (Hypothesis then shrinks it to a minimal file);
- the memory grown during the call stays under :data:`MEMORY_BOUND` (200 MB): both tracemalloc's peak
  (numpy and Python allocations) and the peak resident set size (OpenCV's and Pillow's C allocations, reset
  per call through ``/proc/self/clear_refs``; that half is skipped where the file cannot be written).

Examples run with the decode guard's ``MAX_PIXELS`` lowered to :data:`FUZZ_MAX_PIXELS` (4 MP), so that the
bound holds by construction (a guarded decode holds at most ``MAX_PIXELS`` × 8 bytes plus a few copies); at
the shipped 40 MP a genuine image may need more than 200 MB. The regression cases below use the shipped limit.

Readers covered: ``decode_image``, ``image_header``, ``read_image_alpha``, ``read_mask``, ``read_davis_mask``,
``read_kitti_flow`` (PNG, JPEG — baseline, progressive, gray —, BMP, TIFF and WebP seeds), ``read_flo``,
``ClipFolder`` with fuzzed ``meta.json``, and ``describe_layout`` / ``open_dataset`` / ``dataset_info`` /
``format_info`` with every frame, mask and flow of clip folders, folders of clips, FUNet, DAVIS, image
folders (with a mask folder) and video files whose files are mutated, deleted or joined by stray files.

Two runs:

- default (plain ``pytest``): every property runs a fixed, derandomized set of examples; the whole file
  takes well under 60 s on one core;
- the long run: tests marked ``fuzz``, skipped unless the environment variable ``WORKBENCH_FUZZ=1`` is set,
  with random examples, ``WORKBENCH_FUZZ_EXAMPLES`` per property (default 2000), and a closing table of
  how many calls each reader got and how many ended in ``InputError``::

      WORKBENCH_FUZZ=1 .venv/bin/python -m pytest -m fuzz tests/io/test_fuzz_readers.py

  (add ``--hypothesis-show-statistics`` for Hypothesis's own per-test counts and timings).
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import re
import shutil
import struct
import tempfile
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from workbench.data.info import dataset_info, format_info
from workbench.errors import InputError
from workbench.io import flo, images
from workbench.io.clips import ClipFolder, ClipWriter
from workbench.io.davis import read_davis_mask
from workbench.io.detect import describe_layout, open_dataset
from workbench.io.flo import flo_bytes, read_flo, read_kitti_flow, write_kitti_flow
from workbench.io.images import decode_image, image_header, natural_key, read_image, read_image_alpha, read_mask
from workbench.io.video import VideoWriter

MEMORY_BOUND = 200 * 2**20
FUZZ_MAX_PIXELS = 4_000_000
SHIPPED_MAX_PIXELS = images.MAX_PIXELS
LONG_RUN = os.environ.get("WORKBENCH_FUZZ") == "1"
LONG_EXAMPLES = int(os.environ.get("WORKBENCH_FUZZ_EXAMPLES", "2000"))
COUNTS: collections.Counter[str] = collections.Counter()
ERRORS: collections.Counter[str] = collections.Counter()
LAST_ERROR: list[str] = [""]  # the message of the latest InputError call() caught

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
           HealthCheck.large_base_example]
QUICK = settings(deadline=None, derandomize=True, database=None, suppress_health_check=_HEALTH)
LONG = settings(deadline=None, database=None, max_examples=LONG_EXAMPLES, suppress_health_check=_HEALTH)


# --- memory and outcome of one call ----------------------------------------------------------------------

_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status() -> dict[str, int]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024
    return fields


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux ≥ 4.0); False where it cannot be done."""
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def call(name: str, fn: Callable[..., Any], *args: Any, names: str | Path | None = None) -> Any:
    """``fn(*args)``: its result, or ``None`` after an ``InputError`` whose message is one line and contains
    ``names``; any other exception propagates. Either way the call's memory must stay under MEMORY_BOUND."""
    COUNTS[name] += 1
    rss = _reset_peak_rss()
    start_rss = _status()["VmRSS"] if rss else 0
    tracing = tracemalloc.is_tracing()  # e.g. python -X tracemalloc: keep it on
    if tracing:
        tracemalloc.reset_peak()
    else:
        tracemalloc.start()  # traced during the call only: tracing Hypothesis itself would triple the run time
    start_traced = tracemalloc.get_traced_memory()[0]
    try:
        result = fn(*args)
    except InputError as exc:
        ERRORS[name] += 1
        message = LAST_ERROR[0] = str(exc)
        assert message and "\n" not in message, f"{name}: message not one line: {message!r}"
        if names is not None:
            assert str(names) in message, f"{name}: message does not name {names}: {message!r}"
        result = None
    finally:
        traced = tracemalloc.get_traced_memory()[1] - start_traced
        if not tracing:
            tracemalloc.stop()
        grown = _status()["VmHWM"] - start_rss if rss else 0
    assert traced < MEMORY_BOUND, f"{name}: {traced / 2**20:.0f} MB of Python/numpy memory"
    assert grown < MEMORY_BOUND, f"{name}: resident memory grew by {grown / 2**20:.0f} MB"
    return result


@pytest.fixture(scope="module", autouse=True)
def fuzz_limits(request):
    """Lowered MAX_PIXELS (module docstring), and the long run's table of counts at the end."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(images, "MAX_PIXELS", FUZZ_MAX_PIXELS)
        mp.setattr(flo, "MAX_PIXELS", FUZZ_MAX_PIXELS)
        yield
    if LONG_RUN and COUNTS:
        width = max(len(name) for name in COUNTS)
        lines = ["", f"{'reader'.ljust(width)}  {'calls':>8}  {'InputError':>10}"]
        lines += [f"{name.ljust(width)}  {COUNTS[name]:>8}  {ERRORS[name] or '':>10}" for name in sorted(COUNTS)]
        capture = request.config.pluginmanager.getplugin("capturemanager")  # print past pytest's capture
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            print("\n".join(lines), flush=True)


def refused(pattern: str, name: str, fn: Callable[..., Any], *args: Any) -> None:
    """``fn(*args)`` raises an InputError matching ``pattern``, within the memory bound of :func:`call`."""
    LAST_ERROR[0] = ""
    assert call(name, fn, *args) is None and LAST_ERROR[0], f"{name} returned instead of refusing"
    assert re.search(pattern, LAST_ERROR[0]), LAST_ERROR[0]


@pytest.fixture
def shipped_limits():
    """The regression cases check the shipped limits, not the lowered fuzz one."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(images, "MAX_PIXELS", SHIPPED_MAX_PIXELS)
        mp.setattr(flo, "MAX_PIXELS", SHIPPED_MAX_PIXELS)
        yield


def two_runs(prop: Callable[..., None], strategy: st.SearchStrategy, quick_examples: int):
    """(quick test, long ``fuzz`` test) of one property (module docstring)."""
    quick = settings(QUICK, max_examples=quick_examples)(given(strategy)(prop))
    long = given(strategy)(prop)
    long = settings(LONG)(long)
    long = pytest.mark.fuzz(pytest.mark.skipif(not LONG_RUN, reason="long fuzz run: set WORKBENCH_FUZZ=1")(long))
    return quick, long


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A fresh folder per example (function-scoped fixtures do not reset between Hypothesis examples)."""
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- seed files and mutations ----------------------------------------------------------------------------

def _encode(ext: str, array: np.ndarray, *params: int) -> bytes:
    ok, buffer = cv2.imencode(ext, array, list(params))
    assert ok, ext
    return buffer.tobytes()


def _pil(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _jpeg_sof(data: bytes) -> int | None:
    """Offset of the height field of a JPEG's frame header (SOF0/SOF2)."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            return pos + 5
        pos += 2 + length
    return None


def _seeds() -> dict[str, tuple[bytes, list[tuple[int, str]]]]:
    """Small valid files → (bytes, size fields as (offset, struct format of (width, height) or (h, w)))."""
    rng = np.random.default_rng(15)
    y, x = np.mgrid[0:24, 0:32]
    smooth = np.stack([x * 8, y * 10, (x + y) * 4], axis=2).astype(np.uint8)
    noisy = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    mask = ((x - 16) ** 2 + (y - 12) ** 2 < 60).astype(np.uint8) * 255
    ids = np.zeros((24, 32), np.uint8)
    ids[4:12, 4:14], ids[14:20, 18:30], ids[0] = 1, 2, 255
    palette = Image.fromarray(ids, mode="P")
    palette.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [200] * (253 * 3))
    kitti = np.stack([np.ones((24, 32)), 2**15 + y * 64, 2**15 - x * 64], axis=2).astype(np.uint16)
    png = [(16, ">II")]  # IHDR width, height
    files = {
        "rgb.png": (_encode(".png", smooth), png),
        "rgba.png": (_encode(".png", np.dstack([smooth, mask])), png),
        "gray.png": (_encode(".png", mask), png),
        "gray16.png": (_encode(".png", (mask.astype(np.uint16) * 257)), png),
        "kitti.png": (_encode(".png", kitti), png),
        "palette.png": (_pil(palette, "PNG"), png),
        "bilevel.png": (_pil(Image.fromarray(mask).convert("1"), "PNG"), png),
        "rgb.jpg": (_encode(".jpg", noisy, cv2.IMWRITE_JPEG_QUALITY, 80), []),
        "progressive.jpg": (_encode(".jpg", smooth, cv2.IMWRITE_JPEG_PROGRESSIVE, 1), []),
        "gray.jpg": (_encode(".jpg", mask), []),
        "rgb.bmp": (_encode(".bmp", smooth), [(18, "<ii")]),
        "rgb.tif": (_encode(".tif", smooth), []),
        "rgb.webp": (_encode(".webp", smooth), []),
    }
    for name, (data, fields) in files.items():
        if name.endswith(".jpg"):
            fields.append((_jpeg_sof(data), ">HH"))
    return files


SEEDS = _seeds()
INTERESTING = [0, 1, 2, 7, 0x7F, 0x80, 0xFF, 0x100, 2001, 6000, 18000, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
               0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]
int_values = st.one_of(st.sampled_from(INTERESTING), st.integers(0, 2**32 - 1))
positions = st.one_of(st.integers(0, 63), st.integers(0, 2**16))  # about half the mutations hit the header
OPS = st.one_of(
    st.tuples(st.just("flip"), positions, st.integers(0, 7)),
    st.tuples(st.just("set"), positions, st.integers(0, 255)),
    st.tuples(st.just("insert"), positions, st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), positions, st.integers(1, 64)),
    st.tuples(st.just("truncate"), positions),
    st.tuples(st.just("int"), positions, st.sampled_from(["<H", ">H", "<I", ">I"]), int_values),
    st.tuples(st.just("size"), st.integers(0, 3), int_values, int_values),
)


def _pack(fmt: str, value: int) -> bytes:
    bits = 8 * struct.calcsize(fmt)
    value %= 2**bits
    if fmt[-1].islower() and value >= 2 ** (bits - 1):  # signed field
        value -= 2**bits
    return struct.pack(fmt, value)


def mutate(data: bytes, ops: list[tuple], fields: list[tuple[int, str]], fix_crc: bool) -> bytes:
    out = bytearray(data)
    for op in ops:
        if not out:
            break
        kind, where = op[0], (0 if op[0] == "size" else op[1] % len(out))
        if kind == "flip":
            out[where] ^= 1 << op[2]
        elif kind == "set":
            out[where] = op[2]
        elif kind == "insert":
            out[where:where] = op[2]
        elif kind == "delete":
            del out[where:where + op[2]]
        elif kind == "truncate":
            del out[where:]
        elif kind == "int":
            chunk = _pack(op[2], op[3])
            out[where:where + len(chunk)] = chunk
        elif kind == "size" and fields:
            offset, fmt = fields[op[1] % len(fields)]
            one = fmt[0] + fmt[1]
            chunk = _pack(one, op[2]) + _pack(one, op[3])
            out[offset:offset + len(chunk)] = chunk
    if fix_crc and out.startswith(b"\x89PNG"):
        pos = 8
        while pos + 12 <= len(out):
            length = struct.unpack(">I", out[pos:pos + 4])[0]
            if pos + 12 + length > len(out):
                break
            body = bytes(out[pos + 4:pos + 8 + length])
            out[pos + 8 + length:pos + 12 + length] = struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
            pos += 12 + length
    return bytes(out)


@st.composite
def mutated_image(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(SEEDS)))
    data, fields = SEEDS[name]
    ops = draw(st.lists(OPS, max_size=6))
    return name, mutate(data, ops, fields, draw(st.booleans()))


# --- single-file readers --------------------------------------------------------------------------------

def _check_image(result: Any) -> None:
    if result is None:
        return
    rgb, alpha = result
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    assert rgb.shape[0] * rgb.shape[1] <= images.MAX_PIXELS
    assert alpha is None or (alpha.dtype == np.uint8 and alpha.shape == rgb.shape[:2])


def image_property(case: tuple[str, bytes]) -> None:
    name, data = case
    COUNTS[f"  seed {name}"] += 1
    with scratch() as folder:
        path = folder / name
        path.write_bytes(data)
        raw = call("decode_image", decode_image, path, names=path)
        assert raw is None or (raw.ndim in (2, 3) and raw.shape[0] * raw.shape[1] <= images.MAX_PIXELS)
        header = call("image_header", image_header, path, names=path)
        assert header is None or header.width * header.height <= images.MAX_PIXELS
        _check_image(call("read_image_alpha", read_image_alpha, path, names=path))
        for reader in (read_mask, read_davis_mask):
            mask = call(reader.__name__, reader, path, names=path)
            assert mask is None or (mask.dtype == np.uint8 and mask.ndim == 2)
        if name.endswith(".png"):
            flow = call("read_kitti_flow", read_kitti_flow, path, names=path)
            assert flow is None or (flow[0].dtype == np.float32 and flow[0].shape[0] == 2
                                    and flow[1].shape == flow[0].shape[1:])


test_image_readers, test_image_readers_long = two_runs(image_property, mutated_image(), 120)


def _flo_seeds() -> dict[str, bytes]:
    rng = np.random.default_rng(3)
    flows = {"small.flo": rng.normal(0, 4, (2, 5, 7)), "row.flo": rng.normal(0, 4, (2, 1, 9))}
    unknown = rng.normal(0, 4, (2, 6, 4))
    unknown[:, 2, 1] = np.nan
    flows["unknown.flo"] = unknown
    return {name: flo_bytes(flow.astype(np.float32)) for name, flow in flows.items()}


FLO_SEEDS = _flo_seeds()


@st.composite
def mutated_flo(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(FLO_SEEDS)))
    ops = draw(st.lists(OPS, max_size=5))
    return name, mutate(FLO_SEEDS[name], ops, [(4, "<ii")], False)


def flo_property(case: tuple[str, bytes]) -> None:
    name, data = case
    with scratch() as folder:
        path = folder / name
        path.write_bytes(data)
        for unknown_as_nan in (True, False):
            flow = call("read_flo", read_flo, path, unknown_as_nan, names=path)
            assert flow is None or (flow.dtype == np.float32 and flow.ndim == 3 and flow.shape[0] == 2)


test_flo_reader, test_flo_reader_long = two_runs(flo_property, mutated_flo(), 150)


# --- meta.json and whole layouts -------------------------------------------------------------------------

_TEXT = st.text(alphabet="ab0- é中\x00\"\\\n", max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(-(10**30), 10**30) | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=10)
META_KEYS = ["size", "num_frames", "fps", "classes", "difficulty", "seed", "teacher"]
meta_dicts = st.dictionaries(st.sampled_from(META_KEYS), json_values | st.lists(st.integers(-5, 10**6), max_size=3)
                             | st.lists(_TEXT, max_size=4), max_size=5)
VALID_META = {"size": [8, 6], "num_frames": 3, "fps": 15, "classes": ["background", "person"]}


@st.composite
def meta_texts(draw) -> bytes:
    kind = draw(st.sampled_from(["dict", "any", "bytes"]))
    if kind == "bytes":  # byte-level mutations of a valid meta.json
        data = json.dumps(VALID_META).encode()
        return mutate(data, draw(st.lists(OPS, min_size=1, max_size=5)), [], False)
    value = {**VALID_META, **draw(meta_dicts)} if kind == "dict" else draw(json_values)
    return json.dumps(value).encode()


def _clip_files(root: Path, num_frames: int = 3, size: tuple[int, int] = (8, 6)) -> None:
    writer = ClipWriter(root)
    width, height = size
    for t in range(num_frames):
        frame = np.full((height, width, 3), 40 * t, np.uint8)
        mask = np.zeros((height, width), np.uint8)
        mask[1:4, 2:6] = 1
        flow = np.full((2, height, width), 0.5 * t, np.float32)
        writer.write(t, frame, mask, flow if t < num_frames - 1 else None, flow if t > 0 else None)
    writer.write_meta({**VALID_META, "num_frames": num_frames, "size": [width, height]})


def read_all(root: Path, masks: Path | None = None, names: Path | None = None) -> None:
    """What ``workbench data info`` and every consumer of ``open_dataset`` read, each call checked by
    :func:`call`; error messages must contain ``names`` (default ``root``)."""
    names = names or root
    call("describe_layout", describe_layout, root, names=names)
    info = call("dataset_info", dataset_info, root, True, masks, names=names)
    if info is not None:
        format_info(info)
        json.dumps(info)
    sequences = call("open_dataset", open_dataset, root, masks, names=names) or []
    for seq in sequences:
        kind = type(seq).__name__
        call(f"{kind}.classes", lambda seq=seq: seq.classes, names=names)
        for index in range(min(len(seq), 4)):
            frame = call(f"{kind}.frame", seq.frame, index, names=names)
            assert frame is None or (frame.dtype == np.uint8 and frame.shape == (seq.size[1], seq.size[0], 3))
            if seq.has_masks:
                mask = call(f"{kind}.mask", seq.mask, index, names=names)
                assert mask is None or (mask.dtype == np.uint8 and mask.shape == (seq.size[1], seq.size[0]))
            if seq.has_flow:
                for reader in (seq.flow_fwd, seq.flow_bwd):
                    flow = call(f"{kind}.flow", reader, index, names=names)
                    assert flow is None or flow.shape == (2, seq.size[1], seq.size[0])


def meta_property(text: bytes) -> None:
    with scratch() as folder:
        root = folder / "clip"
        _clip_files(root)
        (root / "meta.json").write_bytes(text)
        clip = call("ClipFolder(meta.json)", ClipFolder, root, names=root)
        if clip is not None:
            assert isinstance(clip.fps, float) and clip.fps > 0 and len(clip.size) == 2
            assert clip.classes is None or all(isinstance(c, str) for c in clip.classes)
        read_all(root)


test_clip_meta, test_clip_meta_long = two_runs(meta_property, meta_texts(), 100)


def _layout_templates() -> dict[str, dict[str, bytes]]:
    """Small datasets of every layout, as ``{relative path: bytes}``."""
    templates: dict[str, dict[str, bytes]] = {}
    with scratch() as folder:
        _clip_files(folder / "clip")
        _clip_files(folder / "clips" / "a", 2)
        _clip_files(folder / "clips" / "b", 3, (10, 6))
        for split in ("training", "testing"):
            for seq in (1, 12):
                for n in (1, 2):
                    gray = np.zeros((6, 8), np.uint8)
                    gray[2:5, 3:6] = 255
                    path = folder / "funet" / f"original_{split}" / f"original{seq}_{n}.jpg"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(_encode(".jpg", np.full((6, 8, 3), 30 * n, np.uint8)))
                    path = folder / "funet" / f"ground_truth_{split}" / f"gt{seq}_{n}.jpg"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(_encode(".jpg", gray))
        ids = np.zeros((6, 8), np.uint8)
        ids[1:3, 1:4], ids[4:6, 5:8], ids[0, 0] = 1, 2, 255
        for seq in ("bear", "dog"):
            for t in range(2):
                path = folder / "davis" / "JPEGImages" / "480p" / seq / f"{t:05d}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(_encode(".jpg", np.full((6, 8, 3), 50 * t, np.uint8)))
                path = folder / "davis" / "Annotations" / "480p" / seq / f"{t:05d}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                palette = Image.fromarray(ids, mode="P")
                palette.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [200] * (253 * 3))
                path.write_bytes(_pil(palette, "PNG"))
        for t in (1, 2, 10):
            path = folder / "images" / "frames" / f"f{t}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_encode(".png", np.full((6, 8, 3), 9 * t, np.uint8)))
            path = folder / "images" / "masks" / f"f{t}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_encode(".png", np.where(np.arange(8) < t % 8, 255, 0).astype(np.uint8)[None]
                                     .repeat(6, axis=0)))
        with contextlib.suppress(Exception), VideoWriter(folder / "video" / "call.mp4", 10, (16, 16)) as writer:
            for t in range(3):
                writer.write(np.full((16, 16, 3), 60 * t, np.uint8))
        for name in ("clip", "clips", "funet", "davis", "images", "video"):
            templates[name] = {str(p.relative_to(folder / name)): p.read_bytes()
                               for p in sorted((folder / name).rglob("*")) if p.is_file()}
    return {name: files for name, files in templates.items() if files}


TEMPLATES = _layout_templates()
STRAY_NAMES = ["frames/000003.png", "masks/000000.png", "meta.json", "flow_fwd/000000.flo", "frames/²1.png",
               "original_training/original3_1.jpg", "ground_truth_training/gt1_01.jpg", "JPEGImages/480p/x.png",
               "Annotations/480p/bear/00009.png", "Annotations/480p/bear/00000.png/inner", "frames/.hidden.png",
               "clip.mp4", "frames/000000.png/x", "frames/a.jpg", "original_testing/original1_1.jpg",
               "masks/f1.png", "frames/f11.png", "JPEGImages/720p/s/0.jpg"]


@st.composite
def mutated_layouts(draw) -> tuple[str, dict[str, bytes | None]]:
    """A template with some files mutated, replaced, deleted, and stray files or folders added."""
    name = draw(st.sampled_from(sorted(TEMPLATES)))
    files: dict[str, bytes | None] = dict(TEMPLATES[name])
    paths = sorted(files)
    for _ in range(draw(st.integers(1, 3))):
        target = paths[draw(st.integers(0, len(paths) - 1))]
        action = draw(st.sampled_from(["mutate", "mutate", "seed", "delete", "empty"]))
        if action == "mutate":
            fields = [(16, ">II")] if target.endswith(".png") else [(4, "<ii")] if target.endswith(".flo") else []
            files[target] = mutate(files[target] or b"", draw(st.lists(OPS, min_size=1, max_size=4)), fields,
                                   draw(st.booleans()))
        elif action == "seed":
            seed = draw(st.sampled_from(sorted(SEEDS)))
            files[target] = mutate(SEEDS[seed][0], draw(st.lists(OPS, max_size=3)), SEEDS[seed][1], True)
        elif action == "delete":
            files[target] = None
        else:
            files[target] = b""
    for stray in draw(st.lists(st.sampled_from(STRAY_NAMES), max_size=2)):
        seed = draw(st.sampled_from(sorted(SEEDS)))
        files[stray] = draw(st.sampled_from([SEEDS[seed][0], b"", b"\x00junk", json.dumps(VALID_META).encode()]))
    return name, files


def layout_property(case: tuple[str, dict[str, bytes | None]]) -> None:
    name, files = case
    COUNTS[f"  layout {name}"] += 1
    with scratch() as folder:
        root = folder / name
        root.mkdir()
        for relative, data in files.items():
            if data is None:
                continue
            path = root / relative
            with contextlib.suppress(OSError):  # a stray "file" under a path that is already a file
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        if name == "images":
            read_all(root / "frames", root / "masks", names=root)
        elif name == "video":
            read_all(root / "call.mp4", names=root)
        else:
            read_all(root)


test_layouts, test_layouts_long = two_runs(layout_property, mutated_layouts(), 120)


# --- regression cases (shipped limits) -------------------------------------------------------------------

def png_declaring(width: int, height: int, seed: str = "rgb.png") -> bytes:
    """A small valid PNG whose IHDR (with a correct CRC) declares ``width`` × ``height``."""
    data, fields = SEEDS[seed]
    return mutate(data, [("size", 0, width, height)], fields, True)


def jpeg_declaring(width: int, height: int) -> bytes:
    data, fields = SEEDS["rgb.jpg"]
    return mutate(data, [("size", 0, height, width)], fields, False)


SINGLE_READERS = [("decode_image", decode_image), ("image_header", image_header), ("read_image", read_image),
                  ("read_mask", read_mask), ("read_davis_mask", read_davis_mask),
                  ("read_kitti_flow", read_kitti_flow)]


@pytest.mark.parametrize("size", [(65535, 65535), (18000, 18000), (200_000, 2), (0, 24), (32, 0)])
def test_png_header_sizes_refused_before_decoding(tmp_path, shipped_limits, size):
    path = tmp_path / "tiny.png"
    path.write_bytes(png_declaring(*size))
    assert path.stat().st_size < 10_000
    for name, reader in SINGLE_READERS:  # refused by every reader, within the memory bound
        refused(rf"^{re.escape(str(path))}: image header declares {size[0]}x{size[1]}\b", name, reader, path)


def test_huge_declared_sizes_name_the_limit(tmp_path, shipped_limits):
    (tmp_path / "big.png").write_bytes(png_declaring(18000, 18000))
    with pytest.raises(InputError, match=r"big\.png: image header declares 18000x18000 = 324,000,000 pixels, over "
                                         r"the limit of 40,000,000 \(workbench\.io\.images\.MAX_PIXELS\); refused "
                                         "before decoding"):
        read_image(tmp_path / "big.png")
    # other formats' headers are read by Pillow: above its own bomb limit (179 MP), and between that and ours
    (tmp_path / "bomb.jpg").write_bytes(jpeg_declaring(20000, 20000))
    refused(r"bomb\.jpg: image header declares 400,000,000 pixels, over the limit of 40,000,000", "read_image",
            read_image, tmp_path / "bomb.jpg")
    (tmp_path / "wide.jpg").write_bytes(jpeg_declaring(9000, 8000))
    refused(r"wide\.jpg: image header declares 9000x8000 = 72,000,000 pixels, over the limit", "read_image",
            read_image, tmp_path / "wide.jpg")


def test_png_that_cannot_hold_its_pixels_is_refused(tmp_path, shipped_limits):
    # 6000x6000 RGB is under MAX_PIXELS but is 108 MB of pixel data: 2 kB cannot inflate to that (1032:1 at most)
    path = tmp_path / "bomb.png"
    path.write_bytes(png_declaring(6000, 6000))
    refused(r"bomb\.png: PNG header declares 6000x6000 pixels, which cannot fit in the file's", "read_image",
            read_image, path)


def test_png_chunk_longer_than_the_file_is_refused(tmp_path):
    # found by the long run: a 2 kB PNG whose IDAT length reads 0x7f00003a made OpenCV allocate 2 GB
    data, _ = SEEDS["bilevel.png"]
    assert data[37:41] == b"IDAT"
    path = tmp_path / "chunk.png"
    path.write_bytes(data[:33] + struct.pack(">I", 0x7F00003A) + data[37:])
    for name, reader in SINGLE_READERS:
        refused(r"chunk\.png: PNG chunk b'IDAT' at byte 33 declares 2,130,706,490 bytes but \d+ are left", name,
                reader, path)


def _bilevel_png(width: int, height: int) -> bytes:
    """A real, complete 1-bit black PNG: a few kB that decode to ``width`` × ``height``."""
    raw = zlib.compress(bytes(height * (1 + (width + 7) // 8)), 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def test_two_18000_squared_pngs_in_a_dataset(tmp_path, shipped_limits):
    folder = tmp_path / "frames"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        (folder / name).write_bytes(_bilevel_png(18000, 18000))
    refused(r"a\.png: image header declares 18000x18000", "dataset_info", dataset_info, folder)
    refused(r"b\.png: image header declares 18000x18000", "read_image", read_image, folder / "b.png")
    # the same construction under the limit decodes: the guard refuses sizes, not this kind of file
    (folder / "c.png").write_bytes(_bilevel_png(3000, 2000))
    assert read_mask(folder / "c.png").shape == (2000, 3000)


@pytest.mark.parametrize("name", ["rgb.png", "rgb.jpg", "progressive.jpg", "palette.png", "gray16.png"])
def test_truncated_images(tmp_path, name):
    data = SEEDS[name][0]
    for cut in (len(data) // 2, len(data) - 20, 40):  # Pillow ignores a cut inside the final IEND chunk
        path = tmp_path / f"cut{cut}_{name}"
        path.write_bytes(data[:cut])
        for reader_name, reader in SINGLE_READERS[2:5]:
            refused(rf"^{re.escape(str(path))}: (cannot decode as an image|PNG (header|chunk b'\w+' at byte \d+) "
                    r"declares .*truncated)", reader_name, reader, path)


def test_not_an_image(tmp_path):
    (tmp_path / "text.png").write_text("not a picture\n")
    with pytest.raises(InputError, match=r"text\.png: cannot decode as an image \(not a PNG, JPEG, BMP, TIFF or WebP"):
        read_image(tmp_path / "text.png")
    gif = io.BytesIO()
    Image.new("RGB", (5, 4)).save(gif, "GIF")  # OpenCV would decode it, but it is not one of IMAGE_FORMATS
    (tmp_path / "renamed.png").write_bytes(gif.getvalue())
    with pytest.raises(InputError, match=r"renamed\.png: cannot decode as an image \(not a PNG, JPEG"):
        read_image(tmp_path / "renamed.png")


def test_flo_declaring_huge_sizes_is_refused_before_reading(tmp_path, shipped_limits):
    def flo_file(width: int, height: int, body: bytes = b"") -> Path:
        path = tmp_path / f"{width}x{height}.flo"
        path.write_bytes(struct.pack("<fii", 202021.25, width, height) + body)
        return path

    refused(r"99999x99999\.flo: implausible \.flo size 99999x99999", "read_flo", read_flo, flo_file(99999, 99999))
    refused(r"30000x30000\.flo: \.flo header declares 30000x30000 = 900,000,000 vectors, over the limit of "
            r"40,000,000", "read_flo", read_flo, flo_file(30000, 30000))
    refused(r"6000x6000\.flo: 20 bytes, expected 288000012 for a 6000x6000 \.flo", "read_flo", read_flo,
            flo_file(6000, 6000, bytes(8)))
    refused(r"-3x5\.flo: implausible \.flo size -3x5", "read_flo", read_flo, flo_file(-3, 5))


def test_masks_with_stray_values_name_file_and_values(tmp_path):
    # clip folder: class ids beyond meta.json's classes (a 0/128 mask would be scored as a third class)
    root = tmp_path / "clip"
    _clip_files(root)
    stray = np.zeros((6, 8), np.uint8)
    stray[2, 2], stray[3, 3] = 128, 7
    images.write_mask(root / "masks" / "000001.png", stray)
    clip = ClipFolder(root)
    assert clip.mask(0).max() == 1
    with pytest.raises(InputError, match=r"masks/000001\.png: mask has values 7, 128; expected class ids 0\.\.1 "
                                         r"\(2 classes\) or 255 \(ignore\)"):
        clip.mask(1)
    with pytest.raises(InputError, match=r"000001\.png: mask has values 7, 128"):
        dataset_info(root)

    # FUNet: a lossless mask must be 0/255 or 0/1, a JPEG one at most JPEG damage away from 0/255
    funet = tmp_path / "funet"
    for sub in ("original_training", "ground_truth_training"):
        (funet / sub).mkdir(parents=True)
    for n in (1, 2, 3):
        cv2.imwrite(str(funet / "original_training" / f"original1_{n}.jpg"), np.zeros((24, 32, 3), np.uint8))
    person = np.zeros((24, 32), np.uint8)
    person[4:20, 8:24] = 1
    cv2.imwrite(str(funet / "ground_truth_training" / "gt1_1.png"), person)  # 0/1: was binarised to all 0
    cv2.imwrite(str(funet / "ground_truth_training" / "gt1_2.png"), person * 128)
    cv2.imwrite(str(funet / "ground_truth_training" / "gt1_3.jpg"), person * 100)
    (seq,) = open_dataset(funet, split="training")
    np.testing.assert_array_equal(seq.mask(0), person)
    with pytest.raises(InputError, match=r"gt1_2\.png: mask has values 0, 128; expected only 0 and 255"):
        seq.mask(1)
    with pytest.raises(InputError, match=r"gt1_3\.jpg: 3\d\.\d % of the mask's pixels are mid-gray \(values "):
        seq.mask(2)

    # DAVIS: an anti-aliased gray annotation would have its object read as 'ignore' (255)
    soft = np.zeros((24, 32), np.uint8)
    soft[4:20, 8:24], soft[4, 8:24] = 255, 180
    cv2.imwrite(str(tmp_path / "soft.png"), soft)
    with pytest.raises(InputError, match=r"soft\.png: gray annotation holds 255 with values 180; expected 0/255"):
        read_davis_mask(tmp_path / "soft.png")


META_CASES = {
    b'{"fps": "x"}': r'"fps" is "x", expected a positive number',
    b'{"fps": NaN}': r'"fps" is NaN, expected a positive number',
    b'{"fps": true}': r'"fps" is true',
    b'{"size": [8]}': r'"size" is \[8\], expected \[W, H\], two positive integers',
    b'{"size": [8, -6]}': r'"size" is \[8, -6\]',
    b'{"num_frames": "3"}': r'"num_frames" is "3", expected a non-negative integer',
    b'{"classes": "background"}': r'"classes" is "background", expected a list of 1 to 255 class names',
    b'{"classes": [0, 1]}': r'"classes" is \[0, 1\]',
    b"[" * 100_000: r"not valid JSON \(nested too deeply\)",
    b'{"seed": ' + b"9" * 5000 + b"}": r"not valid JSON",
    b'{"fps": 30, "name": "\xff"}': r"not valid JSON",
}


@pytest.mark.parametrize("text", list(META_CASES), ids=range(len(META_CASES)))
def test_meta_json_wrong_types(tmp_path, text):
    root = tmp_path / "clip"
    _clip_files(root)
    (root / "meta.json").write_bytes(text)
    refused(rf"clip/meta\.json: {META_CASES[text]}", "ClipFolder", ClipFolder, root)


def test_meta_json_keys_are_optional(tmp_path):
    root = tmp_path / "clip"
    _clip_files(root)
    (root / "meta.json").write_text("{}")
    clip = ClipFolder(root)
    assert (clip.fps, clip.size, clip.classes) == (30.0, (8, 6), ["background", "person"])
    (root / "meta.json").write_text(json.dumps({"fps": 12.5, "difficulty": {"any": ["json"]}}))
    info = dataset_info(root)
    assert info["sequences"][0]["fps"] == 12.5 and "any" in format_info(info)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_named_pipes_are_refused_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    refused(r"pipe: neither a file nor a folder", "open_dataset", open_dataset, tmp_path / "pipe")
    refused(r"pipe: neither a file nor a folder", "dataset_info", dataset_info, tmp_path / "pipe")
    root = tmp_path / "clip"
    _clip_files(root)
    (root / "meta.json").unlink()
    os.mkfifo(root / "meta.json")
    refused(r"clip/meta\.json: not a regular file", "open_dataset", open_dataset, root)
    os.mkfifo(tmp_path / "frame.png")
    refused(r"frame\.png: not a regular file \(expected an image\)", "read_image", read_image, tmp_path / "frame.png")


def test_natural_key_with_non_ascii_digits(tmp_path):
    # '²' is a digit to str.isdigit but not to int(): the old key raised ValueError for these names
    names = ["f10.png", "²1.png", "f2.png", "f٣.png"]  # '٣' (Arabic-Indic three) is a decimal digit
    assert sorted(names, key=natural_key) == ["f2.png", "f٣.png", "f10.png", "²1.png"]
    for name in names:
        (tmp_path / name).write_bytes(SEEDS["rgb.png"][0])
    assert [p.name for p in images.list_images(tmp_path)] == ["f2.png", "f٣.png", "f10.png", "²1.png"]
    for clip in ("1²", "clip2"):
        _clip_files(tmp_path / "set" / clip, 2)
    assert [seq.name for seq in open_dataset(tmp_path / "set")] == ["1²", "clip2"]


def test_kitti_flow_goes_through_the_guard(tmp_path, shipped_limits):
    write_kitti_flow(tmp_path / "k.png", np.zeros((2, 4, 5), np.float32))
    assert read_kitti_flow(tmp_path / "k.png")[0].shape == (2, 4, 5)
    (tmp_path / "big.png").write_bytes(png_declaring(65535, 65535, "kitti.png"))
    refused(r"big\.png: image header declares 65535x65535", "read_kitti_flow", read_kitti_flow, tmp_path / "big.png")
