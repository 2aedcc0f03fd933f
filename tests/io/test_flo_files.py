"""Middlebury .flo and KITTI PNG flow files (workbench.io.flo)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from workbench.errors import InputError
from workbench.io.flo import flo_bytes, read_flo, read_kitti_flow, write_flo, write_kitti_flow


def random_flow(height: int = 5, width: int = 7, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(0, 8, (2, height, width))).astype(np.float32)


def test_flo_round_trip_with_unknowns(tmp_path):
    flow = random_flow()
    flow[:, 1, 2] = np.nan
    flow[0, 3, 4] = np.nan  # one component unknown → the whole vector is unknown
    path = tmp_path / "a.flo"
    write_flo(path, flow)
    back = read_flo(path)
    assert back.dtype == np.float32 and back.shape == (2, 5, 7)
    unknown = np.zeros((5, 7), bool)
    unknown[1, 2] = unknown[3, 4] = True
    np.testing.assert_array_equal(np.isnan(back).any(axis=0), unknown)
    assert np.isnan(back[:, unknown]).all()
    np.testing.assert_array_equal(back[:, ~unknown], flow[:, ~unknown])
    raw = read_flo(path, unknown_as_nan=False)
    np.testing.assert_array_equal(raw[:, 1, 2], [1e10, 1e10])


def test_flo_byte_layout():
    flow = np.zeros((2, 2, 3), np.float32)  # H = 2, W = 3
    flow[0, 0, 1] = 1.5   # u at row 0, column 1
    flow[1, 1, 2] = -2.0  # v at row 1, column 2
    data = flo_bytes(flow)
    assert data[:4] == b"PIEH"
    assert struct.unpack("<ii", data[4:12]) == (3, 2)  # width then height, little-endian
    assert len(data) == 12 + 2 * 3 * 2 * 4
    values = struct.unpack("<12f", data[12:])  # interleaved (u, v), row-major
    assert values[2 * 1] == 1.5                 # pixel (0, 1), u
    assert values[2 * (1 * 3 + 2) + 1] == -2.0  # pixel (1, 2), v
    assert sum(abs(v) for v in values) == 3.5


def test_flo_errors_name_the_file(tmp_path):
    good = flo_bytes(random_flow())
    cases = {
        "wrongtag.flo": b"XXXX" + good[4:],
        "truncated.flo": good[:-10],
        "empty.flo": b"",
        "header.flo": good[:8],
    }
    messages = {
        "wrongtag.flo": r"wrong \.flo tag b'XXXX', expected b'PIEH'",
        "truncated.flo": r"282 bytes, expected 292 for a 7x5 \.flo \(truncated or padded\)",
        "empty.flo": r"0 bytes, too short",
        "header.flo": r"8 bytes, too short",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InputError, match=rf"{name.replace('.', '[.]')}: {messages[name]}"):
            read_flo(tmp_path / name)
    with pytest.raises(InputError, match="missing.flo: file not found"):
        read_flo(tmp_path / "missing.flo")


def test_kitti_round_trip_and_validity(tmp_path):
    flow = random_flow(6, 9, seed=3) * 10
    valid = np.ones((6, 9), bool)
    valid[0, :3] = False
    flow[1, 5, 5] = np.nan  # NaN also becomes invalid
    path = tmp_path / "k.png"
    write_kitti_flow(path, flow, valid)
    back, back_valid = read_kitti_flow(path)
    expected_valid = valid.copy()
    expected_valid[5, 5] = False
    np.testing.assert_array_equal(back_valid, expected_valid)
    assert np.abs(back[:, expected_valid] - flow[:, expected_valid]).max() <= 1 / 128 + 1e-6  # 1/64 px steps
    assert (back[:, ~expected_valid] == 0).all()
    (tmp_path / "zero.png").write_bytes(b"")
    with pytest.raises(InputError, match="zero.png: file is empty"):
        read_kitti_flow(tmp_path / "zero.png")
