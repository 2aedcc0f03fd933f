"""Motion model of a video call: smooth sway/nod/turn/lean, fast events, camera pan/zoom.

Every pose parameter is a *continuous function of time* (seconds), so a frame can be rendered at any
instant (sub-frame samples for motion blur) and the transforms at two frame times give the exact flow.
Statistics are chosen to look like a webcam: slow sway of a few percent of the frame width with periods
of 1–10 s, head roll of a few degrees, occasional fast moves (head shake 2.5–4 Hz, nod, hand wave,
hand across the face) of 0.5–2 s.

Transforms are 3×3 homogeneous matrices that map a layer's sprite coordinates to image coordinates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


def translate(x: float, y: float) -> np.ndarray:
    return np.array([[1.0, 0.0, x], [0.0, 1.0, y], [0.0, 0.0, 1.0]])


def rotate(degrees: float) -> np.ndarray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def scale(sx: float, sy: float | None = None) -> np.ndarray:
    return np.diag([sx, sx if sy is None else sy, 1.0])


def about(point: tuple[float, float], matrix: np.ndarray) -> np.ndarray:
    """``matrix`` applied about ``point`` instead of the origin."""
    return translate(*point) @ matrix @ translate(-point[0], -point[1])


def smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


class SmoothSignal:
    """Sum of a few sinusoids with random frequencies in ``[fmin, fmax]`` Hz: a smooth signal in ~[−1, 1]."""

    def __init__(self, rng: np.random.Generator, fmin: float, fmax: float, terms: int = 3):
        self.freqs = np.exp(rng.uniform(np.log(fmin), np.log(fmax), terms))
        self.phases = rng.uniform(0, 2 * np.pi, terms)
        weights = 1.0 / np.sqrt(self.freqs)  # slower components carry more of the motion (1/f-like)
        self.weights = weights / weights.sum()

    def __call__(self, t: float) -> float:
        return float(np.sum(self.weights * np.sin(2 * np.pi * self.freqs * t + self.phases)))


@dataclass
class Event:
    """A fast move: ``kind`` ∈ shake | nod | wave | cross | lean; ``start`` and ``duration`` in seconds."""

    kind: str
    start: float
    duration: float
    side: int = 1  # which side the hand comes from / the lean direction
    amplitude: float = 1.0
    frequency: float = 3.0

    def envelope(self, t: float, ramp: float = 0.15) -> float:
        """Smoothly 0 → 1 → 0 over the event so that nothing jumps."""
        if not self.start <= t <= self.start + self.duration:
            return 0.0
        return smoothstep((t - self.start) / ramp) * smoothstep((self.start + self.duration - t) / ramp)

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass
class MotionParams:
    """How much of each motion a clip has (set by the difficulty)."""

    sway: float = 0.06  # horizontal sway, fraction of frame width
    bob: float = 0.02  # vertical bob, fraction of frame height
    roll: float = 3.0  # body roll, degrees
    lean: float = 0.08  # lean in/out, relative scale
    head_roll: float = 6.0  # degrees
    head_yaw: float = 0.25  # radians
    head_pitch: float = 0.2  # radians
    camera_pan: float = 0.0  # fraction of frame width (0: static camera)
    camera_zoom: float = 0.0  # relative zoom range
    event_rate: float = 0.05  # extra fast moves per second
    event_prob: float = 0.5  # probability of at least one fast move in a clip
    speed: float = 1.0  # time scaling of the slow motions


class MotionModel:
    """Poses of torso, head, arm and camera at any time ``t`` (seconds) for one clip."""

    def __init__(self, rng: np.random.Generator, params: MotionParams, duration: float, has_arm: bool,
                 rigid: bool = False):
        self.params = params
        self.rigid = rigid  # one rigid person layer (still-to-video): no head/arm motions
        self.has_arm = has_arm and not rigid
        s = params.speed
        self.sway, self.bob = SmoothSignal(rng, 0.1 * s, 0.8 * s), SmoothSignal(rng, 0.15 * s, 0.8 * s)
        self.roll, self.lean = SmoothSignal(rng, 0.1 * s, 0.6 * s), SmoothSignal(rng, 0.05 * s, 0.4 * s)
        self.head_roll = SmoothSignal(rng, 0.15 * s, 1.0 * s)
        self.head_yaw, self.head_pitch = SmoothSignal(rng, 0.15 * s, 1.0 * s), SmoothSignal(rng, 0.15 * s, 1.0 * s)
        self.pan_x, self.pan_y = SmoothSignal(rng, 0.03, 0.2), SmoothSignal(rng, 0.03, 0.2)
        self.zoom = SmoothSignal(rng, 0.03, 0.15)
        self.events = self._sample_events(rng, duration)

    def _sample_events(self, rng: np.random.Generator, duration: float) -> list[Event]:
        kinds = ["lean"] if self.rigid else ["shake", "nod", "lean"] + (["wave", "cross", "cross"] if self.has_arm
                                                                         else [])
        count = int(rng.random() < self.params.event_prob) + int(rng.poisson(self.params.event_rate * duration))
        events: list[Event] = []
        for _ in range(count):
            kind = str(rng.choice(kinds))
            length = {"shake": rng.uniform(0.6, 1.3), "nod": rng.uniform(0.5, 1.0), "lean": rng.uniform(0.5, 1.0),
                      "wave": rng.uniform(1.2, 2.2), "cross": rng.uniform(1.0, 1.8)}[kind]
            length = min(length, max(duration, 0.3))
            start = rng.uniform(0.0, max(duration - length, 0.0))
            event = Event(kind, float(start), float(length), side=int(rng.choice([-1, 1])),
                          amplitude=float(rng.uniform(0.7, 1.0)), frequency=float(rng.uniform(2.5, 4.0)))
            # One arm: hand events never overlap (the others may, like real fidgeting).
            if kind in ("wave", "cross") and any(
                    e.kind in ("wave", "cross") and e.start < start + length and start < e.start + e.duration
                    for e in events):
                continue
            events.append(event)
        return sorted(events, key=lambda e: e.start)

    # ---- poses (all in the units documented on each) ----

    def body(self, t: float, size: tuple[int, int]) -> tuple[float, float, float, float]:
        """(dx px, dy px, roll degrees, scale) of the torso about its neck point."""
        W, H = size
        p = self.params
        dx = p.sway * W * self.sway(t)
        dy = p.bob * H * self.bob(t)
        roll = p.roll * self.roll(t)
        lean = p.lean * self.lean(t)
        for e in self.events:
            if e.kind == "lean":
                lean += 0.12 * e.side * e.amplitude * e.envelope(t, ramp=0.3)
        return dx, dy, roll, 1.0 + lean

    def head(self, t: float) -> tuple[float, float, float]:
        """(roll degrees, yaw radians, pitch radians) of the head relative to the torso."""
        p = self.params
        roll = p.head_roll * self.head_roll(t)
        yaw, pitch = p.head_yaw * self.head_yaw(t), p.head_pitch * self.head_pitch(t)
        for e in self.events:
            env = e.envelope(t)
            if env and e.kind == "shake":
                yaw += 0.55 * e.amplitude * env * np.sin(2 * np.pi * e.frequency * (t - e.start))
            elif env and e.kind == "nod":
                pitch += 0.4 * e.amplitude * env * np.sin(2 * np.pi * 0.7 * e.frequency * (t - e.start))
        return roll, yaw, pitch

    def arm(self, t: float, u: float, neck: tuple[float, float]) -> tuple[float, float, float]:
        """(x, y, angle degrees) of the wrist in torso-sprite coordinates; off-screen below when at rest."""
        cx, ny = neck
        for e in self.events:
            if e.kind not in ("wave", "cross") or not e.start <= t <= e.start + e.duration:
                continue
            rest = (cx + e.side * 0.45 * u, ny + 1.4 * u, e.side * 25.0)
            if e.kind == "wave":
                start = end = (cx + e.side * 0.34 * u, ny - 0.1 * u, e.side * 12.0)
            else:  # across the face, from its side to the other
                start = (cx + e.side * 0.42 * u, ny - 0.12 * u, e.side * 35.0)
                end = (cx - e.side * 0.22 * u, ny - 0.16 * u, e.side * 30.0)
            ramp = min(0.35, e.duration / 3)
            k_in = smoothstep((t - e.start) / ramp)
            k_out = smoothstep((e.start + e.duration - t) / ramp)
            k_move = smoothstep((t - e.start - ramp) / max(e.duration - 2 * ramp, 1e-3))
            held = [a + (b - a) * k_move for a, b in zip(start, end, strict=True)]
            if e.kind == "wave":
                held[2] += 22.0 * e.amplitude * np.sin(2 * np.pi * e.frequency * (t - e.start))
            k = min(k_in, k_out)
            return tuple(r + (h - r) * k for r, h in zip(rest, held, strict=True))  # type: ignore[return-value]
        return cx + 0.45 * u, ny + 1.4 * u, 25.0

    def camera(self, t: float, size: tuple[int, int]) -> np.ndarray:
        """Camera pan/zoom as an image-space transform about the frame centre."""
        W, H = size
        p = self.params
        if not (p.camera_pan or p.camera_zoom):
            return np.eye(3)
        zoom = 1.0 + p.camera_zoom * (0.5 + 0.5 * self.zoom(t))
        pan = translate(p.camera_pan * W * self.pan_x(t), 0.5 * p.camera_pan * H * self.pan_y(t))
        return about((W / 2.0, H / 2.0), scale(zoom)) @ pan

    def fast_at(self, t: float) -> bool:
        return any(e.envelope(t) > 0 for e in self.events)
