"""Region grid (DVSNet's geometry) and stitching by confidence."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.errors import InputError
from workbench.pipeline import parse_grid, region_grid, stitch


def test_dvsnet_geometry():
    """2×2 with overlap 64 on 1024×2048 gives DVSNet's 576×1088 regions, covering the frame."""
    regions = region_grid(2048, 1024, 2, 2, 64)
    assert [r.size for r in regions] == [(1088, 576)] * 4
    assert (regions[0].y0, regions[0].x0, regions[3].y1, regions[3].x1) == (0, 0, 1024, 2048)
    assert (regions[1].x0, regions[2].y0) == (1024 - 64, 512 - 64)
    cover = np.zeros((1024, 2048), int)
    for r in regions:
        cover[r.box] += 1
    assert cover.min() == 1 and cover.max() == 4  # the centre belongs to all four


def test_single_region_and_parse():
    (only,) = region_grid(320, 192, 1, 1, 50)  # no neighbour: overlap is irrelevant
    assert only.size == (320, 192)
    assert parse_grid("3x2") == (3, 2) and parse_grid("1×4") == (1, 4)
    with pytest.raises(InputError, match="ROWSxCOLS"):
        parse_grid("2by2")


@pytest.mark.parametrize("args, message", [((320, 192, 2, 2, 97), "larger than a region"),
                                           ((320, 192, 20, 2, 0), "does not fit"),
                                           ((320, 192, 0, 2, 0), "at least one"),
                                           ((320, 192, 2, 2, -1), "0 or more")])
def test_bad_grids(args, message):
    with pytest.raises(InputError, match=message):
        region_grid(*args)


def test_stitch_keeps_the_more_confident_region():
    regions = region_grid(40, 16, 1, 2, 4)  # left 0..24, right 16..40: columns 16..23 overlap
    left = np.full((1, 16, regions[0].size[0]), 0.5, np.float32)
    right = np.full((1, 16, regions[1].size[0]), -2.0, np.float32)  # confident background wins the overlap
    out = stitch([left, right], regions, 40, 16)
    assert np.all(out[0, :, :16] == 0.5) and np.all(out[0, :, 16:] == -2.0)
    multi = stitch([np.concatenate([left, left + 3]), np.concatenate([right, right])], regions, 40, 16)
    assert np.all(multi[1, :, :24] == 3.5)  # max logit 3.5 beats −2 wherever the left region reaches
    assert np.all(multi[1, :, 24:] == -2.0)


def test_one_region_stitches_to_a_copy_of_itself():
    (only,) = region_grid(40, 16, 1, 1, 0)
    logits = np.random.default_rng(0).normal(size=(2, 16, 40)).astype(np.float32)
    out = stitch([logits], [only], 40, 16)
    assert np.array_equal(out, logits) and out is not logits and not np.shares_memory(out, logits)
    general = stitch([logits, logits], [only, only], 40, 16)  # the general path: the same values
    assert np.array_equal(general, out)
