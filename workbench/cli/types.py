"""Every value the command line accepts, in one table: its type, its range, and the message when it is wrong.

The parsers in :mod:`workbench.cli` and :mod:`workbench.cli.dvs` take their ``type=`` from here and nowhere
else (``tests/cli/test_bad_inputs.py`` checks that no option uses a bare ``int`` or ``float``). A value out of
range is refused at the command line with one line naming the option — never clamped, rounded or replaced by
a default — so ``--fps 0``, ``--threads 0``, ``--intervals 1.5`` or ``--grid 0x3`` cannot reach the code.

The upper bounds keep every command's work bounded; they are far above any sensible use:

=====================  ==============================================================================
:data:`MAX_SIDE`       frame width or height (4096 px), :data:`MIN_SIDE` the smallest (16 px)
:data:`MAX_COUNT`      clips, frames, epochs, steps (100 000 each)
:data:`MAX_LIST`       values in a sweep list or range (``--targets``, ``--intervals``: 200)
:data:`MAX_GRID`       rows or columns of a region or feature grid (32)
=====================  ==============================================================================
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable, Iterator
from typing import Any

from workbench.errors import InputError

MIN_SIDE = 16
MAX_SIDE = 4096
MAX_COUNT = 100_000
MAX_LIST = 200
MAX_GRID = 32


class Number:
    """A number option: ``Number(int, 1, 100)`` accepts whole numbers 1..100, with a one-line error otherwise."""

    def __init__(self, kind: type, lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
                 hi_open: bool = False) -> None:
        self.kind, self.lo, self.hi, self.lo_open, self.hi_open = kind, lo, hi, lo_open, hi_open
        self.__name__ = self.expected  # argparse names the type in some messages

    @property
    def expected(self) -> str:
        what = "a whole number" if self.kind is int else "a number"
        if self.lo is not None and self.hi is not None:
            return f"{what} in {'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}{')' if self.hi_open else ']'}"
        if self.lo is not None:
            return f"{what} {'>' if self.lo_open else '>='} {self.lo:g}"
        if self.hi is not None:
            return f"{what} {'<' if self.hi_open else '<='} {self.hi:g}"
        return what

    def check(self, value: float, shown: str | None = None) -> float:
        """``value`` if it is in range, else :class:`argparse.ArgumentTypeError`."""
        shown = shown if shown is not None else f"{value!r}"
        bad = not math.isfinite(value)
        if self.lo is not None:
            bad = bad or value < self.lo or (self.lo_open and value == self.lo)
        if self.hi is not None:
            bad = bad or value > self.hi or (self.hi_open and value == self.hi)
        if bad:
            raise argparse.ArgumentTypeError(f"{shown}: expected {self.expected}")
        return value

    def __call__(self, text: str) -> float:
        text = str(text).strip()
        try:
            value = int(text) if self.kind is int else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected {self.expected}") from None
        return self.check(value, repr(text))


class Size:
    """``WIDTHxHEIGHT`` with both sides in ``[lo, MAX_SIDE]``; ``allow_zero`` also accepts ``0x0`` (= none)."""

    __name__ = "WIDTHxHEIGHT"

    def __init__(self, lo: int = MIN_SIDE, allow_zero: bool = False) -> None:
        self.lo, self.allow_zero = lo, allow_zero

    def __call__(self, text: str) -> tuple[int, int]:
        from workbench.data.synthetic import parse_size

        zero = " (or 0x0 for none)" if self.allow_zero else ""
        expected = f"expected WIDTHxHEIGHT, each {self.lo}..{MAX_SIDE} px, e.g. 320x192{zero}"
        try:
            w, h = parse_size(str(text))
        except InputError:
            raise argparse.ArgumentTypeError(f"{text!r}: {expected}") from None
        if self.allow_zero and (w, h) == (0, 0):
            return 0, 0
        if not (self.lo <= w <= MAX_SIDE and self.lo <= h <= MAX_SIDE):
            raise argparse.ArgumentTypeError(f"{text!r}: {expected}")
        return w, h


def grid(text: str) -> tuple[int, int]:
    """``ROWSxCOLS`` with 1..:data:`MAX_GRID` rows and columns."""
    from workbench.pipeline import parse_grid

    try:
        rows, cols = parse_grid(str(text))
    except InputError:
        rows = cols = 0
    if not (1 <= rows <= MAX_GRID and 1 <= cols <= MAX_GRID):
        raise argparse.ArgumentTypeError(f"{text!r}: expected ROWSxCOLS, each 1..{MAX_GRID}, e.g. 2x2")
    return rows, cols


grid.__name__ = "ROWSxCOLS"


class Range:
    """``MIN:MAX`` (inclusive), each an ``item`` (whole numbers if its kind is int), MIN ≤ MAX; ``N`` means ``N:N``."""

    __name__ = "MIN:MAX"

    def __init__(self, item: Number) -> None:
        self.item = item

    def __call__(self, text: str) -> tuple[float, float]:
        text = str(text).strip()
        expected = f"expected MIN:MAX (or N), each {self.item.expected}, MIN ≤ MAX"
        kind = self.item.kind
        try:
            lo, hi = (kind(v) for v in text.split(":")) if ":" in text else (kind(text),) * 2
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: {expected}") from None
        if not lo <= hi:
            raise argparse.ArgumentTypeError(f"{text!r}: {expected}")
        return kind(self.item.check(lo, repr(text))), kind(self.item.check(hi, repr(text)))


class NumberList:
    """``START:STOP:STEP`` (inclusive) or ``A,B,C``: at most :data:`MAX_LIST` values, each an ``item``."""

    def __init__(self, item: Number) -> None:
        self.item = item
        self.__name__ = "list"

    def __call__(self, text: str) -> tuple[float, ...]:
        text = str(text).strip()
        expected = f"expected START:STOP:STEP or a comma-separated list of at most {MAX_LIST} values, each " \
                   f"{self.item.expected}"
        try:
            if ":" in text:
                start, stop, step = (float(v) for v in text.split(":"))
                if not (step > 0 and stop >= start and math.isfinite(stop - start)):
                    raise ValueError
                count = math.floor((stop - start) / step + 0.5) + 1
                if count > MAX_LIST:
                    raise argparse.ArgumentTypeError(f"{text!r}: {count} values, more than {MAX_LIST}; {expected}")
                values = [round(start + i * step, 6) for i in range(count)]
            else:
                values = [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: {expected}") from None
        if not values or len(values) > MAX_LIST:
            raise argparse.ArgumentTypeError(f"{text!r}: {expected}")
        out = []
        for v in values:
            if self.item.kind is int and v != int(v):
                raise argparse.ArgumentTypeError(f"{text!r}: {v:g} is not a whole number; {expected}")
            out.append(self.item.check(int(v) if self.item.kind is int else v, f"{text!r}"))
        return tuple(out)


# ------------------------------------------------------------------------------------------- the table

COUNT = Number(int, 1, MAX_COUNT)
"""Clips, frames, epochs, steps, batch sizes, repeats: a whole number 1..100 000."""
COUNT0 = Number(int, 0, MAX_COUNT)
"""The same where 0 means none (``bench seg --clips 0``: real material only; ``--start 0``)."""
SEED = Number(int, 0, 2**32 - 1)
THREADS = Number(int, 1, 256)
WORKERS = Number(int, 0, 256)
"""Dask worker processes (``--workers``; 0: none, run here)."""
PROBABILITY = Number(float, 0, 1)
THRESHOLD = Number(float, 0, 1, lo_open=True, hi_open=True)
"""A probability threshold strictly between 0 and 1."""
FPS = Number(float, 0, 1000, lo_open=True)
LEARNING_RATE = Number(float, 0, 10, lo_open=True)
PERCENT = Number(float, 0, 100, hi_open=True)
"""A share of clips held out for validation, in percent."""
SCALE = Number(float, 0, 4, lo_open=True)
"""A resize factor (frames, the decision network's flow resolution)."""
SCORE = Number(float, 0, 100)
"""A confidence score or target, 0..100."""
SCORE_STEP = Number(float, 0, 100, lo_open=True)
"""A change of the dynamic target per step."""
WEIGHT = Number(float, 0, 1000)
PIXELS = Number(int, 0, MAX_SIDE)
"""An overlap or offset in pixels or frames."""
PORT = Number(int, 1, 65535)
GPU = Number(int, 0, 63)
MOTION = Number(float, 0, 0.5)
"""A displacement per frame as a share of the frame width."""
CHANNELS = Number(int, 4, 256)
"""A network's channel width (``train seg --width``)."""
SIZE = Size()
CROP = Size(lo=8, allow_zero=True)
TARGETS = NumberList(SCORE)
INTERVALS = NumberList(Number(int, 1, MAX_COUNT))
RANGE = Range(Number(int, 0, 32))
ZOOM = Range(Number(float, 0.25, 4))
"""A count range, e.g. foreground layers per generated scene."""


# ------------------------------------------------------------------- choices known only at run time


class LazyChoices:
    """argparse ``choices`` computed on first use, so that building the parser does not import torch."""

    def __init__(self, load: Callable[[], list[str]]):
        self._load = load
        self._items: list[str] | None = None

    def _get(self) -> list[str]:
        if self._items is None:
            self._items = self._load()
        return self._items

    def __contains__(self, item: object) -> bool:
        return item in self._get()

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())


# ------------------------------------------------------------------------ defaults from the dataclasses


def config_defaults(parser: argparse.ArgumentParser, load: Callable[[], Any], fields: dict[str, str] | None = None,
                    skip: tuple[str, ...] = ()) -> None:
    """Take the defaults of ``parser``'s options from a config dataclass, so that each default lives once, in the
    dataclass: every option whose destination is a field of ``load()`` (or is mapped to one by ``fields``,
    ``{dest: field}``), except those in ``skip``. ``load`` runs when the parser first parses or prints help
    (:class:`workbench.cli.main.Parser`), so building the parser imports no library module."""
    deferred = parser.__dict__.setdefault("deferred_defaults", [])
    deferred.append((load, dict(fields or {}), tuple(skip)))


def apply_config_defaults(parser: argparse.ArgumentParser) -> None:
    """Resolve what :func:`config_defaults` registered on ``parser`` (once)."""
    for load, fields, skip in parser.__dict__.pop("deferred_defaults", []):
        config = load()
        names = {f.name for f in dataclasses.fields(config)}
        values = {}
        for action in parser._actions:
            name = fields.get(action.dest, action.dest if action.dest in names else None)
            if name is not None and action.dest not in skip:
                values[action.dest] = getattr(config, name)
        parser.set_defaults(**values)


def shown(value: Any) -> str:
    """A default as the command line writes it: ``320x192`` for a size, ``1:1.5`` for a range, ``none``."""
    if value is None:
        return "none"
    if isinstance(value, tuple) and len(value) == 2:
        sep = "x" if all(isinstance(v, int) for v in value) else ":"
        return f"{value[0]:g}{sep}{value[1]:g}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def flow_methods(pairs_only: bool = True) -> list[str]:
    """Flow methods a flag offers: those that estimate any two images, or (``pairs_only=False``) also those that
    read a clip's own ground truth (``gt``, where the command has the clip)."""
    from workbench.flow import list_flows

    return list_flows(pairs_only=pairs_only)


def add_farm(parser: argparse.ArgumentParser) -> None:
    """``--workers N`` / ``--scheduler ADDRESS``: farm a command's independent runs out to a Dask cluster
    (:func:`workbench.experiments.farm.farm`)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--workers", type=WORKERS, default=0,
                       help="run the independent runs on a local Dask cluster of N worker processes, each with "
                            "--threads threads (default 0: one after another, here); needs the dist extra")
    group.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="run them on an existing Dask cluster (tcp://host:8786); its workers must reach "
                            "the output folder")


def add_backend(parser: argparse.ArgumentParser, several: bool = False) -> None:
    """``--backend torch|onnx``: where the networks run (``onnx``: ONNX Runtime, :mod:`workbench.export`)."""
    if several:
        parser.add_argument("--backend", type=choices_list(("torch", "onnx")), default=("torch",),
                            help="torch, onnx, or torch,onnx to time each network on both in one run (default "
                                 "torch); onnx needs the onnx extra")
    else:
        parser.add_argument("--backend", choices=("torch", "onnx"), default="torch",
                            help="run the networks — PWC-Net as a flow method too — in PyTorch (default) or in "
                                 "ONNX Runtime (exported on first use at the frame size; the onnx extra)")


def choices_list(allowed: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    """A comma-separated list of distinct values from ``allowed``."""
    def parse(text: str) -> tuple[str, ...]:
        values = tuple(v.strip() for v in text.split(","))
        if not values or any(v not in allowed for v in values) or len(set(values)) != len(values):
            raise argparse.ArgumentTypeError(f"{text!r}: expected one or more of {', '.join(allowed)}, "
                                             "comma-separated")
        return values
    return parse
