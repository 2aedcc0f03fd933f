"""Backward warping (docs/conventions.md): ``warp(img, flow)`` samples ``img`` at ``x + flow(x)``, bilinear, with a
validity mask that is 1 inside the image (between the outermost pixel centres) and 0 outside."""

from __future__ import annotations

import pytest
import torch

from workbench.ops import flow_grid, warp


def image(shape, seed=0, dtype=torch.float64):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


def constant_flow(N, H, W, dx, dy, dtype=torch.float64):
    flow = torch.zeros(N, 2, H, W, dtype=dtype)
    flow[:, 0], flow[:, 1] = dx, dy  # channel 0 = dx (+right), 1 = dy (+down)
    return flow


def test_zero_flow_is_identity_and_all_valid():
    x = image((2, 3, 5, 7), dtype=torch.float32)
    warped, valid = warp(x, torch.zeros(2, 2, 5, 7))
    torch.testing.assert_close(warped, x, rtol=0, atol=1e-6)
    assert valid.shape == (2, 1, 5, 7) and torch.all(valid == 1)


def test_integer_shift_is_a_rolled_image_with_a_validity_border():
    """flow = (dx, dy) = (2, −1): warped[y, x] = img[y − 1, x + 2], valid for y ≥ 1 and x ≤ W − 3."""
    N, C, H, W = 2, 3, 6, 9
    x = image((N, C, H, W), seed=1)
    warped, valid = warp(x, constant_flow(N, H, W, dx=2.0, dy=-1.0))
    rolled = torch.roll(x, shifts=(1, -2), dims=(2, 3))  # rolled[y, x] = img[y − 1, x + 2] (wrapping)
    expected_valid = torch.zeros(H, W)
    expected_valid[1:, : W - 2] = 1.0
    assert torch.equal(valid[:, 0], expected_valid.expand(N, H, W).to(valid.dtype))
    inside = expected_valid.bool()
    torch.testing.assert_close(warped[..., inside], rolled[..., inside], rtol=0, atol=1e-12)
    # Zero padding, not the wrapped-around pixels (up to rounding of grid_sample's coordinate normalisation).
    assert torch.all(warped[..., ~inside].abs() < 1e-12)


def test_sub_pixel_sample_is_bilinear():
    """At (x, y) = (0, 0) with flow (0.25, 0.5): weights 0.375, 0.125, 0.375, 0.125 on the 2×2 neighbours."""
    img = torch.tensor([[1.0, 2.0, 0.0], [4.0, 8.0, 0.0], [0.0, 0.0, 0.0]], dtype=torch.float64)[None]  # (1, 3, 3)
    flow = torch.zeros(2, 3, 3, dtype=torch.float64)
    flow[0, 0, 0], flow[1, 0, 0] = 0.25, 0.5
    warped, valid = warp(img, flow)
    expected = 0.75 * 0.5 * 1.0 + 0.25 * 0.5 * 2.0 + 0.75 * 0.5 * 4.0 + 0.25 * 0.5 * 8.0  # = 3.125
    assert warped[0, 0, 0].item() == pytest.approx(expected, abs=1e-12)
    assert valid[0, 0, 0] == 1.0


def test_unbatched_inputs_match_batched():
    x = image((3, 5, 7), seed=2)
    flow = (image((2, 5, 7), seed=3) - 0.5) * 3
    warped, valid = warp(x, flow)
    assert warped.shape == (3, 5, 7) and valid.shape == (1, 5, 7)
    batched, batched_valid = warp(x[None], flow[None])
    assert torch.equal(warped, batched[0]) and torch.equal(valid, batched_valid[0])


def test_validity_at_and_beyond_the_border():
    """A sample exactly on the last pixel centre is valid; 0.01 px beyond it is not."""
    x = image((1, 1, 4, 5))
    warped, valid = warp(x, constant_flow(1, 4, 5, dx=4.0, dy=0.0))
    assert torch.all(valid[0, 0, :, 0] == 1) and torch.all(valid[0, 0, :, 1:] == 0)
    torch.testing.assert_close(warped[0, 0, :, 0], x[0, 0, :, 4])
    _, valid = warp(x, constant_flow(1, 4, 5, dx=4.01, dy=0.0))
    assert torch.all(valid == 0)


def test_gradcheck_image_and_flow():
    x = image((1, 2, 4, 5), seed=4).requires_grad_(True)
    # Fractional flows (away from integer positions, where bilinear interpolation has kinks).
    sign = torch.tensor([1.0, -1.0], dtype=torch.float64)[None, :, None, None]
    flow = (0.2 + 0.6 * image((1, 2, 4, 5), seed=5)) * sign
    flow.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, f: warp(a, f)[0], (x, flow), eps=1e-6, atol=1e-6)


def test_flow_grid_normalises_pixel_centres():
    grid = flow_grid(torch.zeros(1, 2, 3, 5))
    assert grid.shape == (1, 3, 5, 2)
    torch.testing.assert_close(grid[0, 0, 0], torch.tensor([-1.0, -1.0]))
    torch.testing.assert_close(grid[0, -1, -1], torch.tensor([1.0, 1.0]))


@pytest.mark.parametrize("x,flow", [
    (torch.zeros(1, 3, 4, 5), torch.zeros(1, 3, 4, 5)),
    (torch.zeros(1, 3, 4, 5), torch.zeros(2, 2, 4, 5)),
    (torch.zeros(1, 3, 4, 5), torch.zeros(1, 2, 4, 6)),
])
def test_bad_shapes(x, flow):
    with pytest.raises(ValueError, match="warp"):
        warp(x, flow)


def test_without_the_mask_the_warp_is_the_same():
    x, flow = torch.randn(2, 3, 9, 11), 3 * torch.randn(2, 2, 9, 11)
    for a, b in ((x, flow), (x[0], flow[0])):
        warped, mask = warp(a, b, padding="border")
        only, none = warp(a, b, padding="border", valid=False)
        assert none is None and torch.equal(only, warped) and mask is not None
