"""`asyncio.run` for the commands, without the cost Python 3.11 hides in it, and an end that
no stalled thread can hold up."""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class _UnwaitedExecutor(ThreadPoolExecutor):
    """The loop's default executor: at the end of a run it is shut down without waiting, so a
    thread stuck in a stalled read or a hanging credential plugin cannot hold the run open
    (`asyncio.run` would wait for it forever)."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=True)


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, returning its result.

    On 3.11, `asyncio.run` ends with `signal.getsignal(SIGINT)`, which formats the repr of its
    handler, a partial naming the finished task, whose repr holds the task's result: a whole
    Diagnosis or FleetReport rendered as text and thrown away (0.27 s for a fleet of twenty).
    The task here finishes with None; the result travels beside it.
    """
    result: list[T] = []

    async def keep() -> None:
        asyncio.get_running_loop().set_default_executor(_UnwaitedExecutor(thread_name_prefix="castui-io"))
        result.append(await main)

    asyncio.run(keep())
    return result[0]


#: called first thing in `end`: pools let their idle threads go, so that only stuck threads remain
_AT_END: list[Callable[[], None]] = []
#: how long `end` gives released idle threads to leave before it counts them as stuck
RELEASE_S = 0.2


def at_end(release: Callable[[], None]) -> None:
    """Register `release` (e.g. a thread pool's shutdown without waiting) to run when a command ends."""
    if release not in _AT_END:
        _AT_END.append(release)


def end(code: int) -> int:
    """Leave the process now with `code`, its output flushed and its exit handlers run: when a thread
    is still stuck in a read or a credential plugin, the interpreter would otherwise wait for it at
    exit, forever (the child processes castui started, plugins, are stopped with it); when none is,
    tearing down every module and object costs ~80 ms of CPU that a finished command need not pay.
    Returns `code` when nothing is stuck and a profiler or tracer watches (cProfile, coverage, a
    debugger): it reports at the normal exit."""
    for release in _AT_END:
        release()
    stuck = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    deadline = time.monotonic() + RELEASE_S
    for thread in stuck:  # an idle pool thread, released, leaves within moments; a stuck one does not
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t for t in stuck if t.is_alive()]
    if not stuck and (sys.getprofile() or sys.gettrace()):
        return code
    if not stuck:
        atexit._run_exitfuncs()  # what a normal exit runs first (logging's flush, a caller's handlers)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    if stuck:
        _stop_children()
    os._exit(code)


def _stop_children() -> None:
    """SIGKILL this process's children (a credential plugin that hangs); Linux's /proc, else nothing."""
    me = os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == me:
            try:
                os.kill(int(entry), signal.SIGKILL)
            except OSError:
                pass
