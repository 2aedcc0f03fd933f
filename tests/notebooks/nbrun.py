"""Executing notebooks without the kernel stall.

The stall: under CPU load a cell sometimes "runs" for exactly the client's cell timeout although the kernel
finished at once (py-spy on both sides: the kernel idle in its event loop, the client idle in its own, waiting
for the execute reply). The reply had arrived: pyzmq's asyncio sockets are woken by the ZMQ file descriptor,
which is edge-triggered, and a wake-up lost to a race under load leaves ``socket.poll(timeout)`` asleep until
its timeout, when its final non-blocking check finds the message that was there all along — so nbclient gets
the reply, late, and no error is raised (reproduced here in 3 of 3 runs of notebook 00 with two CPU hogs: its
widget cell took 300.0 s, the timeout, instead of 0.6 s).

The fix: :class:`SlicedPollClient` polls the kernel's channels in slices of at most ``POLL_SLICE_S``: every new
poll first checks the socket's events, so a lost wake-up costs at most one slice, and a real timeout still ends
at the same deadline with the same ``Empty``.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_core.utils import run_sync
from nbclient import NotebookClient

POLL_SLICE_S = 1.0


def sliced(get_msg: Any) -> Any:
    """``get_msg(timeout)`` that waits in slices of at most ``POLL_SLICE_S`` seconds, to the same deadline."""

    async def get_msg_sliced(timeout: float | None = None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE_S if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await get_msg(timeout=min(POLL_SLICE_S, left))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get_msg_sliced


class SlicedPollClient(NotebookClient):
    """nbclient's ``NotebookClient`` whose shell and IOPub polls cannot oversleep a lost ZMQ wake-up."""

    async def async_start_new_kernel_client(self) -> Any:
        kc = await super().async_start_new_kernel_client()
        for channel in (kc.shell_channel, kc.iopub_channel):
            channel.get_msg = sliced(channel.get_msg)
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)
