"""The sliced poll of ``nbrun``: a message already waiting is returned within one slice, a real timeout still
ends at its deadline with ``Empty``."""

from __future__ import annotations

import asyncio
import time
from queue import Empty

import pytest
from nbrun import POLL_SLICE_S, sliced


def test_a_lost_wake_up_costs_one_slice_and_a_timeout_keeps_its_deadline():
    calls = []

    async def oversleeping_get_msg(timeout=None):
        """A channel whose message is there from the start but whose first poll misses the wake-up."""
        calls.append(timeout)
        if len(calls) == 1:
            await asyncio.sleep(timeout)
            raise Empty
        return {"msg": "reply"}

    start = time.monotonic()
    assert asyncio.run(sliced(oversleeping_get_msg)(timeout=300)) == {"msg": "reply"}
    assert time.monotonic() - start < 2 * POLL_SLICE_S and calls[0] == pytest.approx(POLL_SLICE_S)

    async def silent(timeout=None):
        await asyncio.sleep(timeout)
        raise Empty

    start = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(sliced(silent)(timeout=2.5))
    assert 2.4 < time.monotonic() - start < 3.5
