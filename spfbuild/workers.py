"""Spreading a run's computing over the machine's cores.

A bulk run resolves what its domains share in one process, so that each question is asked once
and what many domains share is resolved once. What is left for each domain (the walk of its own
record, which finds the trees below it resolved, then computing on the graph: choosing, packing,
the self-check) is shared out here among processes forked from the run. Each inherits the graph
and the resolver's answers from the fork (they are never sent), works through its share of the
domains, and sends back their results.

A question only one domain asks (its own name's TXT records, a name a macro gives from the
sender's domain) is asked by the process that meets it, through its own copy of the resolver.
Within a process, what several domains share is still computed once.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

# Below this many domains per process, forking and sending results back cost more than they save.
MIN_PER_PROCESS = 50
# Shares per process: finished shares move the progress line, and a slow share delays little; but
# each share waits one round trip for its domains' own TXT answers before it computes anything.
SHARES_PER_PROCESS = 2

# What a forked process runs: set just before the processes are forked, inherited by them.
_work: Callable[[Sequence[int]], Coroutine[Any, Any, list[Any]]] | None = None
_log: list[Any] | None = None


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def processes_for(count: int, jobs: int) -> int:
    """How many processes `count` domains are worth, at most `jobs` (0: one per core). One
    where processes cannot be forked."""
    if jobs == 1 or not hasattr(os, "fork"):
        return 1
    return max(1, min(jobs or cores(), count // MIN_PER_PROCESS))


async def spread(count: int, work: Callable[[Sequence[int]], Coroutine[Any, Any, list[T]]], processes: int,
                 on_share: Callable[[int], None] | None = None, log: list[Any] | None = None) -> list[T]:
    """`work(indices)` for shares of range(`count`), in `processes` forked processes; the results
    in index order. `on_share(n)` is called as each share of `n` items comes back. What a process
    appends to `log` (the resolver's record of the questions it sent) comes back with its share
    and is appended here. Should a process die, the shares not sent back are computed here."""
    if count == 0:  # every domain failed before its computing: nothing to fork for
        return []
    # Imported here: a run of one domain (most runs) never starts a process.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _work, _log
    loop = asyncio.get_running_loop()
    results: dict[int, T] = {}
    _work, _log = work, log
    # Objects made before the fork are left out of the processes' cycle collections: a
    # collection that scanned them would write to every page of the inherited graph, copying it.
    frozen_before = gc.get_freeze_count() > 0
    gc.freeze()
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"), initializer=_forked)

    async def sent(share: Sequence[int]) -> tuple[Sequence[int], list[T] | None]:
        try:
            done, logged = await loop.run_in_executor(pool, _run, share)
        except BrokenProcessPool:
            return share, None
        if log is not None:
            log.extend(logged)
        return share, done

    try:
        lost: list[Sequence[int]] = []
        for arrival in asyncio.as_completed([sent(s) for s in _shares(count, processes * SHARES_PER_PROCESS)]):
            share, done = await arrival
            if done is None:
                lost.append(share)
            else:
                _place(results, share, done, on_share)
        for share in lost:
            _place(results, share, await work(share), on_share)
    except BaseException:
        # Not waiting for the processes: a cancelled run (Ctrl-C) stops at once.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown()
    finally:
        _work = _log = None
        if not frozen_before:  # a caller's own frozen objects stay frozen
            gc.unfreeze()
    return [results[i] for i in range(count)]


def _shares(count: int, wanted: int) -> list[Sequence[int]]:
    """range(`count`) dealt round-robin into at most `wanted` shares: neighbours in a config
    often look alike (one client's domains), so each share gets a mix."""
    total = max(1, min(wanted, count))
    return [range(start, count, total) for start in range(total)]


def _place(results: dict[int, T], share: Sequence[int], done: list[T],
           on_share: Callable[[int], None] | None) -> None:
    for index, result in zip(share, done, strict=True):
        results[index] = result
    if on_share is not None:
        on_share(len(share))


def _forked() -> None:
    """A forked process's start. The run's event loop was copied with the process but is not
    this process's to run (what Python 3.12 does itself after a fork); Ctrl-C stops it at once,
    unless the run ignores it (started in the background)."""
    asyncio.events._set_running_loop(None)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def _run(share: Sequence[int]) -> tuple[list[Any], list[Any]]:
    """A share's results, and what it appended to the log, in a forked process."""
    assert _work is not None, "spread() sets the work before forking"
    logged = len(_log) if _log is not None else 0
    done = asyncio.run(_work(share))
    return done, _log[logged:] if _log is not None else []
