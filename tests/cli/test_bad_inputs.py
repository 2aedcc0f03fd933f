"""The bad-input catalogue: what a careless or hostile user types or feeds in, across every command.

Each case asserts the promise of ``docs/PROMISES.md``: exit status 2; exactly one line on stderr, starting
``workbench: error:`` and naming the option or file (the fragment); no traceback; nothing left behind in the
workspace and nothing there changed; the shipped checkpoints in ``models/`` untouched; and no planted pickle
ever runs (the malicious files below would create ``PWNED`` if they were unpickled with code allowed).

Cases run in this process (``workbench.cli.main``), so the catalogue costs seconds, not an interpreter per case.
"""

from __future__ import annotations

import ast
import hashlib
import json
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from cli_helpers import assert_user_error, run_in_process

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"


class Planted:
    """Unpickling this creates the marker file: what a malicious checkpoint or state file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims ``width × height`` (one IDAT of a few bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    """The workspace every case runs in: good inputs, broken inputs, planted files, pre-existing outputs."""
    from workbench.data.synthetic import SynthConfig, synthesize

    root = tmp_path_factory.mktemp("bad_inputs")
    synthesize(root / "clips", SynthConfig(clips=1, frames=4, size=(64, 48), seed=5), progress=False)
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    cv2.imwrite(str(root / "a.png"), frame)
    cv2.imwrite(str(root / "b.png"), frame)
    cv2.imwrite(str(root / "small.png"), frame[:24, :32])
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 10)
    (root / "huge.png").write_bytes(png_declaring(65535, 65535))
    (root / "notes.txt").write_text("my notes\n")
    cv2.imwrite(str(root / "tiny.png"), frame[:1, :1])
    (root / "tiny_frames").mkdir()
    for i in range(3):
        cv2.imwrite(str(root / "tiny_frames" / f"{i:03d}.png"), frame[:1, :1])
    (root / "empty.mp4").write_bytes(b"")
    (root / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x17" * 200)
    mixed = root / "mixed"
    mixed.mkdir()
    cv2.imwrite(str(mixed / "000.png"), frame)
    cv2.imwrite(str(mixed / "001.png"), frame[:24, :32])
    huge_dir = root / "huge_frames"
    huge_dir.mkdir()
    (huge_dir / "000.png").write_bytes(png_declaring(18000, 18000))
    (root / "existing.flo").write_bytes(b"PIEH" + struct.pack("<ii", 1, 1) + b"\x00" * 8)
    bench = root / "bench"
    bench.mkdir()
    (bench / "bench_seg.md").write_text("earlier results\n")
    (root / "model.v1").mkdir()  # a training output folder whose name has a dot
    (root / "model.v1" / "checkpoint.pt").write_bytes(b"kept")
    (root / "labels_existing").mkdir()
    (root / "labels_existing" / "keep.txt").write_text("keep\n")
    bad_labels = root / "bad_labels"
    bad_labels.mkdir()
    (bad_labels / "labels.npz").write_bytes(b"PK\x03\x04truncated")
    (bad_labels / "meta.json").write_text("{}")
    marker = root / "PWNED"
    torch.save({"arch": "unet", "payload": Planted(marker)}, root / "evil.pt")
    state_run = root / "evil_run"
    (state_run / "epochs").mkdir(parents=True)
    torch.save({"model": Planted(marker)}, state_run / "epochs" / "state.pt")
    torch.save({"model": Planted(marker)}, root / "evil_flow.pt.state.pt")
    torch.save({"arch": "unet", "options": ["not", "a", "dict"], "config": {}, "state_dict": {}, "input": "rgb",
                "flow": None, "scale": 1.0, "classes": ["b", "p"], "threshold": 0.5, "metrics": {}},
               root / "crafted.pt")
    bad_meta = root / "bad_meta_clip"
    import shutil

    shutil.copytree(root / "clips" / "clip_0000", bad_meta)
    meta = json.loads((bad_meta / "meta.json").read_text())
    meta["fps"] = "x"
    (bad_meta / "meta.json").write_text(json.dumps(meta))
    stray = root / "stray_masks"
    stray.mkdir()
    (stray / "images").mkdir()
    (stray / "masks").mkdir()
    cv2.imwrite(str(stray / "images" / "000.png"), frame)
    cv2.imwrite(str(stray / "masks" / "000.png"), (np.arange(48 * 64).reshape(48, 64) % 7 * 30).astype(np.uint8))
    return root


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every file and folder under ``root`` with its size and content hash."""
    state = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        state[rel] = (-1, "dir") if p.is_dir() else (p.stat().st_size, hashlib.sha1(p.read_bytes()).hexdigest())
    return state


def models_state() -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(MODELS.rglob("*")) if p.is_file()}


# (argv with {ws} for the workspace, fragment the one line must contain)
CASES: list[tuple[str, str]] = [
    # ------------------------------------------------------------------ data synth
    ("data synth --out {ws}/o --fps 0", "--fps: '0': expected a number in (0, 1000]"),
    ("data synth --out {ws}/o --fps nan", "--fps"),
    ("data synth --out {ws}/o --clips 0", "--clips"),
    ("data synth --out {ws}/o --clips -3", "--clips"),
    ("data synth --out {ws}/o --frames 0", "--frames"),
    ("data synth --out {ws}/o --size 0x0", "--size"),
    ("data synth --out {ws}/o --size 99999x10", "--size"),
    ("data synth --out {ws}/o --size 1x1", "--size"),
    ("data synth --out {ws}/o --size large", "--size"),
    ("data synth --out {ws}/o --seed -1", "--seed"),
    ("data synth --out {ws}/o --photo-backgrounds 1.5", "--photo-backgrounds"),
    ("data synth --out {ws}/o --camera-prob -0.1", "--camera-prob"),
    ("data synth --out {ws}/o --camouflage 2", "--camouflage"),
    ("data synth --out {ws}/notes.txt --clips 1 --frames 2 --size 64x48", "notes.txt: a file is there"),
    ("data synth --out {ws}/clips --clips 1 --frames 2 --size 64x48 --quiet", "clip_0000 already exists"),
    ("data synth --out {ws}/o --backgrounds {ws}/nowhere --clips 1 --frames 2 --size 64x48 --quiet", "nowhere"),
    ("data synth --out {ws}/o --camera fisheye", "--camera"),
    ("data synth --out {ws}/notes.txt/sub --clips 1 --frames 2 --size 64x48 --quiet", "notes.txt is a file"),
    # ------------------------------------------------------------------ data animate
    ("data animate --images {ws}/nowhere --masks {ws}/nowhere --out {ws}/o --quiet", "nowhere"),
    ("data animate --images {ws}/stray_masks/images --masks {ws}/stray_masks/masks --out {ws}/o --frames 0",
     "--frames"),
    ("data animate --images {ws}/stray_masks/images --masks {ws}/stray_masks/masks --out {ws}/o "
     "--clips-per-portrait 0", "--clips-per-portrait"),
    ("data animate --images {ws}/stray_masks/images --masks {ws}/stray_masks/masks "
     "--out {ws}/stray_masks/images/out --quiet", "inside the input"),
    # ------------------------------------------------------------------ data label
    ("data label {ws}/nowhere.mp4 --teacher chroma --out {ws}/o --quiet", "nowhere.mp4"),
    ("data label {ws}/empty.mp4 --teacher chroma --out {ws}/o --quiet", "empty.mp4"),
    ("data label {ws}/corrupt.mp4 --teacher chroma --out {ws}/o --quiet", "corrupt.mp4"),
    ("data label {ws}/mixed --teacher chroma --out {ws}/o --quiet", "mixed"),
    ("data label {ws}/clips/clip_0000 --teacher models/pwc_small/checkpoint.pt --out {ws}/o --quiet",
     "pwc_small"),
    ("data label {ws}/clips/clip_0000 --teacher {ws}/evil.pt --out {ws}/o --quiet", "evil.pt"),
    ("data label {ws}/clips/clip_0000 --teacher chroma --threshold 1 --out {ws}/o", "--threshold"),
    ("data label {ws}/clips/clip_0000 --teacher chroma --step 0 --out {ws}/o", "--step"),
    ("data label {ws}/clips/clip_0000 --teacher chroma --start -1 --out {ws}/o", "--start"),
    ("data label {ws}/clips/clip_0000 --teacher chroma --chunk 0 --out {ws}/o", "--chunk"),
    ("data label {ws}/clips/clip_0000 --teacher chroma --key-color 300,0,0 --out {ws}/o", "--key-color"),
    ("data label {ws}/clips/clip_0000 --teacher chroma --out {ws}/clips/clip_0000 --overwrite --quiet",
     "the output is the input"),
    ("data label {ws}/clips/clip_0000 --teacher chroma --out {ws}/clips --overwrite --quiet",
     "the output contains the input"),
    # ------------------------------------------------------------------ data portraits / info
    ("data portraits --out {ws}/o --names nobody", "--names"),
    ("data portraits --out {ws}/notes.txt --overwrite", "notes.txt: a file is there"),
    ("data info {ws}/nowhere", "nowhere"),
    ("data info {ws}/bad_meta_clip", "meta.json"),
    # ------------------------------------------------------------------ flow
    ("flow {ws}/nowhere.png {ws}/b.png -o {ws}/o.flo", "nowhere.png"),
    ("flow {ws}/corrupt.png {ws}/b.png -o {ws}/o.flo", "corrupt.png"),
    ("flow {ws}/huge.png {ws}/b.png -o {ws}/o.flo", "huge.png"),
    ("flow {ws}/a.png {ws}/small.png -o {ws}/o.flo", "small.png"),
    ("flow {ws}/a.png {ws}/b.png -o {ws}/o.txt", "o.txt"),
    ("flow {ws}/a.png {ws}/b.png -o {ws}/existing.flo", "existing.flo already exists"),
    ("flow {ws}/a.png {ws}/b.png -o {ws}/o.flo --viz {ws}/notes.txt", "notes.txt"),
    ("flow {ws}/a.png {ws}/b.png -o {ws}/o.flo --method telepathy", "--method"),
    ("flow {ws}/tiny.png {ws}/tiny.png -o {ws}/o.flo", "1x1 frames are too small"),
    ("flow {ws}/a.png {ws}/b.png -o {ws}/o.flo --method farneback --preset fast", "--preset"),
    # ------------------------------------------------------------------ bench
    ("bench seg {ws}/nowhere.pt --clips 1 --frames 2 --out {ws}/o", "nowhere.pt"),
    ("bench seg {ws}/evil.pt --clips 1 --frames 2 --out {ws}/o", "evil.pt"),
    ("bench seg {ws}/crafted.pt --clips 1 --frames 2 --out {ws}/o", "crafted.pt"),
    ("bench seg fastseg fastseg --clips 1 --frames 2 --out {ws}/o", "given twice"),
    ("bench seg fastseg --clips -1 --out {ws}/o", "--clips"),
    ("bench seg fastseg --threads 0 --out {ws}/o", "--threads"),
    ("bench seg fastseg --repeat 0 --out {ws}/o", "--repeat"),
    ("bench seg fastseg --clips 0 --real {ws}/nowhere --out {ws}/o", "nowhere"),
    ("bench seg fastseg --clips 1 --frames 2 --out {ws}/bench", "bench_seg.md already exists"),
    ("bench seg fastseg --out {ws}/notes.txt", "notes.txt: a file is there"),
    ("bench flow --frames 0 --out {ws}/o", "--frames"),
    ("bench flow --size 8x8 --out {ws}/o", "--size"),
    # ------------------------------------------------------------------ train seg
    ("train seg --model unet --quiet", "models/unet already exists"),
    ("train seg --model funet_flow -e 1 --quiet", "models/funet_flow already exists"),
    ("train seg --model unet --out {ws}/model.v1 --quiet",
     "model.v1 already exists; pass --overwrite to replace it, --resume"),
    ("train seg --model unet --out {ws}/evil_run --resume --quiet --train-clips 2 --frames 2 --frame-size 64x48",
     "evil_run/epochs/state.pt"),
    ("train seg --model unet --out {ws}/fresh --resume --quiet --train-clips 2 --frames 2 --frame-size 64x48",
     "no training state"),
    ("train seg --model unet --out {ws}/o --load {ws}/evil.pt --quiet --train-clips 2 --frames 2", "evil.pt"),
    ("train seg --model unet --out {ws}/o --load {ws}/nowhere.pt --quiet --train-clips 2 --frames 2",
     "nowhere.pt"),
    ("train seg --model unet --out {ws}/o -e 0", "--epochs"),
    ("train seg --model unet --out {ws}/o -l 0", "--learning-rate"),
    ("train seg --model unet --out {ws}/o -v 100", "--validation"),
    ("train seg --model unet --out {ws}/o --threads 0", "--threads"),
    ("train seg --model unet --out {ws}/o --crop 5x5", "--crop"),
    ("train seg --model nonet --out {ws}/o", "--model"),
    ("train seg --model unet --out {ws}/o --portrait-share 2", "--portrait-share"),
    ("train seg --model unet --out {ws}/o --data {ws}/nowhere --quiet", "nowhere"),
    ("train seg --model unet --out {ws}/o --data {ws}/clips --load {ws}/clips --quiet", "clips"),
    ("train seg --model unet --out {ws}/clips/sub --data {ws}/clips --quiet", "inside the input"),
    # ------------------------------------------------------------------ train flow / decision
    ("train flow --quiet", "models/pwc_small/checkpoint.pt already exists"),
    ("train flow --out {ws}/f.pt --steps 0", "--steps"),
    ("train flow --out {ws}/f.pt --lr -1", "--lr"),
    ("train flow --out {ws}/evil_flow.pt --resume --quiet --train-clips 1 --frames 2 --val-clips 1 --size 64x48",
     "evil_flow.pt.state.pt"),
    ("train flow --out {ws}/notes.txt", "notes.txt already exists"),
    ("train decision --quiet", "models/decision already exists"),
    ("train decision --labels {ws}/nowhere --out {ws}/d --quiet", "nowhere"),
    ("train decision --labels {ws}/bad_labels --out {ws}/d --quiet", "labels.npz"),
    ("train decision --labels {ws}/bad_labels --out {ws}/d -e 0", "--epochs"),
    # ------------------------------------------------------------------ predict
    ("predict -m fastseg -i {ws}/clips/clip_0000 -o {ws}/clips/clip_0000 --overwrite --quiet",
     "the output is the input"),
    ("predict -m fastseg -i {ws}/clips/clip_0000 -o {ws}/clips --overwrite --quiet", "the output contains the input"),
    ("predict -m fastseg -i {ws}/clips/clip_0000 -o {ws}/notes.txt --overwrite --quiet",
     "notes.txt: a file is there"),
    ("predict -m {ws}/evil.pt -i {ws}/clips/clip_0000 -o {ws}/o --quiet", "evil.pt"),
    ("predict -m {ws}/crafted.pt -i {ws}/clips/clip_0000 -o {ws}/o --quiet", "crafted.pt"),
    ("predict -m {ws}/nowhere.pt -i {ws}/clips/clip_0000 -o {ws}/o --quiet", "nowhere.pt"),
    ("predict -m models/pwc_small/checkpoint.pt -i {ws}/clips/clip_0000 -o {ws}/o --quiet", "pwc"),
    ("predict -m fastseg -i {ws}/nowhere -o {ws}/o --quiet", "nowhere"),
    ("predict -m fastseg -i {ws}/clips/clip_0000 -o {ws}/o -t 1.5", "--mask-threshold"),
    ("predict -m fastseg -i {ws}/clips/clip_0000 -o {ws}/o -s 0", "--scale"),
    ("predict -m fastseg -i {ws}/clips/clip_0000 -o {ws}/o --background {ws}/nowhere.jpg --quiet", "nowhere.jpg"),
    ("predict -m fastseg -i {ws}/mixed -o {ws}/o --quiet", "mixed"),
    ("predict -m funet_flow -i {ws}/tiny_frames -o {ws}/o --quiet", "too small"),
    ("dvs run --data {ws}/tiny_frames --out {ws}/runs --quiet", "1x1"),
    ("predict -m fastseg -i {ws}/empty.mp4 -o {ws}/o --quiet", "empty.mp4"),
    ("predict -m fastseg -i {ws}/huge_frames -o {ws}/o --quiet", "000.png"),
    ("predict -m fastseg -i {ws}/stray_masks/images --mask {ws}/stray_masks/masks -o {ws}/o --quiet", "000.png"),
    ("predict -m fastseg -i {ws}/clips/clip_0000 -o {ws}/o --gpu -1", "--gpu"),
    # ------------------------------------------------------------------ dvs
    ("dvs run --data {ws}/clips/clip_0000 --out {ws}/runs --target 150", "--target"),
    ("dvs run --data {ws}/clips/clip_0000 --out {ws}/runs --flow-scale 0", "--flow-scale"),
    ("dvs run --data {ws}/clips/clip_0000 --out {ws}/runs --regions 0x3", "--regions"),
    ("dvs run --data {ws}/clips/clip_0000 --out {ws}/runs --interval 0", "--interval"),
    ("dvs run --data {ws}/clips/clip_0000 --out {ws}/runs --threads 0", "--threads"),
    ("dvs run --data {ws}/clips/clip_0000 --out {ws}/runs --dynamic-up 0", "--dynamic-up"),
    ("dvs run --data {ws}/clips/clip_0000 --out {ws}/runs --frames 0", "--frames"),
    ("dvs run --data {ws}/nowhere --out {ws}/runs --quiet", "nowhere"),
    ("dvs run --data {ws}/clips/clip_0000 --out {ws}/runs --decision {ws}/evil.pt --quiet", "evil.pt"),
    ("dvs run --data {ws}/clips/clip_0000 --out {ws}/notes.txt --quiet", "notes.txt: a file is there"),
    ("dvs run --data {ws}/clips/clip_0000 --out {ws}/clips --quiet", "the output contains the input"),
    ("dvs labels --data {ws}/clips --out {ws}/o --grid 0x3", "--grid"),
    ("dvs labels --data {ws}/clips --out {ws}/o --max-offset 0", "--max-offset"),
    ("dvs labels --data {ws}/clips --out {ws}/labels_existing --quiet", "labels_existing already exists"),
    ("dvs sweep --targets 0:100:0.0000001 --out {ws}/o", "more than 200"),
    ("dvs sweep --intervals 1.5 --out {ws}/o", "1.5 is not a whole number"),
    ("dvs sweep --intervals 0 --out {ws}/o", "--intervals"),
    ("dvs sweep --targets 150 --out {ws}/o", "--targets"),
    ("dvs sweep --targets 90:50:5 --out {ws}/o", "--targets"),
    # ------------------------------------------------------------------ dashboard, top level
    ("dashboard --runs {ws}/runs --port 0", "--port"),
    ("dashboard --runs {ws}/runs --port 70000", "--port"),
    ("dashboard --runs {ws}/runs --address no.such.host.invalid --no-browser", "--address"),
    ("dashboard --runs {ws}/notes.txt --no-browser", "notes.txt"),
    ("dashboard --runs {ws}/../elsewhere --root {ws} --no-browser", "outside --root"),
    ("", "required"),
    ("transmogrify", "invalid choice"),
]


@pytest.mark.parametrize("command, fragment", CASES, ids=[c[0][:60] for c in CASES])
def test_bad_input(ws, command, fragment):
    before, models_before = snapshot(ws), models_state()
    argv = [part.replace("{ws}", str(ws)) for part in command.split()]
    result = run_in_process(*argv)
    assert_user_error(result, fragment.replace("{ws}", str(ws)))
    assert snapshot(ws) == before, "the workspace changed"
    assert models_state() == models_before, "a shipped checkpoint changed"
    assert not (ws / "PWNED").exists(), "a planted pickle ran"


def test_catalogue_is_large_and_covers_every_command():
    commands = {" ".join(c.split()[:2]) if c.split()[:1] != ["flow"] else "flow" for c, _ in CASES if c}
    expected = {"data synth", "data animate", "data label", "data portraits", "data info", "flow", "bench seg",
                "bench flow", "train seg", "train flow", "train decision", "dvs run", "dvs labels", "dvs sweep"}
    assert expected <= {c if not c.startswith(("predict", "dashboard")) else c.split()[0] for c in commands}
    assert any(c.startswith("predict") for c, _ in CASES) and any(c.startswith("dashboard") for c, _ in CASES)
    assert len(CASES) >= 80


def test_no_bare_int_or_float_option():
    """Every numeric option takes its type from the one table, ``workbench.cli.types``."""
    modules = sorted((ROOT / "workbench" / "cli").glob("*.py"))
    assert len(modules) >= 8
    for path in modules:
        name = path.name
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
                for kw in node.keywords:
                    if kw.arg == "type":
                        assert not (isinstance(kw.value, ast.Name) and kw.value.id in ("int", "float")), \
                            f"{name}:{node.lineno}: bare {kw.value.id} option; use workbench.cli.types"


def test_planted_pickle_would_run_without_the_guard(ws, tmp_path):
    """The planted files are real exploits: loaded with code allowed, they create the marker. (This is why
    every load goes through ``workbench.io.checkpoints.load_torch_file``.)"""
    marker = tmp_path / "ran"
    torch.save({"x": Planted(marker)}, tmp_path / "evil.pt")
    torch.load(tmp_path / "evil.pt", weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("code, text", [(28, "No space left on device"), (30, "Read-only file system")])
def test_full_or_read_only_file_system_is_one_line(ws, tmp_path, monkeypatch, code, text):
    """The operating system refusing a write (ENOSPC, EROFS) is one line naming the file; nothing is left."""
    import os

    import workbench.io.atomic as atomic

    def refuse(src, dst):
        raise OSError(code, text, str(dst))

    monkeypatch.setattr(atomic.os, "replace", refuse)
    out = tmp_path / "o"
    result = run_in_process("data", "synth", "--out", str(out), "--clips", "1", "--frames", "2", "--size", "64x48",
                            "--quiet")
    assert_user_error(result, text)
    left = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert left == [], left
    monkeypatch.setattr(atomic.os, "replace", os.replace)
