"""Who the simulator serves and how it behaves: the partner account, where pushes go and how often they are
sent again, and the signing key."""

from __future__ import annotations

from dataclasses import dataclass, field

from .keys import DEV_PRIVATE_KEY_PEM


@dataclass(frozen=True)
class Account:
    """A MyVNPost partner account: GetAccessToken takes username, password and customerCode."""

    username: str
    password: str = field(repr=False)
    customer_code: str
    name: str = ""


@dataclass(frozen=True)
class SimulatorConfig:
    accounts: list[Account]
    # Where status pushes go; MyVNPost registers one URL per partner (UNVERIFIED how), not one per order.
    callback_url: str = "http://127.0.0.1:8000/callbacks/vnpost"
    # Waits before each further push while the partner has not answered HTTP 200 (VNPost's schedule is not
    # published; the first comes within 5 s so a developer sees it; tests pass ()).
    push_retry_intervals: tuple[float, ...] = (3, 10, 30, 60, 300)
    push_timeout: float = 15.0
    # How long a token from GetAccessToken is good for (MyVNPost's is not published).
    token_ttl_seconds: float = 3600.0
    private_key_pem: str = field(default=DEV_PRIVATE_KEY_PEM, repr=False)

    def __post_init__(self) -> None:
        if not self.accounts:
            raise ValueError("the simulator needs at least one account")
        names = [a.username for a in self.accounts]
        if len(set(names)) != len(names):
            raise ValueError("usernames must be unique")
        if any(i < 0 for i in self.push_retry_intervals):
            raise ValueError("push retry intervals cannot be negative")

    def account(self, username: object, password: object, customer_code: object) -> Account | None:
        return next(
            (
                a
                for a in self.accounts
                if a.username == username and a.password == password and a.customer_code == customer_code
            ),
            None,
        )


# The simulator's published dev account, the adapter's default (docs/simulators.md).
DEV_ACCOUNT = Account(
    username="dvcgw-dev",
    password="dvcgw-dev-password",  # noqa: S106 - published on purpose
    customer_code="DVCGW0001",
    name="DVC Gateway (dev)",
)


def default_config() -> SimulatorConfig:
    return SimulatorConfig(accounts=[DEV_ACCOUNT])
