"""ORM rows to the API's pydantic models; also the data of the portal events."""

from __future__ import annotations

from contracts.payments import PaymentEventOut, PaymentOut, RefundOut
from gateway.db.models import Payment, PaymentEvent, Refund


def payment_out(p: Payment) -> PaymentOut:
    return PaymentOut.model_validate(
        {
            "id": p.id,
            "status": p.status,
            "provider": p.provider,
            "amount": p.amount,
            "refunded_amount": p.refunded_amount,
            "dossier_code": p.dossier_code,
            "agency_code": p.agency_code,
            "procedure_code": p.procedure_code,
            "checkout_url": p.checkout_url,
            "qr_code": p.qr_code,
            "deeplink": p.deeplink,
            "expires_at": p.expires_at,
            "created_at": p.created_at,
            "updated_at": p.updated_at,
            "paid_at": p.paid_at,
            "lines": p.lines,
        }
    )


def refund_out(r: Refund) -> RefundOut:
    return RefundOut.model_validate(
        {
            "id": r.id,
            "payment_id": r.payment_id,
            "amount": r.amount,
            "status": r.status,
            "reason": r.reason,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
        }
    )


def event_out(e: PaymentEvent) -> PaymentEventOut:
    return PaymentEventOut(
        from_status=e.from_status,
        to_status=e.to_status,
        cause=e.cause,
        refund_id=e.refund_id,
        provider_codes=e.provider_codes,
        detail=e.detail,
        occurred_at=e.occurred_at,
    )


def payment_event_data(p: Payment) -> str:
    """The `data` of a payment's portal event, as JSON (gateway/webhooks/outbox.py)."""
    return payment_out(p).model_dump_json(exclude={"checkout_url"})


def refund_event_data(r: Refund) -> str:
    return refund_out(r).model_dump_json()
