"""Classical estimators (DIS, Farnebäck, zero): direction and sign of the flow, the registry, input checks."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.errors import InputError
from workbench.flow import FlowEstimator, check_pair, create_flow, list_flows
from workbench.metrics import epe

SHIFT = (3.0, -2.0)  # content moves 3 px right and 2 px up from frame a to frame b


def textured(H: int = 96, W: int = 128, seed: int = 0) -> np.ndarray:
    """Smooth random texture (blurred noise) that DIS and Farnebäck can track, uint8 RGB."""
    import cv2

    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, (H, W, 3)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 2.0) * 3 - 255, 0, 255).astype(np.uint8)


def shifted_pair(dx: float = SHIFT[0], dy: float = SHIFT[1]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, true flow a → b) where b is a translated by (dx, dy): a(x) = b(x + (dx, dy))."""
    big = textured(96 + 20, 128 + 20)
    a = big[10:-10, 10:-10]
    b = big[10 - int(dy):big.shape[0] - 10 - int(dy), 10 - int(dx):big.shape[1] - 10 - int(dx)]
    flow = np.zeros((2, *a.shape[:2]), np.float32)
    flow[0], flow[1] = dx, dy
    return np.ascontiguousarray(a), np.ascontiguousarray(b), flow


def test_shifted_pair_is_what_it_claims():
    a, b, _ = shifted_pair()
    # a(y, x) = b(y + dy, x + dx): the content of a at x sits at x + flow in b
    assert np.array_equal(a[10:50, 10:50], b[10 - 2:50 - 2, 10 + 3:50 + 3])


@pytest.mark.parametrize("name, options, tolerance", [
    ("dis", {"preset": "ultrafast"}, 0.3),
    ("dis", {"preset": "fast"}, 0.3),
    ("dis", {"preset": "medium"}, 0.2),
    ("farneback", {}, 0.3),
])
def test_direction_and_sign_on_a_shifted_image(name, options, tolerance):
    a, b, truth = shifted_pair()
    estimator = create_flow(name, **options)
    flow = estimator.estimate(a, b)
    assert flow.shape == (2, 96, 128) and flow.dtype == np.float32
    inner = (slice(None), slice(12, -12), slice(12, -12))  # away from the borders, where b lacks content
    assert epe(flow[inner], truth[inner]) < tolerance
    # the reversed pair gives the opposite flow
    assert epe(estimator.estimate(b, a)[inner], -truth[inner]) < tolerance
    # and the flow is not just small: sign errors would give an EPE of about 2·|shift| = 7.2 px
    assert np.median(flow[0][inner[1:]]) == pytest.approx(SHIFT[0], abs=0.2)
    assert np.median(flow[1][inner[1:]]) == pytest.approx(SHIFT[1], abs=0.2)


def test_zero_flow():
    a, b, truth = shifted_pair()
    flow = create_flow("zero").estimate(a, b)
    assert flow.shape == (2, 96, 128) and flow.dtype == np.float32 and not flow.any()
    assert epe(flow, truth) == pytest.approx(np.hypot(*SHIFT))


def test_registry():
    assert {"dis", "farneback", "zero", "gt"} <= set(list_flows())
    assert list_flows() == sorted(list_flows())
    for name in ("dis", "farneback", "zero"):
        estimator = create_flow(name)
        assert isinstance(estimator, FlowEstimator) and estimator.name == name
    with pytest.raises(InputError, match=r"unknown flow method 'raft'; expected one of .*dis.*farneback.*zero"):
        create_flow("raft")
    with pytest.raises(InputError, match="unknown DIS preset 'slow'; expected one of ultrafast, fast, medium"):
        create_flow("dis", preset="slow")
    with pytest.raises(InputError, match="poly_n"):
        create_flow("farneback", poly_n=3)


def test_dis_is_deterministic_across_thread_counts():
    """The reason estimate() does not pin OpenCV threads (module docstring)."""
    import cv2

    a, b, _ = shifted_pair()
    before = cv2.getNumThreads()
    try:
        flows = []
        for threads in (1, 2):
            cv2.setNumThreads(threads)
            flows.append(create_flow("dis").estimate(a, b))
    finally:
        cv2.setNumThreads(before)
    assert np.array_equal(flows[0], flows[1])


@pytest.mark.parametrize("name", ["dis", "farneback", "zero"])
def test_input_checks(name):
    estimator = create_flow(name)
    a = textured(48, 64)
    with pytest.raises(InputError, match="frames differ in size: 64x48 and 64x40"):
        estimator.estimate(a, a[:40])
    with pytest.raises(InputError, match=r"second frame must be uint8 RGB \(H, W, 3\), got uint8 \(48, 64\)"):
        estimator.estimate(a, a[:, :, 0])
    with pytest.raises(InputError, match=r"first frame must be uint8 RGB \(H, W, 3\), got float32"):
        estimator.estimate(a.astype(np.float32) / 255, a)
    with pytest.raises(InputError, match="got list"):
        check_pair(a.tolist(), a)
