"""Atomic writes: nothing half-written is ever left under the final name.

Files are written to a hidden temporary sibling and renamed into place (``os.replace`` is atomic on one
file system). Folders are built under a hidden ``.<name>.partial-<pid>`` sibling and renamed when complete;
on any exception the partial folder is removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from workbench.errors import InputError


@contextlib.contextmanager
def atomic_file(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` if the block succeeds.

    ``suffix`` defaults to the final suffix so that writers which pick the format from the extension
    (OpenCV) still work on the temporary name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix if suffix is not None else path.suffix,
                               dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the mode open() would
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_dir(path: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Build a folder under a temporary name and move it to ``path`` when the block succeeds.

    An existing ``path`` is an error unless ``overwrite``; then it is replaced only after the new folder
    is complete, so a failure leaves the old one untouched.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise InputError(f"{path} already exists; pass --overwrite or choose another output folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
        if path.exists():
            trash = path.parent / f".{path.name}.old-{os.getpid()}"
            os.replace(path, trash)
            os.replace(tmp, path)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
