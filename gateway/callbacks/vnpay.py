"""VNPay's server-to-server IPN and the browser's return URL.

The IPN answer follows VNPay's merchant sample, checks in this order: checksum (97), order exists
(01), amount (04), order still open (02), then record (00); anything unexpected is 99. VNPay re-sends
an IPN until it gets 00 or 02, so 99 is also how we ask for another try after a transient failure.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import structlog
from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.response import Redirect
from sqlalchemy.orm.exc import StaleDataError

from adapters.vnpay.codes import IPN_ACK_MESSAGES
from adapters.vnpay.signing import parse_query
from contracts.errors import InvalidSignature
from contracts.payments import PaymentStatus
from gateway.db.models import ProviderNotification
from gateway.deps import provide_payment_service
from gateway.errors import NotFound
from gateway.logging import note, notes_undone_on_error
from gateway.payments import rows
from gateway.payments.service import PaymentRules, PaymentService, Recorded
from gateway.request_text import PROVIDER_PROTOCOL, storable

log = structlog.get_logger()
PROVIDER = "vnpay"


def _raw_query(request: Request[Any, Any, Any]) -> str:
    return bytes(request.scope.get("query_string", b"")).decode("utf-8", "replace")


def _ack(code: str) -> dict[str, str]:
    return {"RspCode": code, "Message": IPN_ACK_MESSAGES[code]}


async def handle_ipn(state: State, params: dict[str, str], raw: str) -> str:
    """Answer one IPN, and record it with what it changed, on the direct path (gateway/db/direct.py): the
    IPN is the request VNPay sends most, and the ORM was most of its cost. The payment is read first,
    outside any transaction; the writes commit together, the payment's only under the version read
    (StaleDataError otherwise, and nothing is written)."""
    provider = state.providers.get(PROVIDER)
    try:
        result = provider.parse_notification(params, raw)
    except InvalidSignature:
        result, code = None, "97"
    except (KeyError, ValueError):
        result, code = None, "99"
    async with state.db.transaction() as tx:
        payments = PaymentRules(tx, state.providers, state.settings, state.clock)
        if result is not None:
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
        kept = params if "%00" not in raw else storable(params)  # %00: the only way a NUL comes in
        tx.append(
            ProviderNotification,
            {
                "provider": PROVIDER,
                "reference": kept.get("vnp_TxnRef"),
                "payload": kept,
                "signature_valid": code != "97",
                "ack_code": code,
                "received_at": state.clock.now(),
            },
        )
    return code


class VNPayCallbackController(Controller):
    path = "/callbacks/vnpay"
    tags = ["provider callbacks"]
    include_in_schema = False
    dependencies = {"payments": Provide(provide_payment_service)}

    @get("/ipn", operation_id="vnpayIpn", opt={PROVIDER_PROTOCOL: True})
    async def ipn(self, request: Request[Any, Any, Any], state: State) -> dict[str, str]:
        raw = _raw_query(request)
        params = parse_query(raw)
        for attempt in range(2):
            try:
                with notes_undone_on_error():
                    code = await handle_ipn(state, params, raw)
                break
            except StaleDataError:
                # A duplicate IPN or a query updated the payment first (the transaction is rolled back);
                # read it again and answer from that.
                if attempt:
                    code = "99"
            except Exception:
                # VNPay understands only its own ack: anything unexpected is 99, and VNPay will retry.
                log.exception("vnpay_ipn_error", reference=params.get("vnp_TxnRef"))
                code = "99"
                break
        note(
            log,
            "vnpay_ipn",
            vnp_txn_ref=params.get("vnp_TxnRef"),
            rsp_code=code,
            vnp_response_code=params.get("vnp_ResponseCode"),
        )
        return _ack(code)

    @get("/return", operation_id="vnpayReturn")
    async def browser_return(
        self, request: Request[Any, Any, Any], payments: NamedDependency[PaymentService]
    ) -> Redirect:
        """Informational only: the IPN or a query decides. A signed return triggers an early query."""
        raw = _raw_query(request)
        params = parse_query(raw)
        payment = await payments.find_by_reference(PROVIDER, params.get("vnp_TxnRef", ""))
        if payment is None:
            raise NotFound("This return link does not belong to a payment of this gateway.")
        try:
            payments.providers.get(PROVIDER).parse_notification(params, raw)
        except (InvalidSignature, KeyError, ValueError):
            log.warning("vnpay_return_bad_signature", payment_id=payment.id)
        else:
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
