"""Reading receipts: a payment's for its portal, and one by its token for the public verification page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.payments import PaymentStatus
from contracts.receipts import ReceiptKind, ReceiptStatus, ReceiptVerification
from gateway.db.models import Payment, Receipt
from gateway.errors import Conflict, NotFound
from gateway.receipts.document import ReceiptDocument, ReceiptLine, number_text, render_receipt
from gateway.receipts.issuing import verify_url


class ReceiptNotIssued(Conflict):
    type_slug = "receipt-not-issued"
    title = "The payment has no receipt: it has not succeeded"


async def receipts_of(session: AsyncSession, payment: Payment) -> list[Receipt]:
    """The payment's receipts, the original first; a payment that never succeeded has none (409)."""
    rows = list(
        await session.scalars(
            select(Receipt).where(Receipt.payment_id == payment.id).order_by(Receipt.issued_at, Receipt.number)
        )
    )
    if not rows:
        if payment.status != PaymentStatus.SUCCEEDED.value:
            raise ReceiptNotIssued(f"Payment is {payment.status}; a receipt is issued when it succeeds.")
        raise NotFound(f"No receipt for payment '{payment.id}'.")
    return sorted(rows, key=lambda r: r.kind != ReceiptKind.ORIGINAL.value)


async def receipt_pdf(
    session: AsyncSession, payment: Payment, receipt: Receipt, provider_name: str, base_url: str
) -> bytes:
    lines = [ReceiptLine(str(x["kind"]), str(x["description"]), int(x["amount"])) for x in payment.lines]
    adjustment_of = None
    if receipt.original_id is not None:
        original = await session.get_one(Receipt, receipt.original_id)
        adjustment_of = f"ký hiệu {original.series} số {number_text(original.number)}"
        description = f"Giảm do hoàn trả một phần số tiền đã nộp (hoàn tiền {receipt.refund_id})"
        lines = [ReceiptLine("fee", description, receipt.amount)]
    reference = payment.provider_ref
    if payment.provider_transaction_id:
        reference = f"{payment.provider_transaction_id} (mã đơn hàng {payment.provider_ref})"
    return render_receipt(
        ReceiptDocument(
            form=receipt.form,
            series=receipt.series,
            number=receipt.number,
            adjustment_of=adjustment_of,
            cancelled=receipt.status == ReceiptStatus.CANCELLED.value,
            agency_code=payment.agency_code,
            payer_name=payment.payer_name,
            dossier_code=payment.dossier_code,
            procedure_code=payment.procedure_code,
            lines=lines,
            amount=receipt.amount,
            issued_at=receipt.issued_at,
            provider=provider_name,
            provider_reference=reference,
            verify_url=verify_url(base_url, receipt.token),
        )
    )


async def verification(session: AsyncSession, token: str) -> ReceiptVerification:
    row = (
        await session.execute(
            select(Receipt, Payment.agency_code)
            .join(Payment, Payment.id == Receipt.payment_id)
            .where(Receipt.token == token)
        )
    ).first()
    if row is None:
        raise NotFound("No receipt has this verification code: it is not a receipt this gateway issued.")
    receipt, agency_code = row
    return ReceiptVerification(
        genuine=True,
        form=receipt.form,
        series=receipt.series,
        number=receipt.number,
        kind=ReceiptKind(receipt.kind),
        amount=receipt.amount,
        agency_code=agency_code,
        issued_at=receipt.issued_at,
        status=ReceiptStatus(receipt.status),
        cancelled_at=receipt.cancelled_at,
    )
