"""Tables. ORM models stay inside the gateway; the API speaks the pydantic models in contracts/."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, configure_mappers, mapped_column

from gateway.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[dict[str, Any]]: JSON}


class Client(Base):
    """A portal (machine client) and where its webhooks go."""

    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    api_key_prefix: Mapped[str] = mapped_column(String(16))
    # The key a rotation replaced, still taken until previous_key_expires_at (gateway/auth.py).
    previous_api_key_hash: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)
    previous_key_expires_at: Mapped[datetime | None]
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("provider", "provider_ref"),
        Index("ix_payments_client_dossier", "client_id", "dossier_code"),
        # Only the payments still to be queried (next_query_at is cleared when one is final): a settled
        # payment leaves the index instead of moving within it, a page fewer in an IPN's commit, and the
        # index stays the size of the open payments rather than of every payment ever made.
        # A retry of the request that made it (after a crash cut the first short) finds it instead of
        # making a second payment, and a second order at the provider. Not unique: once the key is past its
        # retention (idempotency_retention_hours) the portal may use it for a new request.
        Index("ix_payments_client_idempotency_key", "client_id", "idempotency_key"),
        Index(
            "ix_payments_due_query",
            "status",
            "next_query_at",
            sqlite_where=text("next_query_at IS NOT NULL"),
            postgresql_where=text("next_query_at IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))
    dossier_code: Mapped[str] = mapped_column(String(64))
    agency_code: Mapped[str] = mapped_column(String(64))
    procedure_code: Mapped[str] = mapped_column(String(64))
    payer_name: Mapped[str] = mapped_column(String(200))
    payer_phone: Mapped[str | None] = mapped_column(String(20))
    payer_email: Mapped[str | None] = mapped_column(String(254))
    provider: Mapped[str] = mapped_column(String(20))
    provider_ref: Mapped[str] = mapped_column(String(64))
    provider_transaction_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="VND")
    status: Mapped[str] = mapped_column(String(20))
    return_url: Mapped[str] = mapped_column(String(2000))
    # What the provider gave for the citizen to pay with; empty until its checkout was created.
    checkout_url: Mapped[str | None] = mapped_column(Text)
    qr_code: Mapped[str | None] = mapped_column(Text)
    deeplink: Mapped[str | None] = mapped_column(Text)
    provider_order_id: Mapped[str | None] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(45))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    next_query_at: Mapped[datetime | None]
    query_attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_codes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # The fee lines as the portal sent them: fixed once the payment exists, and always read with it,
    # so they live in the row rather than in a table of their own (one statement to write, one to read).
    lines: Mapped[list[dict[str, Any]]]

    # Two writers racing on one payment (duplicate IPNs, a query and an IPN) cannot both win:
    # the loser gets StaleDataError and re-reads.
    __mapper_args__ = {"version_id_col": version}


class PaymentEvent(Base):
    """Append-only audit trail of every status change of a payment or of its refunds."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    refund_id: Mapped[str | None] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    cause: Mapped[str] = mapped_column(String(20))
    provider_codes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    detail: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime]


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("payment_id", "idempotency_key"),
        # The refunds still to be sent or asked about (gateway/payments/resolver.py), as for payments.
        Index(
            "ix_refunds_due_query",
            "status",
            "next_query_at",
            sqlite_where=text("next_query_at IS NOT NULL"),
            postgresql_where=text("next_query_at IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(500))
    provider_request_id: Mapped[str] = mapped_column(String(64), unique=True)
    # The request that asked for it: a retry after a crash resumes this refund instead of making another.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    provider_transaction_id: Mapped[str | None] = mapped_column(String(64))
    provider_codes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # While pending or processing: when the resolver next sends it or asks the provider about it.
    next_query_at: Mapped[datetime | None]
    query_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # When it was sent to the provider (None while pending): ZaloPay's m_refund_id is dated that day.
    sent_at: Mapped[datetime | None]


class ProviderNotification(Base):
    """Inbox: every notification a provider sent, with the answer we gave, forged ones included."""

    __tablename__ = "provider_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]]
    signature_valid: Mapped[bool] = mapped_column(Boolean)
    ack_code: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[datetime]


class NotificationRejection(Base):
    """How many notifications that failed verification each provider was sent, per hour."""

    __tablename__ = "notification_rejections"

    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(200))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(index=True)


class WebhookEvent(Base):
    """Outbox of events for a portal, written in the transaction that caused them."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    type: Mapped[str] = mapped_column(String(50))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(40))  # the dispatcher whose lease locked_until is
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime]


class RateLimitCounter(Base):
    """Requests counted against one limit in one fixed window (gateway/limits.py). Rows of windows past
    are purged hourly. UNLOGGED on PostgreSQL (migration 0007): counts need not outlive a crash."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)


class StaffAccount(Base):
    """A person who logs in at /staff: a post office's staff (role `postal`, with its office) or finance."""

    __tablename__ = "staff_accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    office_code: Mapped[str | None] = mapped_column(String(20), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]


class StaffSession(Base):
    """A logged-in browser. Only the hash of its cookie's id is kept: a copy of the table opens nothing."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True)
    # The synchronizer token every state-changing form and cookie-authenticated API call must send back.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the absolute end, whatever the activity


class ProofFile(Base):
    """A delivery's proof (photo, signature, scanned slip), kept in the database so that every gateway
    process serves it; checked by its content before it is stored (gateway/staff/proofs.py)."""

    __tablename__ = "proof_files"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    office_code: Mapped[str] = mapped_column(String(20))  # the office it was recorded at
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(ForeignKey("staff_accounts.id"))
    created_at: Mapped[datetime]


class Shipment(Base):
    """A postal shipment of a dossier (citizen → agency) or of a result (agency → citizen)."""

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("carrier", "carrier_order_id"),
        UniqueConstraint("client_id", "idempotency_key"),
        Index("ix_shipments_client_dossier", "client_id", "dossier_code"),
        Index("ix_shipments_office_status", "office_code", "status"),
        # Only the shipments still to be asked about, as for payments (ix_payments_due_query).
        Index(
            "ix_shipments_due_poll",
            "next_poll_at",
            sqlite_where=text("next_poll_at IS NOT NULL"),
            postgresql_where=text("next_poll_at IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"))
    kind: Mapped[str] = mapped_column(String(20))
    dossier_code: Mapped[str] = mapped_column(String(64))
    procedure: Mapped[str] = mapped_column(String(500))
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"))
    postage_mode: Mapped[str] = mapped_column(String(10))
    cod_amount: Mapped[int] = mapped_column(BigInteger)
    cod_collected: Mapped[int | None] = mapped_column(BigInteger)
    postage: Mapped[int | None] = mapped_column(BigInteger)
    carrier: Mapped[str] = mapped_column(String(20))
    service: Mapped[str] = mapped_column(String(20))
    booking: Mapped[str] = mapped_column(String(10))  # requested | booked | refused
    booking_attempts: Mapped[int] = mapped_column(Integer)
    # The request that asked for it: a retry after a crash resumes this booking instead of making another.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    carrier_order_id: Mapped[str | None] = mapped_column(String(64))
    item_number: Mapped[str | None] = mapped_column(String(13), index=True)
    office_code: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    failed_attempts: Mapped[int] = mapped_column(Integer)
    # The addresses as resolved (contracts.shipping.PostalAddress): personal data, read with the shipment.
    sender: Mapped[dict[str, Any]]
    recipient: Mapped[dict[str, Any]]
    parcel: Mapped[dict[str, Any]]
    documents: Mapped[list[dict[str, Any]]]
    note: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The time of the latest event that moved the status: an older one arriving later does not move it.
    status_at: Mapped[datetime | None]
    last_polled_at: Mapped[datetime | None]
    # When the poller next asks the carrier (or retries the booking); cleared when final or retired.
    next_poll_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class ShipmentEvent(Base):
    """Append-only timeline of a shipment: every event reported, applied or not, and every correction."""

    __tablename__ = "shipment_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    source: Mapped[str] = mapped_column(String(10))  # carrier | staff | portal | system
    # Carrier events only: carrier order id, raw code and event time. A repeat is not recorded twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    code: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(500))
    location: Mapped[str | None] = mapped_column(String(64))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    status_before: Mapped[str | None] = mapped_column(String(20))
    status_after: Mapped[str] = mapped_column(String(20))
    applied: Mapped[bool] = mapped_column(Boolean)
    correction: Mapped[bool] = mapped_column(Boolean)
    correction_reason: Mapped[str | None] = mapped_column(String(500))
    proof_id: Mapped[str | None] = mapped_column(String(40))
    # What the staff member or the carrier recorded besides (recipient's name, documents counted, fees).
    details: Mapped[dict[str, Any]]


class JournalEntry(Base):
    """One double-entry journal entry (gateway/ledger): append-only, its postings sum to zero.

    At most one per (cause, cause_id): a payment's success is posted once however often it is reported."""

    __tablename__ = "journal_entries"
    __table_args__ = (UniqueConstraint("cause", "cause_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    cause: Mapped[str] = mapped_column(String(30))
    cause_id: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500))
    # A correcting entry names the entry it corrects; the original is never changed.
    corrects_id: Mapped[str | None] = mapped_column(ForeignKey("journal_entries.id"))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]


class Posting(Base):
    """One line of a journal entry: a signed amount on one account (debit positive, credit negative).
    An account is its kind and key (gateway/ledger/accounts.py), e.g. provider_clearing + vnpay."""

    __tablename__ = "ledger_postings"
    __table_args__ = (Index("ix_ledger_postings_account", "account_kind", "account_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account_kind: Mapped[str] = mapped_column(String(30))
    account_key: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)


class ReceiptCounter(Base):
    """The last number given in one receipt series: bumped in the transaction that issues the receipt,
    holding the row's lock until it commits, so numbers are consecutive with no gaps (gateway/receipts)."""

    __tablename__ = "receipt_counters"

    form: Mapped[str] = mapped_column(String(20), primary_key=True)
    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_number: Mapped[int] = mapped_column(BigInteger)


class Receipt(Base):
    """An electronic fee receipt (biên lai thu phí, lệ phí điện tử) of a succeeded payment, or the
    adjustment receipt a partial refund issues against it (gateway/receipts)."""

    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("form", "series", "number"),
        # One original receipt per payment, however often its success is reported.
        Index(
            "uq_receipts_original_payment",
            "payment_id",
            unique=True,
            sqlite_where=text("kind = 'original'"),
            postgresql_where=text("kind = 'original'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # original | adjustment
    # An adjustment's original receipt, and the refund that caused it.
    original_id: Mapped[str | None] = mapped_column(ForeignKey("receipts.id"))
    refund_id: Mapped[str | None] = mapped_column(ForeignKey("refunds.id"), unique=True)
    form: Mapped[str] = mapped_column(String(20))
    series: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))  # issued | adjusted | cancelled
    # What the QR code carries to the public verification page: unguessable, names nothing personal.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime]
    # The cancellation record: when, why, and the refund that returned the whole amount.
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    cancel_refund_id: Mapped[str | None] = mapped_column(ForeignKey("refunds.id"))


class ReconciliationRun(Base):
    """One provider settlement file (or VNPost COD remittance file) matched against the gateway's records."""

    __tablename__ = "reconciliation_runs"
    # The same file imported twice is the same run (idempotent re-import).
    __table_args__ = (UniqueConstraint("provider", "file_sha256"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    business_date: Mapped[str] = mapped_column(String(10), index=True)  # YYYY-MM-DD, Vietnam's day
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_rows: Mapped[int] = mapped_column(Integer)
    # Per category: {"count", "amount", "fee"}; and the file's gross, fees and net.
    summary: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ReconciliationItem(Base):
    """A row of a settlement file, or a gateway record the file lacks, and the one category it ended in.

    The file's rows are bulk-inserted here (the staging rows) and then matched by set-based SQL in the
    same transaction, so a run is either wholly there or not at all."""

    __tablename__ = "reconciliation_items"
    __table_args__ = (
        Index("ix_reconciliation_items_run_category", "run_id", "category"),
        Index("ix_reconciliation_items_run_txn", "run_id", "kind", "provider_txn_id", "line_no"),
        Index("ix_reconciliation_items_run_payment", "run_id", "payment_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("reconciliation_runs.id"))
    line_no: Mapped[int | None] = mapped_column(Integer)  # None: a gateway record missing from the file
    kind: Mapped[str] = mapped_column(String(10))  # payment | refund | cod
    category: Mapped[str | None] = mapped_column(String(24))
    provider_txn_id: Mapped[str | None] = mapped_column(String(64))
    order_ref: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int | None] = mapped_column(BigInteger)  # as the file says
    fee: Mapped[int | None] = mapped_column(BigInteger)  # the provider's charge for this row
    file_status: Mapped[str | None] = mapped_column(String(20))  # succeeded | failed
    occurred_at: Mapped[datetime | None]
    payment_id: Mapped[str | None] = mapped_column(String(40))
    refund_id: Mapped[str | None] = mapped_column(String(40))
    shipment_id: Mapped[str | None] = mapped_column(String(40))
    gateway_amount: Mapped[int | None] = mapped_column(BigInteger)
    gateway_status: Mapped[str | None] = mapped_column(String(20))  # before this run settled anything
    settled_by_file: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolved_at: Mapped[datetime | None]


class ReconciliationResolution(Base):
    """Append-only audit of what finance staff decided about a discrepancy, by whom, when and why."""

    __tablename__ = "reconciliation_resolutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_items.id"), unique=True)
    action: Mapped[str] = mapped_column(String(20))  # write_off | refund | mark_paid
    note: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(200))
    resolved_at: Mapped[datetime]
    # What the resolution acted on: the payment it settled (mark_paid, refund) and the refund it sent.
    payment_id: Mapped[str | None] = mapped_column(String(40))
    refund_id: Mapped[str | None] = mapped_column(String(40))


# Reconciliation matches a file's rows by the provider's own transaction id (gateway/reconciliation/matching.py).
Index("ix_payments_provider_transaction", Payment.provider, Payment.provider_transaction_id)
Index("ix_refunds_provider_transaction", Refund.provider_transaction_id)


# Every mapper set up at import, not by whichever ORM call comes first: a mapping mistake fails when the
# gateway starts, not in the first request that happens to touch it.
configure_mappers()
