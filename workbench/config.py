"""Configuration dataclasses: every component owns its defaults; an experiment saves the tree as JSON.

``Config`` gives dataclasses ``to_dict`` (JSON-ready: tuples become lists, nested configs become dicts) and
``from_dict`` (strict: an unknown key is an error that names it, so a typo in a saved config is caught).
No argparse here: ``workbench.cli`` turns arguments into these objects.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, TypeVar

from workbench.errors import InputError

T = TypeVar("T", bound="Config")


def _plain(value: Any) -> Any:
    if isinstance(value, Config):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


class Config:
    """Mixin for ``@dataclass`` configs."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise InputError(f"{cls.__name__}: unknown key(s) {', '.join(unknown)}; expected some of "
                             f"{', '.join(fields)}")
        hints = typing.get_type_hints(cls)
        values = {}
        for name, value in data.items():
            hint = hints.get(name)
            origin = typing.get_origin(hint)
            if isinstance(hint, type) and issubclass(hint, Config) and isinstance(value, dict):
                value = hint.from_dict(value)
            elif isinstance(value, list) and (origin is tuple or hint is tuple or any(
                    a is tuple or typing.get_origin(a) is tuple for a in typing.get_args(hint))):  # also X | None
                value = tuple(value)
            values[name] = value
        return cls(**values)
