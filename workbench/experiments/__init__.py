"""Experiments: what is measured about the networks and the pipeline, each a function a notebook can call.

- :mod:`~workbench.experiments.sweep` — every key-frame policy over the same clips (``workbench dvs sweep``);
- :mod:`~workbench.experiments.bench_flow` / :mod:`~workbench.experiments.bench_seg` — the held-out
  benchmarks (``workbench bench flow | seg``), sharing :mod:`~workbench.experiments.measure` (machine facts,
  pinned threads, clip-bootstrap intervals, the ``bench_<name>.md``/``.json`` pair);
- :mod:`~workbench.experiments.cards` — model cards written from measured numbers;
- :mod:`~workbench.experiments.recipes` — train → benchmark → card (``workbench train …``).

Submodules are imported on use (``from workbench.experiments.sweep import run_sweep``): importing the package
costs nothing.
"""
