"""Every setting, read once from the environment (prefix DVCGW_) or passed in by tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, IPvAnyNetwork, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.carriers import carrier_settings_from_environment
from adapters.registry import settings_from_environment

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DVCGW_", env_file=".env", extra="ignore")

    # "development" (the default: `make run`, tests, the demo) allows the simulators' published secrets
    # and the demo; any other value refuses to start with either (check_production_safety).
    environment: str = "development"
    debug: bool = False
    database_url: str = f"sqlite+aiosqlite:///{ROOT / 'var' / 'dvc-gateway.db'}"
    # Where browsers and providers reach this gateway: builds the providers' return URLs.
    public_base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    log_json: bool = True
    # /demo lets anyone who reaches the gateway create payments as the demo portal: off in production.
    demo_enabled: bool = True

    payment_default_ttl_seconds: int = Field(default=900, ge=60)
    payment_max_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    # A pending payment is first asked about this long after creation even if nothing happened.
    payment_first_query_seconds: int = Field(default=900, ge=1)
    # Grace after expiry before a payment with no trace at the provider is declared expired.
    payment_expiry_grace_seconds: int = Field(default=120, ge=0)
    # Back-off between queries of a payment whose outcome is unknown: attempt n waits schedule[n].
    payment_query_schedule_seconds: list[int] = [30, 60, 120, 300, 600, 1800, 3600]

    webhook_retry_schedule_seconds: list[int] = [5, 300, 1800, 7200, 18000, 36000, 36000]
    webhook_timeout_seconds: float = 10.0
    # Webhooks go over https to public addresses only (gateway/webhooks/targets.py); in development also to
    # public_base_url itself, where the demo portal receives them.
    webhook_allow_http: bool = False
    # Host names, addresses or CIDR networks webhooks may reach though not public, e.g. a portal on a private
    # government network (JSON in the environment: '["10.20.0.0/16"]').
    webhook_allowed_hosts: list[str] = []
    # A claimed webhook is held this long and renewed while its delivery runs: a dead process's claims
    # are taken over this soon after it stopped renewing them.
    webhook_lease_seconds: int = Field(default=30, ge=3)
    # The same for the payment resolver's and the shipment poller's claims (gateway/db/claims.py).
    worker_lease_seconds: int = Field(default=30, ge=3)

    workers_enabled: bool = True
    worker_poll_seconds: float = 1.0
    worker_batch_size: int = 20

    idempotency_lock_seconds: int = 60
    idempotency_retention_hours: int = 24
    request_max_body_bytes: int = 64 * 1024
    # The portal clients (by id) whose API key may use the finance API (/v1/reconciliation, /v1/reports)
    # until staff accounts with the finance role exist; JSON in the environment: '["cli_..."]'.
    finance_client_ids: list[str] = []
    # A process remembers a valid API key this long, saving a query per request; a deactivated
    # client is therefore refused within this many seconds on every process. 0 turns it off.
    auth_cache_seconds: float = Field(default=30.0, ge=0)

    # Rate limits (gateway/limits.py): requests per fixed window of `rate_limit_window_seconds`, answered 429
    # past the limit. "database": counters in a table every process on the database shares; "memory": in
    # this process only (one process on its own).
    rate_limit_store: Literal["database", "memory"] = "database"
    rate_limit_window_seconds: int = Field(default=60, ge=1)
    # Per API key: 500/s, above a portal's national peak of a few hundred payments/s and their reads.
    rate_limit_per_key: int = Field(default=30_000, ge=1)
    # Wrong or missing API keys per source address; past it the address is refused on /v1 for the window.
    rate_limit_auth_failures_per_address: int = Field(default=20, ge=1)
    # Provider callbacks (/callbacks/...) per source address: VNPay sends every IPN from a few addresses.
    rate_limit_callbacks_per_address: int = Field(default=20_000, ge=1)
    rate_limit_demo_per_address: int = Field(default=120, ge=1)
    # Proxies (addresses or networks, e.g. "10.0.0.0/8") whose X-Forwarded-For names the source address;
    # with none, the source is the connection's peer and X-Forwarded-For is ignored.
    trusted_proxies: list[IPvAnyNetwork] = []
    # Provider callbacks bigger than this are refused (414, 413) before anything reads them: VNPay's IPN
    # query is under 1 KB and it sends no body.
    callback_max_query_bytes: int = Field(default=4096, ge=1)
    callback_max_body_bytes: int = Field(default=4096, ge=0)
    # The carrier pushes a batch of tracking events in one signed body (`/callbacks/vnpost`): a few hundred
    # bytes an event, so it has its own cap, still under request_max_body_bytes.
    carrier_push_max_body_bytes: int = Field(default=64 * 1024, ge=0)

    # A provider's circuit breaker (gateway/payments/breaker.py): this many failed calls in a row pause its
    # new payments for the cooldown, then one call is let through to try it.
    breaker_failures: int = Field(default=5, ge=1)
    breaker_cooldown_seconds: float = Field(default=30.0, gt=0)

    # Staff at /staff (gateway/staff/, docs/staff.md). A session ends after this long without a request,
    # and at the latest this long after login; a postal round is a working day.
    staff_session_idle_seconds: int = Field(default=2 * 3600, ge=60)
    staff_session_absolute_seconds: int = Field(default=12 * 3600, ge=60)
    # This many wrong passwords in a row lock an account for staff_lockout_seconds.
    staff_lockout_failures: int = Field(default=5, ge=1)
    staff_lockout_seconds: int = Field(default=15 * 60, ge=1)
    # Wrong logins per source address and rate-limit window, whatever the username: guessing across accounts.
    staff_login_failures_per_address: int = Field(default=30, ge=1)
    # The session cookie is Secure unless this says otherwise; unset: Secure outside development.
    staff_cookie_secure: bool | None = None
    # A proof of delivery (JPEG, PNG or PDF) is refused past this size, or past this many pixels or pages.
    proof_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    proof_max_pixels: int = Field(default=50_000_000, ge=1)
    proof_max_pdf_pages: int = Field(default=20, ge=1)
    # Postal delivery (gateway/shipments): the carrier shipments are booked with (gateway/shipments/carriers.py).
    shipment_carrier: str = "vnpost"
    # After this many failed delivery attempts a shipment is held at the post office (then returned).
    shipment_failed_attempts_before_hold: int = Field(default=2, ge=1)
    # A shipment whose status has not changed for this long is asked about (pushes may be lost).
    shipment_poll_stale_seconds: int = Field(default=7200, ge=1)
    # Polling stops this long after booking, as karrio retires a tracker (reference §1.6).
    shipment_poll_max_days: int = Field(default=90, ge=1)
    shipment_poll_batch_size: int = Field(default=10, ge=1)
    # A booking whose outcome is unknown is tried again after these delays (attempt n waits schedule[n]).
    shipment_booking_retry_seconds: list[int] = [30, 120, 600, 1800, 3600]
    # GET /v1/tracking/{item_number}: public, so counted per source address.
    rate_limit_tracking_per_address: int = Field(default=120, ge=1)

    # E-receipts (gateway/receipts): the receipt form (mẫu số) and the series prefix (ký hiệu; the series is
    # prefix-YYE, a new one each year). UNVERIFIED defaults: set both from the agency's registration.
    receipt_form: str = Field(default="01BLP0-001", min_length=1, max_length=20, pattern=r"^[0-9A-Za-z/-]+$")
    receipt_series_prefix: str = Field(default="DV", min_length=1, max_length=10, pattern=r"^[A-Z0-9]+$")
    # Whether portals are sent receipt.issued and receipt.cancelled (a portal that wants only the payment's
    # own events can do without them: GET /v1/payments/{id}/receipts has the same).
    receipt_webhooks_enabled: bool = True
    # GET /receipts/verify/{token}: public, so counted per source address.
    rate_limit_receipt_verify_per_address: int = Field(default=120, ge=1)

    # Each provider's own settings (adapters/registry.py), read from its DVCGW_<NAME>_ variables.
    providers: dict[str, Any] = Field(default_factory=settings_from_environment)
    # Each carrier's own settings (adapters/carriers.py), read from its DVCGW_<NAME>_ variables.
    carriers: dict[str, Any] = Field(default_factory=carrier_settings_from_environment)

    @model_validator(mode="after")
    def _caps_fit(self) -> Settings:
        # Every body is read under request_max_body_bytes first: a larger cap for pushes would never apply.
        if self.carrier_push_max_body_bytes > self.request_max_body_bytes:
            raise ValueError("carrier_push_max_body_bytes must not exceed request_max_body_bytes")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def staff_cookies_secure(self) -> bool:
        return not self.is_development if self.staff_cookie_secure is None else self.staff_cookie_secure


class UnsafeSettings(Exception):
    """Settings that would run a production gateway on a simulator's secret or with the demo open."""


def check_production_safety(settings: Settings) -> None:
    if settings.is_development:
        return
    problems = [
        f"DVCGW_{name.upper()}_* uses the simulator's published secret"
        for name, provider in settings.providers.items()
        if provider.enabled and provider.uses_simulator_secret()
    ]
    problems += [
        f"DVCGW_{name.upper()}_* uses the simulator's published secret"
        for name, carrier in settings.carriers.items()
        if carrier.enabled and carrier.uses_simulator_secret()
    ]
    if settings.demo_enabled:
        problems.append("DVCGW_DEMO_ENABLED is on: /demo lets anyone create payments")
    if problems:
        raise UnsafeSettings(
            f"DVCGW_ENVIRONMENT={settings.environment} refuses to start: "
            + "; ".join(problems)
            + ". Set real values, or DVCGW_ENVIRONMENT=development on a developer's machine."
        )
