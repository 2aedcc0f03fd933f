"""MediaPipe Selfie Segmentation as a segmentation network (skipped where `make teacher` has not run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench.errors import InputError
from workbench.seg.checkpoint import load_seg_checkpoint
from workbench.seg.segmenter import Segmenter
from workbench.seg.teacher import mediapipe_available

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"  # tests only; absent in a user's clone
needs_mediapipe = pytest.mark.skipif(not mediapipe_available(), reason="the MediaPipe teacher is not installed "
                                                                         "(make teacher)")


@pytest.fixture(scope="module")
def astronaut():
    from workbench.data.photos import load_photo

    return np.array(load_photo("astronaut"))


@needs_mediapipe
@pytest.mark.parametrize("name", ["mediapipe", "mediapipe_landscape"])
def test_teacher_is_a_network(name, astronaut):
    """Loaded by name like a checkpoint; logits of the frame's size; no parameters; stateless per frame."""
    net = load_seg_checkpoint(name)
    assert net.arch == name and net.input == "rgb" and not net.needs_flow and net.parameters() == 0
    segmenter = Segmenter(net)
    frame = astronaut[::2, ::2]  # 256x256
    first = segmenter.step(frame)
    assert first.shape == (1, 256, 256) and first.dtype == np.float32 and 0 <= first.min() <= first.max() <= 1
    segmenter.step(np.zeros_like(frame))
    np.testing.assert_array_equal(segmenter.step(frame), first)  # nothing carried between frames
    person = segmenter.labels(first)
    assert 0.3 < person.mean() < 0.8  # a head-and-shoulders portrait: the person, not the whole frame
    assert person[200:, 100:160].mean() > 0.9 and person[:30, :30].mean() < 0.05  # torso yes, corner no


@needs_mediapipe
def test_teacher_reproduces_the_shared_masks():
    """The masks in shared/data/real were made by this teacher (general model, p > 0.5)."""
    from workbench.io.images import read_image, read_mask

    folder = REAL
    if not folder.is_dir():
        pytest.skip("shared/data/real is not here")
    net = load_seg_checkpoint("mediapipe")
    for name, ext in (("astronaut", "png"), ("grace_hopper", "jpg")):
        image, mask = read_image(folder / f"{name}.{ext}"), read_mask(folder / f"{name}_mask.png") > 127
        pred = Segmenter(net).labels(Segmenter(net).step(image)) > 0
        iou = (pred & mask).sum() / (pred | mask).sum()
        assert iou > 0.995, (name, iou)


@needs_mediapipe
def test_regions_work_like_frames(astronaut):
    """The adaptive pipeline segments region crops: any size goes."""
    net = load_seg_checkpoint("mediapipe")
    x = np.ascontiguousarray(astronaut[:97, :133])
    assert Segmenter(net).step(x).shape == (1, 97, 133)


def hide_mediapipe(monkeypatch):
    """Make ``import mediapipe...`` fail in this process, as on a machine without the teacher."""
    import builtins
    import sys

    real_import = builtins.__import__

    def no_mediapipe(name, *args, **kwargs):
        if name.startswith("mediapipe"):
            raise ImportError("No module named 'mediapipe'")
        return real_import(name, *args, **kwargs)

    for module in [m for m in sys.modules if m.startswith("mediapipe")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setattr(builtins, "__import__", no_mediapipe)


def test_missing_mediapipe_says_how_to_install(monkeypatch, tmp_path):
    import sys

    from workbench.seg import teacher

    sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
    from cli_helpers import assert_user_error, run_in_process

    hide_mediapipe(monkeypatch)
    with pytest.raises(InputError, match="make teacher"):
        load_seg_checkpoint("mediapipe")
    assert teacher.available_teachers() == []
    frames = tmp_path / "frames"
    frames.mkdir()
    from workbench.io.images import write_image

    write_image(frames / "a.png", np.zeros((32, 48, 3), np.uint8))
    for args in (["predict", "-m", "mediapipe", "--img", str(frames), "-o", str(tmp_path / "out")],
                 ["data", "label", str(frames), "--out", str(tmp_path / "lab")]):
        assert_user_error(run_in_process(*args), "make teacher")
    assert not (tmp_path / "out").exists() and not (tmp_path / "lab").exists()
