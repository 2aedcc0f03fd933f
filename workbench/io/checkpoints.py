"""The one way a PyTorch file is read: weights only, schema-checked, the file named in every error.

Every checkpoint (segmentation, decision, PWC-Net), every training state (``epochs/state.pt``,
``OUT.state.pt``) and every model card's read of a checkpoint goes through :func:`load_torch_file`. It

- never unpickles code: ``torch.load(..., weights_only=True)`` accepts tensors, numbers, strings, lists,
  tuples and dicts only, so a planted pickle that would run a command is refused, not executed;
- refuses files larger than :data:`MAX_CHECKPOINT_BYTES` before reading them;
- turns any failure to read (truncated, foreign, corrupt, code inside) into one :class:`InputError` line that
  names the file and what was expected;
- checks the top-level schema (required keys and their types) so that a crafted file with, say, a list where
  a dict of options belongs is an error naming the key, not a ``TypeError`` deep inside a constructor.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from workbench.errors import InputError

MAX_CHECKPOINT_BYTES = 2 * 1024**3
"""The largest checkpoint or training state read (2 GiB; the shipped checkpoints are under 10 MB)."""

Schema = Mapping[str, type | tuple[type, ...]]


def _type_names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join("None" if k is type(None) else k.__name__ for k in kinds)


def check_schema(payload: Mapping[str, Any], schema: Schema, path: str | Path, what: str) -> None:
    """Raise :class:`InputError` unless every key of ``schema`` is in ``payload`` with a value of its type.

    A key whose types include ``NoneType`` may also be missing (older files, optional entries).
    """
    for key, kind in schema.items():
        if key not in payload:
            if type(None) in (kind if isinstance(kind, tuple) else (kind,)):
                continue
            raise InputError(f"{path}: {what} without {key!r}")
        value = payload[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise InputError(f"{path}: {what} with {key!r} of type bool, expected {_type_names(kind)}")
        if not isinstance(value, kind):
            raise InputError(f"{path}: {what} with {key!r} of type {type(value).__name__}, expected "
                             f"{_type_names(kind)}")


def load_torch_file(path: str | Path, what: str, schema: Schema | None = None,
                    map_location: Any = "cpu") -> dict[str, Any]:
    """Read a ``torch.save`` file of ours as a dict, safely (see the module docstring).

    ``what`` names what was expected in messages ("a segmentation checkpoint", "a training state"); ``schema``
    maps required top-level keys to their types.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {what} not found" + (" (it is a folder)" if path.is_dir() else ""))
    size = path.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        raise InputError(f"{path}: {size / 1024**3:.1f} GiB is larger than any {what} "
                         f"(limit {MAX_CHECKPOINT_BYTES / 1024**3:.0f} GiB)")
    import torch

    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt, foreign or unsafe files
        unsafe = "GLOBAL" in str(exc) or "Unsupported global" in str(exc)
        detail = "it would import code, refused unread" if unsafe else type(exc).__name__
        raise InputError(f"{path}: not a readable PyTorch checkpoint ({detail}; expected a {what})") from None
    if not isinstance(payload, dict):
        raise InputError(f"{path}: not a {what} (a {type(payload).__name__}, expected a dict of weights and "
                         "settings)")
    if schema:
        check_schema(payload, schema, path, what)
    return payload


def read_checkpoint(path: str | Path, what: str, schema: Schema, accepts: Callable[[dict[str, Any]], bool],
                    expected: str, missing: str = "", map_location: Any = "cpu") -> dict[str, Any]:
    """The one way a network checkpoint is opened (segmentation, decision, PWC-Net): a missing file is an error
    that says where checkpoints come from (``missing``), the file is read safely (:func:`load_torch_file`), a
    checkpoint of another kind (``accepts`` false) is an error naming its architecture and ``expected``, and the
    schema is checked before anything is built."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {what} not found" + (f" ({missing})" if missing else ""))
    payload = load_torch_file(path, what, map_location=map_location)
    if not accepts(payload):
        raise InputError(f"{path}: checkpoint of architecture {payload.get('arch')!r}, expected {expected}")
    check_schema(payload, schema, path, what)
    return payload


@contextlib.contextmanager
def fitting(path: str | Path, what: str) -> Iterator[None]:
    """Build or restore from a loaded file's contents; any failure (a key missing, weights of the wrong shape, a
    value of the wrong type) becomes one :class:`InputError` line ``{path}: {what} ({first line of the cause})``,
    e.g. ``what = "weights do not fit a 'unet' network"``."""
    try:
        yield
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError, InputError) as exc:
        raise InputError(f"{path}: {what} ({first_line(exc)})") from None


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name: for one-line errors about a file."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
