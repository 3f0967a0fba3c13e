"""Sharing a run's computing among forked processes (spfbuild.workers): every item's result comes
back in order, from other processes; what they log comes back too; a process that dies costs
nothing but time; Ctrl-C stops them as it stops the run; and a run is only spread when it is
worth it."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import pytest

from spfbuild import workers
from spfbuild.workers import MIN_PER_PROCESS, processes_for, spread

needs_fork = pytest.mark.skipif(processes_for(1000, 2) == 1, reason="this platform cannot fork")


T = TypeVar("T")


def run(work: Callable[[Sequence[int]], Coroutine[Any, Any, list[T]]], count: int,
        log: list[Any] | None = None) -> tuple[list[T], list[int]]:
    """The results of spreading `work` over two processes, and the size of each share as it came back."""
    shares: list[int] = []
    results = asyncio.run(spread(count, work, 2, shares.append, log))
    return results, shares


async def square_where_computed(share: Sequence[int]) -> list[tuple[int, int]]:
    return [(i * i, os.getpid()) for i in share]


@needs_fork
def test_every_result_comes_back_in_order_from_other_processes() -> None:
    results, shares = run(square_where_computed, 30)
    assert [value for value, _ in results] == [i * i for i in range(30)]
    assert os.getpid() not in {pid for _, pid in results}
    assert sum(shares) == 30 and len(shares) == 2 * workers.SHARES_PER_PROCESS


@needs_fork
def test_what_a_process_logs_comes_back_to_the_log() -> None:
    log: list[str] = ["before"]

    async def logging(share: Sequence[int]) -> list[int]:
        log.extend(f"asked {i}" for i in share)
        return list(share)

    results, _ = run(logging, 12, log)
    assert results == list(range(12))
    assert log[0] == "before" and sorted(log[1:]) == sorted(f"asked {i}" for i in range(12))


@needs_fork
def test_the_shares_of_a_process_that_dies_are_computed_here() -> None:
    parent = os.getpid()

    async def dies_on_three(share: Sequence[int]) -> list[int]:
        if 3 in share and os.getpid() != parent:
            os._exit(1)
        return [i + 100 for i in share]

    results, shares = run(dies_on_three, 20)
    assert results == [i + 100 for i in range(20)]
    assert sum(shares) == 20


def test_nothing_to_compute_starts_no_process() -> None:
    async def never(share: Sequence[int]) -> list[int]:
        raise AssertionError(f"asked to compute {list(share)}")

    assert run(never, 0) == ([], [])


def test_a_run_is_spread_only_when_asked_and_worth_it() -> None:
    assert processes_for(10_000, 1) == 1
    assert processes_for(MIN_PER_PROCESS * 2 - 1, 4) == 1  # fewer than two processes' worth
    if processes_for(10_000, 2) > 1:  # a platform that forks
        assert processes_for(MIN_PER_PROCESS * 3, 8) == 3
        assert processes_for(10_000, 0) == workers.cores()


async def interrupt_handling(share: Sequence[int]) -> list[object]:
    return [signal.getsignal(signal.SIGINT) for _ in share]


@needs_fork
def test_ctrl_c_stops_a_process_unless_the_run_ignores_it() -> None:
    before = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        assert set(run(interrupt_handling, 4)[0]) == {signal.SIG_DFL}
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # started in the background
        assert set(run(interrupt_handling, 4)[0]) == {signal.SIG_IGN}
    finally:
        signal.signal(signal.SIGINT, before)
