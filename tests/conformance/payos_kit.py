"""payOS's side of the conformance suite, signed and read with the kit's own code (and, for the published
recipe, with payOS's own SDK). The adapter's signing code is called only by adapter_signature and
adapter_signed_text, to hold it to the vectors.

payOS sends a webhook only for a paid link, so the suite's pending and under-review notifications do not
exist for it; it has no refund API, so the refund rows are empty and those tests skip.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
import respx
from payos._crypto import CryptoProvider

from adapters.payos import signing
from adapters.payos.config import PayOSConfig
from adapters.payos.provider import PayOSProvider
from contracts.errors import ProviderRejected, ProviderUnavailable
from contracts.providers import Checkout, Inbound, PaymentProvider, ProviderOutcome, Verdict
from tests.conformance.kit import AMOUNT, ORDER, REFERENCE, ExpectedAck, OutcomeCase, SignatureVector, Variant

CLIENT_ID = "conformance-client-id"
API_KEY = "conformance-api-key"
CHECKSUM_KEY = "c0nf0rmancec0nf0rmancec0nf0rmancec0nf0rmancec0nf0rmancec0nf0rman"
OTHER_KEY = "another merchant's checksum key"
API_URL = "https://api-merchant.payos.vn"
LINK_ID = "124c33293c43417ab7879e14c8d9eb18"
AMOUNT_SLOT = "__AMOUNT__"


def _text(value: object) -> str:
    """A value as payOS writes it in the signed text: null as nothing, everything else as itself."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, list):
        return json.dumps([dict(sorted(v.items())) for v in value], separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _sign(data: Mapping[str, Any], key: str = CHECKSUM_KEY) -> str:
    text = "&".join(f"{k}={_text(data[k])}" for k in sorted(data))
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def _webhook_data(**changes: Any) -> dict[str, Any]:
    # As payOS documents a webhook's data: every field present, the counter-account ones often null or "".
    return {
        "orderCode": int(REFERENCE),
        "amount": AMOUNT,
        "description": "CSW5ZRX3 LE PHI HS0001",
        "accountNumber": "113366668888",
        "reference": "FT26327123456789",
        "transactionDateTime": "2026-11-23 17:01:12",
        "currency": "VND",
        "paymentLinkId": LINK_ID,
        "code": "00",
        "desc": "Thành công",
        "counterAccountBankId": "",
        "counterAccountBankName": "",
        "counterAccountName": None,
        "counterAccountNumber": None,
        "virtualAccountName": "",
        "virtualAccountNumber": "",
        **changes,
    }


def _envelope(data: Mapping[str, Any], signature: str | None = None) -> dict[str, Any]:
    return {"code": "00", "desc": "success", "success": True, "data": data, "signature": signature or _sign(data)}


def _post(body: bytes) -> Inbound:
    return Inbound(method="POST", query="", headers={"content-type": "application/json"}, body=body)


def _ack(code: str, status: int, desc: str, *, resent: bool) -> ExpectedAck:
    return ExpectedAck(code, status, "application/json", {"code": code, "desc": desc}, resent)


class _CreateAnswers(httpx.AsyncBaseTransport):
    """payOS's create answer for the checkout tests (their respx mock routes nothing); every other call goes
    on to the network layer, which respx stands in for."""

    def __init__(self, kit: PayOSKit) -> None:
        self.kit = kit
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v2/payment-requests":
            await request.aread()
            self.kit.sent.append(request)
            body = json.loads(request.content)
            data = {
                "bin": "970415",
                "accountNumber": "113366668888",
                "accountName": "DVC GATEWAY",
                "amount": body["amount"],
                "description": body["description"],
                "orderCode": body["orderCode"],
                "currency": "VND",
                "paymentLinkId": LINK_ID,
                "status": "PENDING",
                "expiredAt": body.get("expiredAt"),
                "checkoutUrl": f"https://pay.payos.vn/web/{LINK_ID}",
                "qrCode": "000201010212",
            }
            return httpx.Response(200, json={"code": "00", "desc": "success", "data": data, "signature": _sign(data)})
        return await self.inner.handle_async_request(request)


class PayOSKit:
    name = "payos"

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def provider(self) -> PaymentProvider:
        config = PayOSConfig(client_id=CLIENT_ID, api_key=API_KEY, checksum_key=CHECKSUM_KEY, api_url=API_URL)
        return PayOSProvider(config, transport=_CreateAnswers(self))

    # Notifications

    def genuine(self, outcome: ProviderOutcome, **changes: str) -> Inbound:
        if outcome is ProviderOutcome.SUCCEEDED:
            data = _webhook_data(**changes)
        elif outcome is ProviderOutcome.FAILED:
            data = _webhook_data(code="01", desc="Giao dịch thất bại", reference="", **changes)
        else:
            pytest.skip(f"payOS sends a webhook only when a link is paid or its payment fails, never a {outcome} one")
        return _post(json.dumps(_envelope(data), ensure_ascii=False).encode())

    def notification(self, codes: Mapping[str, str], wire_amount: str | None = None) -> Inbound:
        data = _webhook_data(**codes)
        if wire_amount is None:
            return _post(json.dumps(_envelope(data)).encode())
        # The amount goes on the wire verbatim; it is signed as a receiver parses it.
        data["amount"] = json.loads(wire_amount)
        body = json.dumps(_envelope({**data, "amount": AMOUNT_SLOT}, _sign(data)))
        return _post(body.replace(json.dumps(AMOUNT_SLOT), wire_amount).encode())

    def forgeries(self, genuine: Inbound) -> list[Variant]:
        document = json.loads(genuine.body)
        data = document["data"]
        failed = json.loads(self.genuine(ProviderOutcome.FAILED).body)
        paid_data = json.dumps(_webhook_data())[1:-1]
        failed_text = json.dumps(failed)
        tricks: dict[str, object] = {
            "a signed field changed": {**document, "data": {**data, "amount": 100}},
            "the outcome changed": {**failed, "data": {**failed["data"], "code": "00"}},
            "an unsigned field added to data": {**document, "data": {**data, "extra": "1"}},
            "a null field dropped from data": {
                **document,
                "data": {k: v for k, v in data.items() if k != "counterAccountName"},
            },
            "no signature": {k: v for k, v in document.items() if k != "signature"},
            "an empty signature": {**document, "signature": ""},
            "a signature of another key": {**document, "signature": _sign(data, OTHER_KEY)},
            "a signature that is not a string": {**document, "signature": 0},
            "data as a string": {**document, "data": json.dumps(data)},
            "data as a list": {**document, "data": [data]},
            "no data": {k: v for k, v in document.items() if k != "data"},
            "a nested object in data": {
                **document,
                "data": {**data, "reference": {"a": 1}},
                "signature": _sign({**data, "reference": {"a": 1}}),
            },
        }
        raw: dict[str, bytes] = {
            "data sent twice, the second paid": failed_text[:-1].encode() + b', "data": {' + paid_data.encode() + b"}}",
            "a field of data sent twice": failed_text.replace('"code": "01"', '"code": "01", "code": "00"').encode(),
            "not UTF-8": genuine.body.replace("Thành".encode(), "Thành".encode("utf-16")),
            "not JSON": b"code=00&" + genuine.body,
            "NaN as an amount": genuine.body.replace(f'"amount": {AMOUNT}'.encode(), b'"amount": NaN'),
            "empty": b"",
            "too large": genuine.body[:-1] + b', "padding": "' + b"x" * 20_000 + b'"}',
        }
        variants = [Variant(name, _post(json.dumps(body).encode())) for name, body in tricks.items()]
        return variants + [Variant(name, _post(body)) for name, body in raw.items()]

    def re_encodings(self, genuine: Inbound) -> list[Variant]:
        document = json.loads(genuine.body)
        reordered = {k: document[k] for k in reversed(list(document))}
        reordered["data"] = {k: document["data"][k] for k in reversed(list(document["data"]))}
        return [
            Variant("keys in another order", _post(json.dumps(reordered).encode())),
            Variant("escaped non-ASCII", _post(json.dumps(document, ensure_ascii=True).encode())),
            Variant("indented", _post(json.dumps(document, indent=2, ensure_ascii=False).encode())),
            Variant("without the unsigned success flag", _post(json.dumps({**document, "success": None}).encode())),
        ]

    def checkout_as_notification(self, provider: PaymentProvider) -> list[Variant]:
        asyncio.run(provider.create_checkout(ORDER))
        request = self.sent[-1]
        body = json.loads(request.content)
        signature = body.pop("signature")
        five = {k: body[k] for k in signing.PAYMENT_REQUEST_FIELDS}
        return [
            Variant("the request signed", _post(json.dumps(_envelope(five, signature)).encode())),
            Variant("the whole request", _post(json.dumps(_envelope(body, signature)).encode())),
        ]

    # Published vectors

    def signature_vectors(self) -> list[SignatureVector]:
        sdk = CryptoProvider()
        request = {
            "orderCode": 123,
            "amount": 2000,
            "description": "VQRIO123",
            "cancelUrl": "https://your-cancel-url.com",
            "returnUrl": "https://your-success-url.com",
        }
        request_signature = sdk.create_signature_of_payment_request(request, CHECKSUM_KEY)
        webhook = _webhook_data()
        link = {
            "id": LINK_ID,
            "orderCode": 123,
            "amount": 2000,
            "status": "PAID",
            "transactions": [{"reference": "FT1", "amount": 2000, "accountNumber": "113366668888"}],
            "canceledAt": None,
        }
        return [
            SignatureVector(
                "payment request (payOS's documented example)",
                "payment-request",
                request,
                CHECKSUM_KEY,
                str(request_signature),
                "amount=2000&cancelUrl=https://your-cancel-url.com&description=VQRIO123&orderCode=123"
                "&returnUrl=https://your-success-url.com",
            ),
            SignatureVector(
                "webhook data with null and empty fields (payOS's SDK)",
                "data",
                webhook,
                CHECKSUM_KEY,
                str(sdk.create_signature_from_object(webhook, CHECKSUM_KEY)),
            ),
            SignatureVector(
                "payment link with a list and a null (payOS's SDK)",
                "data",
                link,
                CHECKSUM_KEY,
                str(sdk.create_signature_from_object(link, CHECKSUM_KEY)),
                'amount=2000&canceledAt=&id=124c33293c43417ab7879e14c8d9eb18&orderCode=123&status=PAID&transactions=[{"accountNumber":"113366668888","amount":2000,"reference":"FT1"}]',
            ),
        ]

    def adapter_signature(self, vector: SignatureVector) -> str:
        if vector.kind == "payment-request":
            return signing.sign_payment_request(vector.message, vector.secret)
        return signing.sign_data(vector.message, vector.secret)

    def adapter_signed_text(self, vector: SignatureVector) -> str:
        if vector.kind == "payment-request":
            return signing.payment_request_text(vector.message)
        return signing.data_text(vector.message)

    def request_is_signed(self, request: httpx.Request) -> bool:
        # payOS authenticates a query by the merchant's client id and API key; a command's body is signed too.
        headers = request.headers.get("x-client-id") == CLIENT_ID and request.headers.get("x-api-key") == API_KEY
        if request.method == "GET":
            return headers
        body = json.loads(request.content)
        signature = body.pop("signature", None)
        return headers and signature == _sign(body)

    # Acknowledgements and code tables

    acknowledgements = {
        Verdict.RECORDED: _ack("00", 200, "recorded", resent=False),
        Verdict.ALREADY_FINAL: _ack("02", 200, "already recorded", resent=False),
        Verdict.UNKNOWN_ORDER: _ack("01", 200, "order not found", resent=False),
        Verdict.AMOUNT_MISMATCH: _ack("04", 200, "amount does not match the order", resent=False),
        Verdict.INVALID_SIGNATURE: _ack("97", 200, "invalid signature", resent=False),
        Verdict.RETRY: _ack("99", 500, "not recorded, send again", resent=True),
    }
    notification_outcomes = [
        OutcomeCase("paid", {"code": "00"}, ProviderOutcome.SUCCEEDED),
        OutcomeCase("not paid", {"code": "01"}, ProviderOutcome.FAILED),
    ]
    query_outcomes = [
        OutcomeCase("PAID", {"status": "PAID"}, ProviderOutcome.SUCCEEDED),
        OutcomeCase("PENDING", {"status": "PENDING"}, ProviderOutcome.PENDING),
        OutcomeCase("PROCESSING", {"status": "PROCESSING"}, ProviderOutcome.PENDING),
        OutcomeCase("UNDERPAID", {"status": "UNDERPAID"}, ProviderOutcome.PENDING),
        OutcomeCase("CANCELLED", {"status": "CANCELLED"}, ProviderOutcome.FAILED),
        OutcomeCase("EXPIRED", {"status": "EXPIRED"}, ProviderOutcome.FAILED),
        OutcomeCase("FAILED", {"status": "FAILED"}, ProviderOutcome.FAILED),
        OutcomeCase("no such link", {"code": "101"}, ProviderOutcome.NOT_FOUND),
        OutcomeCase("invalid request", {"code": "20"}, ProviderRejected),
        OutcomeCase("a status payOS never documented", {"status": "REFUNDED"}, ProviderUnavailable),
    ]
    refund_outcomes: list[OutcomeCase] = []
    refund_query_outcomes: list[OutcomeCase] = []

    # The provider's API, mocked

    def query_route(self, router: respx.MockRouter) -> respx.Route:
        return router.get(f"{API_URL}/v2/payment-requests/{REFERENCE}")

    def refund_route(self, router: respx.MockRouter) -> respx.Route:
        return router.post(f"{API_URL}/v2/refunds")  # payOS has none: nothing is ever sent here

    def query_answer(self, codes: Mapping[str, str], wire_amount: str | None = None) -> httpx.Response:
        code = codes.get("code", "00")
        if code != "00":
            return httpx.Response(200, json={"code": code, "desc": "refused", "data": None})
        status = codes.get("status", "PAID")
        paid = status == "PAID"
        data: dict[str, Any] = {
            "id": LINK_ID,
            "orderCode": int(REFERENCE),
            "amount": AMOUNT_SLOT,
            "amountPaid": AMOUNT if paid else 0,
            "amountRemaining": 0 if paid else AMOUNT,
            "status": status,
            "createdAt": "2026-11-23T17:00:00+07:00",
            "transactions": [
                {
                    "reference": "FT26327123456789",
                    "amount": AMOUNT,
                    "accountNumber": "113366668888",
                    "description": "CSW5ZRX3 LE PHI HS0001",
                    "transactionDateTime": "2026-11-23T17:01:12+07:00",
                    "virtualAccountName": None,
                    "virtualAccountNumber": None,
                    "counterAccountBankId": None,
                    "counterAccountBankName": None,
                    "counterAccountName": None,
                    "counterAccountNumber": None,
                }
            ]
            if paid
            else [],
            "canceledAt": None,
            "cancellationReason": None,
        }
        amount_text = wire_amount if wire_amount is not None else str(AMOUNT)
        signed = {**data, "amount": json.loads(amount_text)}
        body = json.dumps({"code": "00", "desc": "success", "data": data, "signature": _sign(signed)})
        content = body.replace(json.dumps(AMOUNT_SLOT), amount_text).encode()
        return httpx.Response(200, content=content, headers={"content-type": "application/json"})

    def refund_answer(self, codes: Mapping[str, str]) -> httpx.Response:
        return httpx.Response(404, json={"code": "404", "desc": "payOS has no refund API"})

    # Amounts

    def wire_amount(self, vnd: int) -> str:
        return str(vnd)

    def malformed_wire_amounts(self) -> dict[str, str]:
        return {
            "a fraction": "35000.5",
            "a whole number written as a fraction": "35000.0",
            "an exponent": "3.5e4",
            "a string": '"35000"',
            "negative": "-35000",
            "zero": "0",
            "a boolean": "true",
            "null": "null",
            "beyond any VietQR amount": "99999999999999999999",
        }

    largest_amount = 9_999_999_999_999

    def checkout_wire_amount(self, checkout: Checkout) -> str:
        sent = json.loads(self.sent[-1].content, parse_int=str)
        return str(sent["amount"])

    def sent_wire_amount(self, request: httpx.Request) -> str:
        raise AssertionError("payOS has no refund API: the adapter sends no refund")

    # Retries

    query_attempts = 3
    refund_attempts_unreached = 0
