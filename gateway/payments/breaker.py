"""A circuit breaker per provider, in each process: after `threshold` failures in a row (timeouts, 5xx,
connections refused) new payments for that provider are refused at once for `cooldown` seconds, instead
of each portal request waiting on a provider that is down. Then one call is let through: its success
closes the breaker, its failure opens it again.

Payments already created are not affected: the resolver keeps querying them (its outcomes count too).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.clock import Clock


class Health(StrEnum):
    UP = "up"
    DOWN = "down"  # open: new payments refused
    RECOVERING = "recovering"  # half open: the next call is the trial


@dataclass
class Breaker:
    clock: Clock
    threshold: int
    cooldown: float
    failures: int = 0
    opened_at: float | None = None
    trial_at: float | None = None  # when the call let through to try the provider began

    def _now(self) -> float:
        return self.clock.now().timestamp()

    @property
    def health(self) -> Health:
        if self.opened_at is None:
            return Health.UP
        return Health.RECOVERING if self._now() >= self.opened_at + self.cooldown else Health.DOWN

    def retry_after(self) -> int:
        """Whole seconds until a trial call is let through (at least 1)."""
        if self.opened_at is None:
            return 0
        return max(1, int(self.opened_at + self.cooldown - self._now() + 0.999))

    def allow(self) -> bool:
        health = self.health
        if health is Health.UP:
            return True
        # One trial at a time; a trial that never reported (its request failed before calling) is
        # replaced after a cooldown.
        now = self._now()
        if health is Health.RECOVERING and (self.trial_at is None or now >= self.trial_at + self.cooldown):
            self.trial_at = now
            return True
        return False

    def succeeded(self) -> None:
        self.failures, self.opened_at, self.trial_at = 0, None, None

    def failed(self) -> None:
        self.failures += 1
        if self.trial_at is not None or self.failures >= self.threshold:
            self.opened_at, self.trial_at = self._now(), None
