"""Pure readers of what payOS sends: API answers and webhooks, believed only as far as signed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from adapters.http import strict_json
from adapters.payos import signing
from adapters.payos.codes import NOT_FOUND, STATUS_OUTCOMES, SUCCESS
from adapters.payos.config import PayOSConfig
from adapters.payos.wire import MAX_ORDER_CODE, parse_time, read_int
from contracts.errors import InvalidSignature, ProviderRejected, ProviderUnavailable
from contracts.providers import Checkout, ProviderOutcome, ProviderResult

PROVIDER = "payos"
MAX_WEBHOOK_BYTES = 16_384
# What every payment webhook's data carries (payos 1.1.0, types/webhooks: WebhookData's required
# fields). A payment request or a payment link answer signed with the same key lacks some of them.
WEBHOOK_FIELDS = (
    "orderCode",
    "amount",
    "description",
    "accountNumber",
    "reference",
    "transactionDateTime",
    "currency",
    "paymentLinkId",
    "code",
    "desc",
)


MAX_RETURN_QUERY_BYTES = 1024  # code, id (32 hex), cancel, status and orderCode: well under 200 bytes
MAX_RETURN_FIELDS = 8


def return_order_code(raw_query: str) -> str | None:
    """The orderCode of payOS's browser return (returnUrl/cancelUrl?code=..&id=..&cancel=..&status=..
    &orderCode=..), as a reference; None unless the query is short, names it once, as a decimal payOS
    could have made. Nothing else of the query is read: none of it is signed."""
    if len(raw_query) > MAX_RETURN_QUERY_BYTES:
        return None
    try:
        pairs = parse_qsl(raw_query, keep_blank_values=True, max_num_fields=MAX_RETURN_FIELDS)
    except ValueError:
        return None
    codes = [value for name, value in pairs if name == "orderCode"]
    if len(codes) != 1 or not codes[0].isascii() or not codes[0].isdigit() or len(codes[0]) > 16:
        return None
    number = int(codes[0])
    return str(number) if 1 <= number <= MAX_ORDER_CODE else None


def parse_webhook(config: PayOSConfig, body: bytes) -> ProviderResult:
    """Verify and read a payment webhook from its body exactly as received."""
    if len(body) > MAX_WEBHOOK_BYTES:
        raise InvalidSignature(PROVIDER, "webhook body too large")
    try:
        document = strict_json(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidSignature(PROVIDER, "webhook body is not strict JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise InvalidSignature(PROVIDER, "webhook has no data object")
    data: dict[str, Any] = document["data"]
    if not signing.data_is_signed(data, document.get("signature"), config.checksum_key):
        raise InvalidSignature(PROVIDER, "webhook signature does not match its data")
    missing = [name for name in WEBHOOK_FIELDS if name not in data]
    if missing:
        raise InvalidSignature(PROVIDER, f"signed data is not a payment webhook (no {', '.join(missing)})")
    # Signed yet unreadable: ValueError, which the gateway answers with a request to resend.
    reference = str(read_int(data["orderCode"], "orderCode", high=MAX_ORDER_CODE))
    amount = read_int(data["amount"], "amount")
    code = str(data["code"])
    paid = code == SUCCESS
    outcome = ProviderOutcome.SUCCEEDED if paid else ProviderOutcome.FAILED
    transaction_id = str(data["reference"]) if paid and data["reference"] else None
    return ProviderResult(
        reference=reference,
        outcome=outcome,
        amount=amount,
        transaction_id=transaction_id[:64] if transaction_id else None,
        paid_at=parse_time(data["transactionDateTime"]) if paid else None,
        message=str(data["desc"])[:255],
        codes={"code": code[:16], "paymentLinkId": str(data["paymentLinkId"])[:64]},
    )


def signed_data(config: PayOSConfig, answer: Mapping[str, Any]) -> dict[str, Any] | None:
    """The `data` of a successful answer once its signature is checked; None when payOS refused."""
    code = answer.get("code")
    if code != SUCCESS:
        return None
    data = answer.get("data")
    if not isinstance(data, dict):
        raise ProviderUnavailable(PROVIDER, "answer has no data object")
    if not signing.data_is_signed(data, answer.get("signature"), config.checksum_key):
        raise InvalidSignature(PROVIDER, "answer signature does not match its data")
    return data


def _refused(answer: Mapping[str, Any]) -> ProviderRejected:
    code = str(answer.get("code", ""))[:16]
    return ProviderRejected(
        PROVIDER, f"payOS answered code {code}: {str(answer.get('desc', ''))[:200]}", codes={"code": code}
    )


def parse_create_answer(config: PayOSConfig, answer: Mapping[str, Any], order_code: int, amount: int) -> Checkout:
    data = signed_data(config, answer)
    if data is None:
        raise _refused(answer)
    if data.get("orderCode") != order_code or data.get("amount") != amount:
        raise ProviderRejected(PROVIDER, "payment link is not for the order sent")
    url, qr_code, link_id = data.get("checkoutUrl"), data.get("qrCode"), data.get("paymentLinkId")
    if not all(isinstance(v, str) and v for v in (url, qr_code, link_id)):
        raise ProviderUnavailable(PROVIDER, "payment link answer lacks checkoutUrl, qrCode or paymentLinkId")
    assert isinstance(url, str) and isinstance(qr_code, str) and isinstance(link_id, str)
    if not url.startswith(("https://", "http://")) or len(link_id) > 64 or len(qr_code) > 512:
        raise ProviderUnavailable(PROVIDER, "payment link answer is malformed")
    return Checkout(url=url, qr_code=qr_code, provider_order_id=link_id)


def parse_payment_link(config: PayOSConfig, answer: Mapping[str, Any], reference: str) -> ProviderResult:
    """A payment link's state (GET /v2/payment-requests/{id} and its cancel)."""
    data = signed_data(config, answer)
    if data is None:
        if answer.get("code") == NOT_FOUND:
            return ProviderResult(reference=reference, outcome=ProviderOutcome.NOT_FOUND, codes={"code": NOT_FOUND})
        raise _refused(answer)
    if str(data.get("orderCode")) != reference:
        raise InvalidSignature(PROVIDER, "payment link is not the one asked for")
    status = data.get("status")
    if status not in STATUS_OUTCOMES:
        raise ProviderUnavailable(PROVIDER, f"unknown payment link status {str(status)[:32]!r}")
    outcome = STATUS_OUTCOMES[status]
    amount = read_int(data.get("amount"), "amount")
    transactions = data.get("transactions")
    if not isinstance(transactions, list):
        raise ProviderUnavailable(PROVIDER, "payment link answer has no transactions list")
    last = transactions[-1] if transactions and isinstance(transactions[-1], dict) else None
    paid = outcome is ProviderOutcome.SUCCEEDED
    return ProviderResult(
        reference=reference,
        outcome=outcome,
        amount=amount,
        transaction_id=str(last["reference"])[:64] if paid and last and last.get("reference") else None,
        paid_at=parse_time(last["transactionDateTime"]) if paid and last else None,
        message=str(data.get("cancellationReason") or "")[:255],
        codes={"status": str(status), "paymentLinkId": str(data.get("id", ""))[:64]},
    )
