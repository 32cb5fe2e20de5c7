"""The background loop while a job keeps failing: it backs off, and logs the streak, not every failure."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from gateway.workers import Workers

pytestmark = pytest.mark.anyio


class Stop(BaseException):
    """Ends the loop under test (it survives any Exception a job raises)."""


class FakeTime:
    """Time that moves only when the loop sleeps; the loop is stopped at its `last` sleep."""

    def __init__(self, last: int) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.last = last

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if len(self.sleeps) == self.last:
            raise Stop


def failing(times: int) -> tuple[list[int], object]:
    calls: list[int] = []

    async def job() -> int:
        calls.append(1)
        if len(calls) <= times:
            raise ConnectionRefusedError("[Errno 111] Connect call failed ('127.0.0.1', 5432)")
        return 0

    return calls, job


async def run(workers: Workers, job: object) -> list[dict[str, object]]:
    with capture_logs() as logs, pytest.raises(Stop):
        await workers._loop("resolver", job)  # type: ignore[arg-type]
    return logs


async def test_a_failing_job_backs_off_to_the_cap_and_logs_its_streak_once() -> None:
    time = FakeTime(last=21)  # 20 failures, then one success and its poll
    _, job = failing(20)
    workers = Workers({}, poll_seconds=1, sleep=time.sleep, monotonic=time.monotonic)
    logs = await run(workers, job)

    assert time.sleeps == [1, 2, 4, 8, 16] + [30] * 15 + [1]
    assert [e["event"] for e in logs] == ["worker_failing", "worker_still_failing", "worker_recovered"]
    first, still, recovered = logs
    assert first["error"] == "ConnectionRefusedError" and isinstance(first["exc_info"], ConnectionRefusedError)
    # 1 + 2 + 4 + 8 + 16 + 9 × 30 = 301 seconds in, the 15th failure: one line with the count, no traceback
    assert (still["failures"], still["seconds"], still["error"]) == (15, 301, "ConnectionRefusedError")
    assert "exc_info" not in still
    assert (recovered["failures"], recovered["seconds"]) == (20, 481)  # 31 + 15 × 30


async def test_after_recovering_the_next_failure_starts_a_new_streak_from_the_poll_interval() -> None:
    time = FakeTime(last=5)
    outcomes = iter([RuntimeError("a"), RuntimeError("b"), 0, RuntimeError("c"), 0])

    async def job() -> int:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    workers = Workers({}, poll_seconds=0.5, sleep=time.sleep, monotonic=time.monotonic)
    logs = await run(workers, job)
    assert time.sleeps == [0.5, 1, 0.5, 0.5, 0.5]
    assert [(e["event"], e.get("failures")) for e in logs] == [
        ("worker_failing", None),
        ("worker_recovered", 2),
        ("worker_failing", None),
        ("worker_recovered", 1),
    ]


async def test_the_backoff_stays_capped_however_long_the_streak() -> None:
    time = FakeTime(last=2000)
    _, job = failing(5000)
    workers = Workers({}, poll_seconds=1, sleep=time.sleep, monotonic=time.monotonic)
    logs = await run(workers, job)
    assert max(time.sleeps) == 30 and time.sleeps[-1] == 30
    assert logs[0]["event"] == "worker_failing" and all(e["event"] == "worker_still_failing" for e in logs[1:])
    assert len(logs) == 1 + int(time.now // 300)  # one summary every five minutes, not a line a try


async def test_a_full_batch_runs_again_at_once_and_an_empty_one_waits_a_poll() -> None:
    time = FakeTime(last=1)
    batches = iter([20, 20, 0])

    async def job() -> int:
        return next(batches)

    with pytest.raises(Stop):
        await Workers({}, poll_seconds=1, sleep=time.sleep, monotonic=time.monotonic)._loop("webhooks", job)
    assert time.sleeps == [1]
