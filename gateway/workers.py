"""Runs the background jobs beside the web app, each in a loop that survives its own errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger()

Job = Callable[[], Awaitable[int]]


class Workers:
    def __init__(self, jobs: dict[str, Job], poll_seconds: float) -> None:
        self.jobs = jobs
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
