"""The ``gt`` estimator: stored flow for neighbours, composition over longer gaps, frames found by content."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.data.render import composite, layer_flow, pixel_grid
from workbench.data.synthetic import SynthConfig, TalkingHeadClip, synthesize
from workbench.errors import InputError
from workbench.flow import create_flow
from workbench.flow.ground_truth import compose_flows
from workbench.io import ClipFolder, ClipWriter, read_flo

CONFIG = SynthConfig(clips=1, frames=5, size=(128, 96), seed=5, difficulty="hard")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> ClipFolder:
    out = tmp_path_factory.mktemp("gt") / "clips"
    synthesize(out, CONFIG, progress=False)
    return ClipFolder(out / "clip_0000")


def test_neighbours_return_the_stored_files_exactly(clip):
    gt = create_flow("gt", sequence=clip)
    for t in range(len(clip) - 1):
        fwd = gt.estimate(clip.frame(t), clip.frame(t + 1))
        assert fwd.dtype == np.float32
        assert np.array_equal(fwd, read_flo(clip.root / "flow_fwd" / f"{t:06d}.flo"))
        bwd = gt.estimate(clip.frame(t + 1), clip.frame(t))
        assert np.array_equal(bwd, read_flo(clip.root / "flow_bwd" / f"{t + 1:06d}.flo"))
        assert np.array_equal(gt.estimate_indices(t, t + 1), fwd)
    same = gt.estimate(clip.frame(2), clip.frame(2))
    assert same.shape == (2, 96, 128) and not same.any()


def _direct_and_visible(t_a: int, t_b: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact flow t_a → t_b from the generator's layer transforms, and the pixels whose point stays on its
    own layer at every intermediate frame with all four bilinear neighbours (not occluded, not near an edge)."""
    clip = TalkingHeadClip(CONFIG, 0)
    mats = [clip.transforms(i / clip.fps) for i in range(CONFIG.frames)]
    owners = [composite(clip.layers, m, clip.size)[1] for m in mats]
    grid = pixel_grid(clip.size)
    H, W = owners[0].shape
    layer = owners[t_a]
    visible = np.ones((H, W), bool)
    step = 1 if t_b > t_a else -1
    for t in range(t_a + step, t_b, step):
        flow = layer_flow(mats[t_a], mats[t], layer, grid)
        x0 = np.floor(grid[0] + flow[0]).astype(int)
        y0 = np.floor(grid[1] + flow[1]).astype(int)
        visible &= (x0 >= 0) & (y0 >= 0) & (x0 + 1 < W) & (y0 + 1 < H)
        for dx in (0, 1):
            for dy in (0, 1):
                visible &= owners[t][np.clip(y0 + dy, 0, H - 1), np.clip(x0 + dx, 0, W - 1)] == layer
    return layer_flow(mats[t_a], mats[t_b], layer, grid), visible


@pytest.mark.parametrize("t_a, t_b", [(0, 2), (0, 3), (1, 4), (4, 1), (3, 0)])
def test_composition_matches_the_direct_truth_where_visible(clip, t_a, t_b):
    gt = create_flow("gt", sequence=clip)
    composed = gt.estimate(clip.frame(t_a), clip.frame(t_b))
    direct, visible = _direct_and_visible(t_a, t_b)
    assert visible.mean() > 0.8
    assert np.isfinite(composed[:, visible]).all()
    error = np.hypot(*(composed[:, visible] - direct[:, visible]))
    assert error.max() < 0.05
    moving = np.hypot(*direct[:, visible]).max()
    assert moving > 1.0  # the test means something: the composed flow is far from any single step
    assert np.array_equal(composed, gt.estimate_indices(t_a, t_b), equal_nan=True)


def test_composition_marks_points_that_leave_the_frame_unknown():
    first = np.zeros((2, 4, 5), np.float32)
    first[0] = 1.5  # every point moves 1.5 px right; the last two columns leave the frame
    second = np.ones((2, 4, 5), np.float32)
    second[:, 0, 3] = np.nan  # an unknown vector poisons only the samples it contributes to
    out = compose_flows(first, second)
    assert np.isnan(out[:, :, 4]).all() and np.isnan(out[:, :, 3]).all()
    assert np.isnan(out[:, 0, 1]).all() and np.isnan(out[:, 0, 2]).all()  # samples at x = 2.5 and 3.5
    assert np.isfinite(out[:, 0, 0]).all() and np.isfinite(out[:, 1:, :3]).all()
    np.testing.assert_allclose(out[0, 1:, :3], 2.5)
    first[:, 2, 0] = np.nan
    assert np.isnan(compose_flows(first, second)[:, 2, 0]).all()


def test_unknown_frame_is_an_error(clip):
    gt = create_flow("gt", sequence=clip)
    other = clip.frame(1).copy()
    other[0, 0, 0] ^= 1  # one grey level in one pixel is another frame
    with pytest.raises(InputError, match="the second frame .* is not a frame of 'clip_0000'"):
        gt.estimate(clip.frame(0), other)
    with pytest.raises(InputError, match="frames differ in size"):
        gt.estimate(clip.frame(0), clip.frame(1)[:50])
    with pytest.raises(InputError, match="out of range"):
        gt.estimate_indices(0, 5)


def test_needs_a_sequence_with_flow(tmp_path):
    writer = ClipWriter(tmp_path / "noflow")
    writer.write(0, np.zeros((8, 8, 3), np.uint8))
    writer.write(1, np.ones((8, 8, 3), np.uint8))
    with pytest.raises(InputError, match="no ground-truth flow"):
        create_flow("gt", sequence=ClipFolder(tmp_path / "noflow"))
    with pytest.raises(InputError, match="expected a Sequence"):
        create_flow("gt", sequence=str(tmp_path))
    with pytest.raises(InputError, match="needs the sequence"):
        create_flow("gt")


def test_repeated_frames_pick_the_closest_pair(tmp_path):
    """A static stretch repeats the same frame: the pair of occurrences closest in time is used."""
    writer = ClipWriter(tmp_path / "static")
    H, W = 6, 8
    frames = [np.full((H, W, 3), v, np.uint8) for v in (10, 20, 20, 30)]
    for t, frame in enumerate(frames):
        fwd = np.full((2, H, W), t + 1, np.float32) if t < 3 else None
        bwd = np.full((2, H, W), -(t + 1), np.float32) if t > 0 else None
        writer.write(t, frame, flow_fwd=fwd, flow_bwd=bwd)
    gt = create_flow("gt", sequence=ClipFolder(tmp_path / "static"))
    assert not gt.estimate(frames[1], frames[2]).any()  # (1, 1) or (2, 2), not (1, 2)
    assert (gt.estimate(frames[2], frames[3]) == 3).all()  # frame 2 → 3, not 1 → 3
    assert (gt.estimate(frames[1], frames[0]) == -2).all()  # frame 1 → 0
