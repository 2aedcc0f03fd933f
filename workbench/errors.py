"""User-facing errors.

``InputError`` marks a problem with what the user gave us (a missing file, a mask of the wrong size, a
corrupt ``.flo``). The CLI prints its message on one line and exits non-zero without a traceback; library
callers can catch it like any ``ValueError``. Messages name the file and say what was expected.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: the message names the offending file and what was expected."""

