"""HTTP for receipts: the portal's PDFs of a payment's receipts, and the public verification page that a
receipt's QR code opens (HTML for a person, JSON for a program, by Accept)."""

from __future__ import annotations

import html
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.params import PathParameter

from contracts.receipts import ReceiptOut, ReceiptStatus, ReceiptVerification
from gateway.clock import VN_TZ
from gateway.db.models import Receipt
from gateway.db.request_session import READ_ONLY, request_session
from gateway.deps import PortalContext, provide_portal
from gateway.errors import DomainError, NotFound
from gateway.limits import source_address
from gateway.openapi import NO_NUL, PORTAL_KEY, problems
from gateway.receipts.document import number_text
from gateway.receipts.issuing import receipt_out
from gateway.receipts.service import receipt_pdf, receipts_of, verification
from gateway.receipts.words import vnd_in_figures

PaymentId = Annotated[str, PathParameter(pattern=NO_NUL)]
ReceiptId = Annotated[str, PathParameter(pattern=r"^rct_[a-z2-7]{1,36}$")]
# secrets.token_urlsafe(24): 32 characters of the URL-safe base64 alphabet.
Token = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
PDF = {200: ResponseSpec(data_container=bytes, media_type="application/pdf", description="The receipt as a PDF")}
STATUS_TEXT = {
    ReceiptStatus.ISSUED: "Đã phát hành",
    ReceiptStatus.ADJUSTED: "Đã điều chỉnh giảm",
    ReceiptStatus.CANCELLED: "Đã hủy",
}


def _pdf(content: bytes, receipt: Receipt) -> Response[bytes]:
    name = f"bien-lai-{receipt.series}-{number_text(receipt.number)}.pdf"
    return Response(
        content, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


class ReceiptController(Controller):
    path = "/v1/payments"
    tags = ["receipts"]
    dependencies = {"portal": Provide(provide_portal)}
    security = PORTAL_KEY

    async def _render(self, state: State, portal: PortalContext, receipt: Receipt) -> Response[bytes]:
        payment = await portal.payments.get(portal.caller, receipt.payment_id)
        try:
            provider = state.providers.get(payment.provider).display_name
        except DomainError:  # a provider no longer enabled still printed its name on its receipts
            provider = payment.provider
        pdf = await receipt_pdf(portal.session, payment, receipt, provider, state.settings.public_base_url)
        return _pdf(pdf, receipt)

    @get(
        "/{payment_id:str}/receipt",
        operation_id="getPaymentReceipt",
        opt=READ_ONLY,
        responses={**PDF, **problems(404, 409)},
        media_type="application/pdf",
    )
    async def receipt(
        self, state: State, portal: NamedDependency[PortalContext], payment_id: PaymentId
    ) -> Response[bytes]:
        """The payment's receipt (biên lai thu phí, lệ phí điện tử) as a PDF: 409 while it has not succeeded.
        A receipt cancelled by a full refund is still given, marked cancelled."""
        payment = await portal.payments.get(portal.caller, payment_id)
        return await self._render(state, portal, (await receipts_of(portal.session, payment))[0])

    @get("/{payment_id:str}/receipts", operation_id="listPaymentReceipts", opt=READ_ONLY, responses=problems(404, 409))
    async def receipts(
        self, state: State, portal: NamedDependency[PortalContext], payment_id: PaymentId
    ) -> list[ReceiptOut]:
        """The payment's receipts: its original, and an adjustment receipt for each partial refund."""
        payment = await portal.payments.get(portal.caller, payment_id)
        base = state.settings.public_base_url
        return [receipt_out(r, base) for r in await receipts_of(portal.session, payment)]

    @get(
        "/{payment_id:str}/receipts/{receipt_id:str}",
        operation_id="getPaymentReceiptById",
        opt=READ_ONLY,
        responses={**PDF, **problems(404, 409)},
        media_type="application/pdf",
    )
    async def receipt_by_id(
        self, state: State, portal: NamedDependency[PortalContext], payment_id: PaymentId, receipt_id: ReceiptId
    ) -> Response[bytes]:
        payment = await portal.payments.get(portal.caller, payment_id)
        found = [r for r in await receipts_of(portal.session, payment) if r.id == receipt_id]
        if not found:
            raise NotFound(f"Payment '{payment_id}' has no receipt '{receipt_id}'.")
        return await self._render(state, portal, found[0])


def _page(title: str, rows: list[tuple[str, str]], status_code: int) -> Response[str]:
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    body = (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"<table>{cells}</table></body></html>"
    )
    return Response(body, media_type=MediaType.HTML, status_code=status_code)


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    return request.accept.best_match([MediaType.JSON, MediaType.HTML], default=MediaType.JSON) == MediaType.HTML


class ReceiptVerifyController(Controller):
    """Public: anyone holding a receipt checks it is genuine. Shows what the receipt shows except the payer."""

    path = "/receipts/verify"
    tags = ["receipts"]

    @get(
        "/{token:str}",
        operation_id="verifyReceipt",
        opt=READ_ONLY,
        responses={
            **problems(404, 429, portal=False),
            200: ResponseSpec(data_container=ReceiptVerification, description="Genuine: the receipt as issued"),
        },
    )
    async def verify(self, request: Request[Any, Any, Any], state: State, token: Token) -> Response[Any]:
        """Whether a receipt is genuine, with its form, series, number, amount, agency, date and status (an
        HTML page when the browser asks for one, JSON otherwise)."""
        settings = state.settings
        address = source_address(request.scope, settings.trusted_proxies)
        await state.limiter.hit(
            f"receipt-verify:{address}",
            settings.rate_limit_receipt_verify_per_address,
            "Too many receipt verifications from this address.",
        )
        try:
            found = await verification(request_session(state, request.scope), token)
        except NotFound:
            if _wants_html(request):
                return _page("Không tìm thấy biên lai", [("Kết quả", "Biên lai không hợp lệ hoặc không tồn tại.")], 404)
            raise
        if not _wants_html(request):
            return Response(found.model_dump(mode="json"), media_type=MediaType.JSON)
        rows = [
            ("Kết quả", "Biên lai hợp lệ (do cổng thanh toán phát hành)"),
            ("Mẫu số", found.form),
            ("Ký hiệu", found.series),
            ("Số", number_text(found.number)),
            ("Số tiền", f"{vnd_in_figures(found.amount)} đồng"),
            ("Đơn vị thu", found.agency_code),
            ("Ngày lập", f"{found.issued_at.astimezone(VN_TZ):%d/%m/%Y %H:%M} (GMT+7)"),
            ("Trạng thái", STATUS_TEXT[found.status]),
        ]
        return _page("Kiểm tra biên lai điện tử", rows, 200)
