"""VNPay's server-to-server IPN and the browser's return URL.

The IPN answer follows VNPay's merchant sample, checks in this order: checksum (97), order exists
(01), amount (04), order still open (02), then record (00); anything unexpected is 99. VNPay re-sends
an IPN until it gets 00 or 02, so 99 is also how we ask for another try after a transient failure.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import structlog
from litestar import Controller, MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.response import Redirect
from sqlalchemy.orm.exc import StaleDataError

from adapters.vnpay.codes import IPN_ACK_MESSAGES
from adapters.vnpay.signing import parse_query
from contracts.errors import InvalidSignature
from contracts.payments import PaymentStatus
from contracts.providers import Inbound, ProviderResult
from gateway.callbacks.rejections import record_rejection
from gateway.db.models import ProviderNotification
from gateway.deps import provide_payment_service
from gateway.logging import note, notes_undone_on_error
from gateway.payments import rows
from gateway.payments.service import PaymentRules, PaymentService, Recorded
from gateway.request_text import PROVIDER_PROTOCOL, storable

log = structlog.get_logger()
PROVIDER = "vnpay"


def inbound_of(request: Request[Any, Any, Any]) -> Inbound:
    raw = bytes(request.scope.get("query_string", b"")).decode("utf-8", "replace")
    return Inbound(method=request.method, query=raw)


def _ack(code: str) -> dict[str, str]:
    return {"RspCode": code, "Message": IPN_ACK_MESSAGES[code]}


async def handle_ipn(state: State, inbound: Inbound) -> str:
    """Answer one IPN, and record it with what it changed, on the direct path (gateway/db/direct.py). The
    payment is read first, outside any transaction; the writes commit together, the payment's only under
    the version read (StaleDataError otherwise, and nothing is written).

    Only what the signature covers is used (the adapter's ProviderResult). A notification that fails
    verification is counted and sampled (gateway/callbacks/rejections.py), never acted on.
    """
    provider = state.providers.get(PROVIDER)
    params = parse_query(inbound.query)
    result: ProviderResult | None = None
    try:
        result = provider.parse_notification(inbound)
    except InvalidSignature as exc:
        log.warning("vnpay_ipn_refused", reason=exc.message)
        code = "97"
    except ValueError:
        code = "99"  # signed by VNPay, yet a value we cannot read: kept whole below, and VNPay will retry
    async with state.db.transaction() as tx:
        if result is None and code == "97":
            await record_rejection(tx, PROVIDER, params, code, params.get("vnp_TxnRef"), state.clock.now())
            return code
        if result is not None:
            payments = PaymentRules(tx, state.providers, state.settings, state.clock)
            loaded = await rows.by_reference(tx, PROVIDER, result.reference)
            if loaded is None:
                code = "01"
            elif result.amount != loaded.payment.amount:
                code = "04"
            else:
                recorded = payments.record(loaded.payment, result, "ipn")
                if recorded is Recorded.UNCHANGED:
                    payments.schedule_query(loaded.payment, soon=True)
                rows.save(tx, loaded)
                code = "02" if recorded is Recorded.ALREADY_FINAL else "00"
        kept = params if "%00" not in inbound.query else storable(params)  # %00: the only way a NUL comes in
        tx.append(
            ProviderNotification,
            {
                "provider": PROVIDER,
                "reference": result.reference if result is not None else None,
                "payload": kept,
                "signature_valid": True,
                "ack_code": code,
                "received_at": state.clock.now(),
            },
        )
    return code


# An unsigned, forged or unknown return says nothing about any payment, and shows nothing of one.
_NEUTRAL_RETURN = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kết quả thanh toán</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem">
<h1>Chưa xác nhận được kết quả thanh toán</h1>
<p>Đường dẫn này không mang kết quả thanh toán hợp lệ. Vui lòng xem trạng thái hồ sơ trên cổng dịch vụ công.</p>
<p lang="en">This link does not carry a valid payment result. Please check your dossier on the public-service
portal.</p>
</body></html>
"""


class VNPayCallbackController(Controller):
    path = "/callbacks/vnpay"
    tags = ["provider callbacks"]
    include_in_schema = False
    dependencies = {"payments": Provide(provide_payment_service)}

    @get("/ipn", operation_id="vnpayIpn", opt={PROVIDER_PROTOCOL: True})
    async def ipn(self, request: Request[Any, Any, Any], state: State) -> dict[str, str]:
        inbound = inbound_of(request)
        for attempt in range(2):
            try:
                with notes_undone_on_error():
                    code = await handle_ipn(state, inbound)
                break
            except StaleDataError:
                # A duplicate IPN or a query updated the payment first (the transaction is rolled back);
                # read it again and answer from that.
                if attempt:
                    code = "99"
            except Exception:
                # VNPay understands only its own ack: anything unexpected is 99, and VNPay will retry.
                log.exception("vnpay_ipn_error")
                code = "99"
                break
        params = parse_query(inbound.query)
        note(
            log,
            "vnpay_ipn",
            vnp_txn_ref=params.get("vnp_TxnRef", "")[:64],
            rsp_code=code,
            vnp_response_code=params.get("vnp_ResponseCode", "")[:8],
        )
        return _ack(code)

    @get("/return", operation_id="vnpayReturn", media_type=MediaType.HTML)
    async def browser_return(
        self, request: Request[Any, Any, Any], payments: NamedDependency[PaymentService]
    ) -> Redirect | Response[str]:
        """Informational only: the IPN or a query decides. A signed return triggers an early query."""
        try:
            result = payments.providers.get(PROVIDER).parse_notification(inbound_of(request))
        except (InvalidSignature, ValueError) as exc:
            log.warning("vnpay_return_refused", reason=getattr(exc, "message", type(exc).__name__))
            return Response(_NEUTRAL_RETURN, status_code=400, media_type=MediaType.HTML)
        payment = await payments.find_by_reference(PROVIDER, result.reference)
        if payment is None:
            return Response(_NEUTRAL_RETURN, status_code=404, media_type=MediaType.HTML)
        if payment.status == PaymentStatus.PENDING.value:
            # The citizen has finished on VNPay's page: the outcome exists, we just do not know it yet.
            payments.transition(payment, PaymentStatus.PROCESSING, "return", detail="citizen returned from VNPay")
        payments.schedule_query(payment, soon=True)
        await payments.session.commit()
        return Redirect(_with_query(payment.return_url, payment_id=payment.id, status=payment.status))


def _with_query(url: str, **extra: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *extra.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))
