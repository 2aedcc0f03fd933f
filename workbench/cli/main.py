"""The ``workbench`` command: the parser, the one table of what each command writes and reads, and ``main``.

User errors (:class:`workbench.errors.InputError`, missing files, permissions) print one line
``workbench: error: <message>`` on stderr and exit with status 2, without a traceback. Each subcommand lives
in its own module of this package (``data``, ``flow``, ``bench``, ``train``, ``predict``, ``dvs``,
``dashboard``); this module only assembles them.
"""

from __future__ import annotations

import argparse
import copy
import sys
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench import __version__
from workbench.cli import types as T
from workbench.cli.bench import add_bench, cmd_bench_flow, cmd_bench_realtime, cmd_bench_seg
from workbench.cli.dashboard import add_dashboard
from workbench.cli.data import add_data, cmd_data_animate, cmd_data_label, cmd_data_portraits, cmd_data_synth
from workbench.cli.dvs import add_dvs, cmd_dvs_labels, cmd_dvs_run, cmd_dvs_sweep
from workbench.cli.export import add_export, cmd_export_onnx
from workbench.cli.flow import add_flow, cmd_flow
from workbench.cli.predict import add_predict, cmd_predict, predict_out
from workbench.cli.train import add_train, cmd_train_decision, cmd_train_flow, cmd_train_seg, train_seg_out
from workbench.errors import InputError


class Formatter(argparse.HelpFormatter):
    """Help with sizes and ranges written as they are typed (``320x192``, ``1:1.5``) and no default as ``none``."""

    def _expand_help(self, action: argparse.Action) -> str:
        if action.default is None or isinstance(action.default, tuple):
            action = copy.copy(action)
            action.default = T.shown(action.default)
        return super()._expand_help(action)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``workbench: error: argument --fps: '0': expected … (see workbench data
    synth --help)`` on stderr and exit status 2, like every other user error (subcommands inherit the class), and
    defaults taken from the config dataclasses when first needed (:func:`workbench.cli.types.config_defaults`)."""

    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"workbench: error: {' '.join(message.split())} (see {self.prog} --help)\n")

    def parse_known_args(self, args: typing.Any = None, namespace: typing.Any = None) -> typing.Any:
        T.apply_config_defaults(self)
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        T.apply_config_defaults(self)
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="workbench", description="Flow-guided video segmentation workbench.")
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True,
                                metavar="{data,flow,train,predict,dvs,bench,export,dashboard}")
    add_data(sub)
    add_flow(sub)
    add_train(sub)
    add_predict(sub)
    add_dvs(sub)
    add_bench(sub)
    add_export(sub)
    add_dashboard(sub)
    return parser


@dataclass(frozen=True)
class Output:
    """One output of a command: the option that names it (or a function of the arguments), its kind
    (:data:`workbench.io.atomic.OUTPUT_KINDS`), the options that name what the command reads, and whether
    ``--resume`` may continue it (training outputs)."""

    option: str
    kind: str = "folder"
    inputs: tuple[str, ...] = ()
    path: Callable[[argparse.Namespace], str | Path | None] | None = None
    resumable: bool = False


def _bench_files(stem: str) -> Callable[[argparse.Namespace], list[Path]]:
    return lambda args: [Path(args.out) / f"{stem}.md", Path(args.out) / f"{stem}.json"]


def outputs_table() -> dict[Callable[[argparse.Namespace], int], tuple[Output, ...]]:
    """What every command writes and reads: the one place :func:`check_outputs` learns it from."""
    seg_inputs = ("data", "mask", "seg", "decision", "correct", "fast")
    return {
        cmd_data_synth: (Output("--out", "parent", ("backgrounds",)),),
        cmd_data_animate: (Output("--out", "parent", ("images", "masks", "backgrounds")),),
        cmd_data_label: (Output("--out", "folder", ("input", "teacher")),),
        cmd_data_portraits: (Output("--out", "folder"),),
        cmd_flow: (Output("--out", "file", ("frame_a", "frame_b")), Output("--viz", "file", ("frame_a", "frame_b"))),
        cmd_export_onnx: (Output("--out", "file", ("checkpoint",)),),
        cmd_bench_flow: (Output("--out", "parent", ("pair",)),
                         *(Output("--out", "file", ("pair",), lambda a, i=i: _bench_files("bench_flow")(a)[i])
                           for i in range(2))),
        cmd_bench_realtime: (Output("--out", "parent", ("data",)),
                             *(Output("--out", "file", ("data",), lambda a, i=i: _bench_files("bench_realtime")(a)[i])
                               for i in range(2))),
        cmd_bench_seg: (Output("--out", "parent", ("models", "real")),
                        *(Output("--out", "file", ("models", "real"), lambda a, i=i: _bench_files("bench_seg")(a)[i])
                          for i in range(2))),
        cmd_train_seg: (Output("--out", "folder", ("data", "load", "eval_real", "portraits"), train_seg_out,
                               resumable=True),),
        cmd_train_flow: (Output("--out", "file", ("data", "load"), resumable=True),),
        cmd_train_decision: (Output("--out", "folder", ("labels", "test"), resumable=True),),
        cmd_predict: (Output("--output", "folder", ("img", "mask", "background", "model"), predict_out),),
        cmd_dvs_run: (Output("--out", "parent", seg_inputs),),
        cmd_dvs_labels: (Output("--out", "folder", seg_inputs),),
        cmd_dvs_sweep: (Output("--out", "folder", seg_inputs),),
    }


def _paths(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):  # nested for options that take several paths each (--pair A B FLOW)
        return [p for v in value for p in _paths(v)]
    return [str(value)]


def check_outputs(args: argparse.Namespace) -> None:
    """Run :func:`workbench.io.atomic.check_output` on every output of the command, before any work."""
    from workbench.io.atomic import check_output

    for spec in outputs_table().get(args.func, ()):
        dest = spec.option.lstrip("-").replace("-", "_")
        path = spec.path(args) if spec.path else getattr(args, dest, None)
        if path is None:
            continue
        inputs = [p for name in spec.inputs for p in _paths(getattr(args, name, None))]
        check_output(path, inputs, overwrite=getattr(args, "overwrite", False), kind=spec.kind, option=spec.option,
                     resume=getattr(args, "resume", False), resumable=spec.resumable)


def _error_line(exc: BaseException) -> str:
    """One line for a user error: our own message, or what the operating system said about which file."""
    if isinstance(exc, InputError):
        return " ".join(str(exc).split())
    if isinstance(exc, MemoryError):
        return "out of memory (try a smaller --size, fewer --frames or --clips, or a smaller batch)"
    assert isinstance(exc, OSError)
    where = exc.filename if exc.filename is not None else ""
    what = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    return f"{what}: {where}" if where else what


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM (a killed job, a closed terminal) unwinds like Ctrl-C, so partial outputs are removed."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    import signal
    import threading

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _main(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded by commands that write model cards
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        check_outputs(args)
        return func(args)
    except (InputError, OSError, MemoryError) as exc:
        print(f"workbench: error: {_error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
