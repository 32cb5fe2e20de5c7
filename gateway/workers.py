"""Runs the background jobs beside the web app, each in a loop that survives its own errors.

A job that fails (the database is down, most often) is tried again after a delay that doubles from the poll
interval up to `max_backoff_seconds`, and its failures are logged as one streak rather than a traceback a
poll: the first with its traceback, then a count every `report_every_seconds` while it lasts, and a last
line with the count when the job succeeds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

Job = Callable[[], Awaitable[int]]


@dataclass
class _Streak:
    """The failures in a row of one job."""

    failures: int = 0
    started: float = 0.0
    reported: float = 0.0


def _log() -> Any:
    # Looked up when used (only on failures): a logger cached at import would keep the configuration of
    # the moment it was first used.
    return structlog.get_logger()


class Workers:
    def __init__(
        self,
        jobs: dict[str, Job],
        poll_seconds: float,
        hourly: dict[str, Job] | None = None,
        *,
        max_backoff_seconds: float = 30.0,
        report_every_seconds: float = 300.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.jobs = {**jobs, **{name: _hourly(job) for name, job in (hourly or {}).items()}}
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max(max_backoff_seconds, poll_seconds)
        self.report_every_seconds = report_every_seconds
        self._sleep = sleep
        self._monotonic = monotonic
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop(name, job), name=name) for name, job in self.jobs.items()]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self, name: str, job: Job) -> None:
        streak = _Streak()
        while True:
            try:
                done = await job()
            except Exception as exc:
                await self._sleep(self._failed(name, streak, exc))
                continue
            if streak.failures:
                seconds = round(self._monotonic() - streak.started)
                _log().info("worker_recovered", worker=name, failures=streak.failures, seconds=seconds)
                streak = _Streak()
            if not done:  # a full batch means more may be waiting: go again at once
                await self._sleep(self.poll_seconds)

    def _failed(self, name: str, streak: _Streak, exc: Exception) -> float:
        """Logs a failure as part of its streak; returns how long to wait before the next try."""
        now = self._monotonic()
        streak.failures += 1
        if streak.failures == 1:
            streak.started = streak.reported = now
            _log().error("worker_failing", worker=name, error=type(exc).__name__, exc_info=exc)
        elif now - streak.reported >= self.report_every_seconds:
            streak.reported = now
            _log().warning(
                "worker_still_failing",
                worker=name,
                error=type(exc).__name__,
                failures=streak.failures,
                seconds=round(now - streak.started),
            )
        # The exponent is bounded: 2 ** 1100 would not convert to a float.
        return min(self.max_backoff_seconds, self.poll_seconds * 2 ** min(streak.failures - 1, 30))


def _hourly(job: Job) -> Job:
    """Run `job` at most once an hour; in between the loop finds nothing to do."""
    last = -float("inf")

    async def maybe() -> int:
        nonlocal last
        if time.monotonic() - last < 3600:
            return 0
        last = time.monotonic()
        await job()
        return 0

    return maybe
