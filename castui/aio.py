"""`asyncio.run` for the commands, without the cost Python 3.11 hides in it."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, returning its result.

    On 3.11, `asyncio.run` ends with `signal.getsignal(SIGINT)`, which formats the repr of its
    handler, a partial naming the finished task, whose repr holds the task's result: a whole
    Diagnosis or FleetReport rendered as text and thrown away (0.27 s for a fleet of twenty).
    The task here finishes with None; the result travels beside it.
    """
    result: list[T] = []

    async def keep() -> None:
        result.append(await main)

    asyncio.run(keep())
    return result[0]
