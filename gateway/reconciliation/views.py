"""What the finance API answers about runs, items and resolutions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.db.models import ReconciliationItem, ReconciliationResolution, ReconciliationRun, Refund

Category = Literal[
    "matched", "missing_in_provider", "missing_in_gateway", "amount_mismatch", "status_mismatch", "duplicate"
]
Action = Literal["write_off", "refund", "mark_paid"]


class RunOut(BaseModel):
    id: str
    provider: str
    business_date: str
    file_name: str
    file_sha256: str
    file_rows: int
    summary: dict[str, Any]
    created_by: str
    created_at: datetime


class RunPage(BaseModel):
    items: list[RunOut]


class ItemOut(BaseModel):
    id: int
    run_id: str
    line_no: int | None
    kind: str
    category: str | None
    provider_txn_id: str | None
    order_ref: str | None
    amount: int | None
    fee: int | None
    file_status: str | None
    occurred_at: datetime | None
    payment_id: str | None
    refund_id: str | None
    shipment_id: str | None
    gateway_amount: int | None
    gateway_status: str | None
    settled_by_file: bool
    resolution: str | None
    resolved_at: datetime | None


class ItemPage(BaseModel):
    items: list[ItemOut]
    next_cursor: int | None


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    action: Action
    note: str = Field(min_length=1, max_length=2000, pattern=r"^[^\u0000]*$")
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=r"^[^\u0000]*$",
        description="mark_paid: the gateway's id of the payment the row pays (pay_…); otherwise kept as given",
    )


class ResolutionOut(BaseModel):
    item: ItemOut
    action: str
    note: str
    reference: str | None
    actor: str
    resolved_at: datetime
    payment_id: str | None = Field(default=None, description="The payment mark_paid or refund settled")
    refund_id: str | None = Field(default=None, description="The refund a refund resolution sent")
    refund_status: str | None = Field(default=None, description="That refund's status when the answer was made")


def run_out(run: ReconciliationRun) -> RunOut:
    return RunOut.model_validate(run, from_attributes=True)


def item_out(item: ReconciliationItem) -> ItemOut:
    return ItemOut.model_validate(item, from_attributes=True)


def resolution_out(
    item: ReconciliationItem, resolution: ReconciliationResolution, refund: Refund | None = None
) -> ResolutionOut:
    return ResolutionOut(
        item=item_out(item),
        action=resolution.action,
        note=resolution.note,
        reference=resolution.reference,
        actor=resolution.actor,
        resolved_at=resolution.resolved_at,
        payment_id=resolution.payment_id,
        refund_id=resolution.refund_id,
        refund_status=refund.status if refund else None,
    )
