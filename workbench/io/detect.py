"""Open any supported dataset by looking at what is on disk.

Layouts, checked in this order (docs/conventions.md):

==================  ==============================================================  ==================
layout              how it is recognised                                            sequences
==================  ==============================================================  ==================
``clip folder``     a folder with ``frames/``                                       one ClipFolder
``FUNet``           a folder with ``original_training/`` or ``original_testing/``   one per seq number
``DAVIS``           a folder with ``JPEGImages/``                                   one per folder
``clip folders``    a folder whose children are clip folders                        one per clip
``video``           a file with a video extension                                   one VideoSequence
``image folder``    a folder holding images                                         one
==================  ==============================================================  ==================

``masks`` (a mask video or a mask folder) applies to the last two only; ``split`` to FUNet only.

Whatever is on disk, the only error that leaves :func:`describe_layout` and :func:`open_dataset` is
:class:`~workbench.errors.InputError` naming a path: the readers check every file they read, and an
operating-system error while looking around (an unreadable folder, a path that is neither file nor folder)
is turned into one here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from workbench.errors import InputError
from workbench.io.clips import ClipFolder, find_clip_folders, is_clip_folder
from workbench.io.davis import read_davis
from workbench.io.folders import ImageFolderSequence
from workbench.io.funet import SPLITS, read_funet
from workbench.io.images import IMAGE_EXTENSIONS
from workbench.io.sequence import Sequence
from workbench.io.video import VIDEO_EXTENSIONS, VideoSequence

EXPECTED = ("a clip folder (with frames/), a folder of clip folders, a FUNet folder (original_training/ or "
            "original_testing/), a DAVIS folder (JPEGImages/), a video file "
            f"({', '.join(VIDEO_EXTENSIONS)}) or a folder of images")


def _has_images(folder: Path) -> bool:
    return any(p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
               for p in folder.iterdir())


@contextlib.contextmanager
def _os_errors(path: Path) -> Iterator[None]:
    """An ``OSError`` (permission denied, I/O error, ...) becomes an InputError naming the file it concerns."""
    try:
        yield
    except OSError as exc:
        where = exc.filename if exc.filename is not None else path
        raise InputError(f"{where}: cannot read ({exc.strerror or exc})") from None


def describe_layout(path: str | Path) -> str:
    """Name the layout of ``path``: "clip folder", "clip folders", "FUNet", "DAVIS", "video", "image folder"."""
    path = Path(path)
    with _os_errors(path):
        return _describe(path)


def _describe(path: Path) -> str:
    if not path.exists():
        raise InputError(f"{path}: not found")
    if path.is_file():
        if path.suffix.lower() in VIDEO_EXTENSIONS:
            return "video"
        raise InputError(f"{path}: not a video file or dataset folder; expected {EXPECTED}")
    if not path.is_dir():
        raise InputError(f"{path}: neither a file nor a folder (a device, socket or pipe); expected {EXPECTED}")
    if is_clip_folder(path):
        return "clip folder"
    if any((path / f"original_{split}").is_dir() for split in SPLITS):
        return "FUNet"
    if (path / "JPEGImages").is_dir():
        return "DAVIS"
    if find_clip_folders(path):
        return "clip folders"
    if _has_images(path):
        return "image folder"
    what = "empty folder" if not any(path.iterdir()) else "nothing recognisable"
    raise InputError(f"{path}: {what}; expected {EXPECTED}")


def open_dataset(path: str | Path, masks: str | Path | None = None, split: str | None = None) -> list[Sequence]:
    """Every sequence of the dataset at ``path``, whatever its layout (see the module docstring).

    For FUNet, ``split`` ("training" or "testing") picks one split and names sequences ``seq3``; without
    it both present splits are read and named ``training/seq3``, ``testing/seq3``.
    """
    from workbench.io.live import LiveSequence, is_live

    if is_live(path) and not Path(path).exists():  # a camera index, a stream URL, live:FILE
        return [LiveSequence(str(path))]
    path = Path(path)
    layout = describe_layout(path)
    with _os_errors(path):
        return _open(path, layout, masks, split)


def _open(path: Path, layout: str, masks: str | Path | None, split: str | None) -> list[Sequence]:
    if masks is not None and layout not in ("video", "image folder"):
        raise InputError(f"{masks}: a separate mask path applies to a video or an image folder, but {path} "
                         f"is a {layout} layout (its masks are found inside it)")
    if split is not None and layout != "FUNet":
        raise InputError(f"{path}: split={split!r} applies to the FUNet layout only, this is a {layout}")

    if layout == "clip folder":
        return [ClipFolder(path)]
    if layout == "clip folders":
        return [ClipFolder(p) for p in find_clip_folders(path)]
    if layout == "FUNet":
        if split is not None:
            return read_funet(path, split)
        sequences: list[Sequence] = []
        for name in SPLITS:
            if (path / f"original_{name}").is_dir():
                for seq in read_funet(path, name):
                    seq.name = f"{name}/{seq.name}"
                    sequences.append(seq)
        return sequences
    if layout == "DAVIS":
        return read_davis(path)
    if layout == "video":
        return [VideoSequence(path, masks)]
    return [ImageFolderSequence(path, masks)]
