"""Independent runs, one after another or on a Dask cluster: the one way sweeps and benchmarks fan out.

    results = farm(run_one, jobs, shared=networks)                      # in this process, in order
    results = farm(run_one, jobs, shared=networks, workers=4)          # a LocalCluster of 4 worker processes
    results = farm(run_one, jobs, shared=networks, scheduler="tcp://host:8786")   # an existing cluster

``run_one(shared, job)`` must be a module-level function (it travels to the workers by reference) and
deterministic: the results are then those of the serial run, in the order of ``jobs``, wherever each ran. ``shared``
(networks, clips) is sent to every worker once, not with every job. Each job runs with torch and OpenCV pinned to
``threads`` threads, so that N workers on N × threads cores do not oversubscribe them. A job that fails raises
its error here, as in the serial run. Files a job writes must go to a folder every worker can reach: any folder
for a ``LocalCluster``; a shared file system for a cluster of several machines.

Dask is the optional extra ``dist`` (``pip install -e ".[dist]"``); without it, ``workers``/``scheduler`` is a
one-line error. A ``LocalCluster`` starts its worker processes by running the main module again, as Python's
``multiprocessing`` does: a script that calls ``farm(..., workers=N)`` keeps that call under
``if __name__ == "__main__":`` (the ``workbench`` command and notebooks need nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from workbench.errors import InputError


def _pinned(function: Callable[[Any, Any], Any], shared: Any, job: Any, threads: int | None) -> Any:
    if threads is None:
        return function(shared, job)
    from workbench.experiments.measure import PinnedThreads

    with PinnedThreads(threads):
        return function(shared, job)


def _dask():
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InputError("--workers/--scheduler: Dask is not installed; pip install -e '.[dist]'") from None
    return Client, LocalCluster, as_completed


def _reachable(scheduler: str) -> None:
    """Fail at once, in one line, when nothing listens at a ``tcp://HOST:PORT`` scheduler address (Dask itself
    retries for its whole connect timeout)."""
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    if address.scheme != "tcp" or address.port is None:
        return  # other transports: let Dask try
    try:
        socket.create_connection((address.hostname or "127.0.0.1", address.port), timeout=5).close()
    except OSError as exc:
        raise InputError(f"--scheduler {scheduler}: cannot reach it ({exc.strerror or exc})") from None


def farm(function: Callable[[Any, Any], Any], jobs: Sequence[Any], shared: Any = None, workers: int = 0,
         scheduler: str | None = None, threads: int | None = 1, progress: bool = True, desc: str = "runs",
         describe: Callable[[Any], str] | None = None) -> list[Any]:
    """``[function(shared, job) for job in jobs]``: here (``workers`` 0, no ``scheduler``), on a new
    ``LocalCluster`` of ``workers`` processes, or on the cluster at ``scheduler``. A tqdm bar counts finished
    jobs (``describe(job)`` names the running one in the serial case). ``threads`` None: this process's thread
    counts as they are (serial only; on workers, 1)."""
    from tqdm import tqdm

    if workers < 0:
        raise InputError(f"--workers {workers}: expected 0 (no cluster) or more")
    if workers and scheduler:
        raise InputError("--workers and --scheduler: give one (a new local cluster, or an existing one)")
    bar = tqdm(total=len(jobs), desc=desc, unit="run", disable=not progress)
    try:
        if not workers and not scheduler:
            results = []
            for job in jobs:
                if describe is not None:
                    bar.set_postfix_str(describe(job))
                results.append(_pinned(function, shared, job, threads))
                bar.update()
            return results
        Client, LocalCluster, as_completed = _dask()
        if scheduler:
            _reachable(scheduler)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR) if workers else None
        try:
            with Client(cluster if cluster is not None else scheduler, timeout="15s") as client:
                on_workers = client.scatter(shared, broadcast=True) if shared is not None else None
                futures = [client.submit(_pinned, function, on_workers, job, threads or 1, pure=False) for job in jobs]
                for _ in as_completed(futures):
                    bar.update()
                return client.gather(futures)
        except OSError as exc:  # no scheduler at that address (Dask retries for 15 s first)
            raise InputError(f"--scheduler {scheduler}: cannot reach it ({exc})") from None
        finally:
            if cluster is not None:
                cluster.close()
    finally:
        bar.close()


__all__ = ["farm"]
