"""Runs the background jobs beside the web app, each in a loop that survives its own errors."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger()

Job = Callable[[], Awaitable[int]]


class Workers:
    def __init__(self, jobs: dict[str, Job], poll_seconds: float, hourly: dict[str, Job] | None = None) -> None:
        self.jobs = {**jobs, **{name: _hourly(job) for name, job in (hourly or {}).items()}}
        self.poll_seconds = poll_seconds
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
        while True:
            try:
                done = await job()
            except Exception:
                log.exception("worker_error", worker=name)
                done = 0
            if not done:  # a full batch means more may be waiting: go again at once
                await asyncio.sleep(self.poll_seconds)


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
