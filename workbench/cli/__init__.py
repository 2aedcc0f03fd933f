"""The ``workbench`` command line: one thin module per subcommand, assembled by :mod:`workbench.cli.main`.

Commands parse arguments, build the library's config objects (their defaults are the dataclasses' own) and call
the library; they hold no logic a notebook could not reach through :mod:`workbench.experiments` and the
packages below it.
"""

from workbench.cli.dashboard import MAX_UPLOAD_MB
from workbench.cli.main import build_parser, main

__all__ = ["MAX_UPLOAD_MB", "build_parser", "main"]
