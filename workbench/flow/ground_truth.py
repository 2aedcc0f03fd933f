"""The ground-truth "estimator": a clip's stored flow behind the FlowEstimator interface, for ablations
(what would the pipeline do with perfect flow?).

Convention (``workbench.flow.base``): flow **from a to b** in pixels, ``float32 (2, H, W)``, channel 0 = dx
(+right), 1 = dy (+down), ``frame_a(x) ≈ frame_b(x + flow(x))``; NaN = unknown.

``estimate(frame_a, frame_b)`` finds both frames in the sequence by content (a hash of the frame bytes;
the index is built lazily, once, by reading every frame) and returns, for frame indices ``t_a → t_b``:

- ``t_b = t_a + 1``: ``flow_fwd[t_a]``; ``t_b = t_a − 1``: ``flow_bwd[t_a]`` — the stored arrays, exactly;
- ``t_b = t_a``: zeros;
- ``|t_b − t_a| > 1``: the composition of consecutive flows along the chain,
  ``F_{a→k+1}(x) = F_{a→k}(x) + F_{k→k+1}(x + F_{a→k}(x))``, where the next flow is sampled by bilinear
  backward warping (``workbench.ops.warp``).

The composition is exact where the point stays visible (not occluded) all along the chain and the flow is
locally affine (the synthetic clips' rigid layers); it is approximate elsewhere: at an occluded point the
stored flow of the next step is that of the occluder, and bilinear samples that straddle a motion boundary
mix two motions. A point that leaves the frame part-way, or whose sample touches an unknown (NaN) vector,
gets NaN: unknown stays unknown.

If the same frame content occurs more than once in a sequence (a perfectly static stretch), the pair of
occurrences closest in time is used.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from workbench.errors import InputError
from workbench.flow.base import FlowEstimator, check_pair, register_flow
from workbench.io.sequence import Sequence
from workbench.ops.warp import warp


def frame_key(frame: np.ndarray) -> bytes:
    """Content key of a frame: a digest of its shape and bytes."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr(frame.shape).encode())
    digest.update(np.ascontiguousarray(frame).tobytes())
    return digest.digest()


def compose_flows(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Flow a→c from a→b (``first``) and b→c (``second``): ``first(x) + second(x + first(x))``.

    ``second`` is sampled bilinearly; the result is NaN where ``first`` is unknown, where ``x + first(x)``
    falls outside the frame, or where any bilinear neighbour with non-zero weight is unknown.
    """
    first_t = torch.from_numpy(np.ascontiguousarray(first, np.float32))
    second_t = torch.from_numpy(np.ascontiguousarray(second, np.float32))
    known_first = torch.isfinite(first_t).all(dim=0)  # (H, W)
    known_second = torch.isfinite(second_t).all(dim=0, keepdim=True).to(torch.float32)  # (1, H, W)
    # Sample with unknowns zeroed and, separately, the known mask: a sample is trusted only if every
    # neighbour that contributes to it is known (the warped mask is then 1 up to rounding).
    along = torch.where(known_first, first_t, torch.zeros_like(first_t))
    sampled, valid = warp(torch.cat([torch.nan_to_num(second_t, nan=0.0), known_second]), along)
    moved, known = sampled[:2], sampled[2]  # (2, H, W), (H, W)
    ok = known_first & (valid[0] > 0) & (known > 1.0 - 1e-4)
    out = first_t + moved
    out[:, ~ok] = float("nan")
    return out.numpy()


@register_flow("gt")
class GroundTruthFlow(FlowEstimator):
    """Flow read from a sequence's ground truth (``flow_fwd`` / ``flow_bwd``), composed over longer gaps."""

    needs_sequence = True

    def __init__(self, sequence: Sequence | None = None):
        if sequence is None:
            raise InputError("gt flow needs the sequence whose ground truth to read: "
                             "create_flow('gt', sequence=ClipFolder(path))")
        if not isinstance(sequence, Sequence):
            raise InputError(f"gt flow: expected a Sequence (e.g. a ClipFolder), got {type(sequence).__name__}")
        if not sequence.has_flow:
            raise InputError(f"{sequence.name or sequence!r}: the sequence has no ground-truth flow "
                             "(expected flow_fwd/ and flow_bwd/ .flo files)")
        self.sequence = sequence
        self._index: dict[bytes, list[int]] | None = None

    def _frame_index(self) -> dict[bytes, list[int]]:
        if self._index is None:
            index: dict[bytes, list[int]] = {}
            for t in range(len(self.sequence)):
                index.setdefault(frame_key(self.sequence.frame(t)), []).append(t)
            self._index = index
        return self._index

    def find(self, frame: np.ndarray, label: str = "frame") -> list[int]:
        """Indices of the frames of the sequence with exactly this content (an error if there are none)."""
        found = self._frame_index().get(frame_key(frame))
        if not found:
            H, W = frame.shape[:2]
            raise InputError(f"gt flow: the {label} ({W}x{H}) is not a frame of {self.sequence.name!r} "
                             f"({len(self.sequence)} frames); ground truth exists only for its own frames")
        return found

    def estimate(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        check_pair(frame_a, frame_b)
        candidates_a, candidates_b = self.find(frame_a, "first frame"), self.find(frame_b, "second frame")
        t_a, t_b = min(((a, b) for a in candidates_a for b in candidates_b), key=lambda ab: (abs(ab[1] - ab[0]), ab))
        return self.estimate_indices(t_a, t_b)

    def _step(self, t: int, direction: int) -> np.ndarray:
        flow = self.sequence.flow_fwd(t) if direction > 0 else self.sequence.flow_bwd(t)
        if flow is None:
            kind = "flow_fwd" if direction > 0 else "flow_bwd"
            raise InputError(f"{self.sequence.name}: no {kind} ground truth for frame {t}")
        return flow

    def estimate_indices(self, t_a: int, t_b: int) -> np.ndarray:
        """Ground-truth flow from frame ``t_a`` to frame ``t_b`` of the sequence (see the module docstring)."""
        n = len(self.sequence)
        for t in (t_a, t_b):
            if not 0 <= t < n:
                raise InputError(f"{self.sequence.name}: frame {t} out of range (0..{n - 1})")
        if t_a == t_b:
            W, H = self.sequence.size
            return np.zeros((2, H, W), np.float32)
        direction = 1 if t_b > t_a else -1
        flow = self._step(t_a, direction)
        for t in range(t_a + direction, t_b, direction):
            flow = compose_flows(flow, self._step(t, direction))
        return np.asarray(flow, np.float32)
