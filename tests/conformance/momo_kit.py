"""MoMo's side of the conformance suite (payments.md §2.2), signed and read with the kit's own code. The
adapter's signing code is called only by adapter_signature and adapter_signed_text, to hold it to the
published vectors.

MoMo's checkout is an API call: the kit's provider sends it through a transport that answers it as MoMo
does (and records it), and sends every other call on to httpx's own transport, which respx mocks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import httpx
import respx

from adapters.momo import signing
from adapters.momo.config import MoMoConfig
from adapters.momo.provider import MoMoProvider
from contracts.errors import ProviderRejected, ProviderUnavailable
from contracts.providers import Checkout, Inbound, PaymentProvider, ProviderOutcome, Verdict
from tests.conformance.kit import (
    AMOUNT,
    ORDER,
    REFERENCE,
    REFUND,
    TRANSACTION_ID,
    ExpectedAck,
    OutcomeCase,
    SignatureVector,
    Variant,
)

QUERY_REQUEST_ID = "q-0001"
PARTNER_CODE = "MOMOCONF0001"
ACCESS_KEY = "CONFACCESSKEY"
SECRET = "CONFORMANCESECRETMOMO00000000001"
HOST = "https://test-payment.momo.vn"
IPN_ORDER = (
    "accessKey={accessKey}&amount={amount}&extraData={extraData}&message={message}&orderId={orderId}"
    "&orderInfo={orderInfo}&orderType={orderType}&partnerCode={partnerCode}&payType={payType}"
    "&requestId={requestId}&responseTime={responseTime}&resultCode={resultCode}&transId={transId}"
)
CREATE_ORDER = (
    "accessKey={accessKey}&amount={amount}&extraData={extraData}&ipnUrl={ipnUrl}&orderId={orderId}"
    "&orderInfo={orderInfo}&partnerCode={partnerCode}&redirectUrl={redirectUrl}&requestId={requestId}"
    "&requestType={requestType}"
)
QUERY_ORDER = "accessKey={accessKey}&orderId={orderId}&partnerCode={partnerCode}&requestId={requestId}"
REFUND_ORDER = (
    "accessKey={accessKey}&amount={amount}&description={description}&orderId={orderId}"
    "&partnerCode={partnerCode}&requestId={requestId}&transId={transId}"
)
ORDERS = {"create": CREATE_ORDER, "notification": IPN_ORDER, "query": QUERY_ORDER, "refund": REFUND_ORDER}
ADAPTER_FIELDS = {
    "create": signing.CREATE_REQUEST_FIELDS,
    "notification": signing.NOTIFICATION_FIELDS,
    "query": signing.QUERY_REQUEST_FIELDS,
    "refund": signing.REFUND_REQUEST_FIELDS,
}


def _hmac(text: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def _raw(order: str, values: Mapping[str, object]) -> str:
    # A field left out is signed as nothing, as MoMo's samples concatenate an unset variable.
    return order.format_map(_Blank({k: "" if v is None else v for k, v in values.items()}))


class _Blank(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return ""


def _json_text(value: object) -> str:
    """A value as MoMo writes it in JSON: numbers bare, text quoted."""
    return value if isinstance(value, _Bare) else json.dumps(value, ensure_ascii=False)


class _Bare(str):
    """Text written into the JSON as it is (a number, or a malformed one)."""


def _signed_value(value: object) -> str:
    """What a signer signs for a value: text as it is, anything else as the JSON it writes."""
    if isinstance(value, _Bare) and value.startswith('"'):
        return str(json.loads(value))
    return str(value)


def _ipn(fields: Mapping[str, object], signature: str | None = None, extra: str = "") -> bytes:
    """An IPN body written by hand, so that numbers keep the exact text that was signed."""
    values = {k: _signed_value(v) for k, v in fields.items()}
    sig = signature if signature is not None else _hmac(_raw(IPN_ORDER, {"accessKey": ACCESS_KEY, **values}))
    members = [f'"{k}":{_json_text(v)}' for k, v in fields.items()] + [f'"signature":"{sig}"']
    return ("{" + ",".join(members) + extra + "}").encode()


def _post(body: bytes) -> Inbound:
    return Inbound(method="POST", query="", headers={"content-type": "application/json"}, body=body)


def _codes(result_code: int) -> dict[str, str]:
    return {"resultCode": str(result_code)}


def _refund_row(row_code: int, order_id: str = REFUND.request_id) -> dict[str, str]:
    return {"resultCode": "0", "refund.resultCode": str(row_code), "refund.orderId": order_id}


class _CheckoutDesk(httpx.AsyncBaseTransport):
    """MoMo's create endpoint as the kit's provider meets it; everything else goes to httpx's transport."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.created: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v2/gateway/api/create":
            return await self.inner.handle_async_request(request)
        await request.aread()
        self.created.append(request.content)
        sent = json.loads(request.content)
        token = hashlib.sha256(request.content).hexdigest()[:24]
        return httpx.Response(
            200,
            json={
                "partnerCode": sent["partnerCode"],
                "orderId": sent["orderId"],
                "requestId": sent["requestId"],
                "amount": sent["amount"],
                "responseTime": 1795924800000,
                "message": "Thành công.",
                "resultCode": 0,
                "payUrl": f"{HOST}/v2/gateway/pay?t={token}",
                "deeplink": f"momo://app?action=payWithApp&isScanQR=false&t={token}",
                "qrCodeUrl": f"momo://app?action=payWithApp&isScanQR=true&t={token}",
            },
        )


class MoMoKit:
    name = "momo"

    def __init__(self) -> None:
        self.desk = _CheckoutDesk()

    def provider(self) -> PaymentProvider:
        config = MoMoConfig(partner_code=PARTNER_CODE, access_key=ACCESS_KEY, secret_key=SECRET, api_url=HOST)
        # A query's requestId is fresh each time; the answers below echo this one.
        return MoMoProvider(config, transport=self.desk, request_ids=lambda: QUERY_REQUEST_ID)

    # Notifications: a POST of JSON; amount, resultCode, transId and responseTime are JSON numbers.

    def fields(self, outcome: ProviderOutcome, **changes: object) -> dict[str, object]:
        code = {
            ProviderOutcome.SUCCEEDED: 0,
            ProviderOutcome.FAILED: 1006,
            ProviderOutcome.UNDER_REVIEW: 9000,
            ProviderOutcome.PENDING: 7000,
        }[outcome]
        fields: dict[str, object] = {
            "partnerCode": PARTNER_CODE,
            "orderId": REFERENCE,
            "requestId": REFERENCE,
            "amount": _Bare(str(AMOUNT)),
            "orderInfo": 'Lệ phí hồ sơ 000.00.12.H29 & "bản sao" =1',
            "orderType": "momo_wallet",
            "transId": _Bare(TRANSACTION_ID),
            "resultCode": _Bare(str(code)),
            "message": "Thành công." if code == 0 else "Giao dịch thất bại",
            "payType": "qr",
            "responseTime": _Bare("1795924872000"),
            "extraData": "",
        }
        fields.update(changes)
        return fields

    def genuine(self, outcome: ProviderOutcome, **changes: str) -> Inbound:
        return _post(_ipn(self.fields(outcome, **changes)))

    def notification(self, codes: Mapping[str, str], wire_amount: str | None = None) -> Inbound:
        changes: dict[str, object] = {"resultCode": _Bare(codes["resultCode"])}
        if wire_amount is not None:
            changes["amount"] = _Bare(wire_amount)
        return _post(_ipn(self.fields(ProviderOutcome.SUCCEEDED, **changes)))

    def forgeries(self, genuine: Inbound) -> list[Variant]:
        body = genuine.body.decode()
        paid = self.fields(ProviderOutcome.SUCCEEDED)
        failed_body = _ipn(self.fields(ProviderOutcome.FAILED)).decode()
        signature = json.loads(body)["signature"]
        unsigned = {k: v for k, v in paid.items()}
        tricks: dict[str, bytes] = {
            "a signed field changed": body.replace(f'"amount":{AMOUNT}', '"amount":100').encode(),
            "the outcome changed": failed_body.replace('"resultCode":1006', '"resultCode":0').encode(),
            "a key sent twice, the later one believed by many parsers": failed_body.replace(
                '"resultCode":1006', '"resultCode":1006,"resultCode":0'
            ).encode(),
            "a key sent twice, once escaped": failed_body.replace(
                '"resultCode":1006', '"resultCode":1006,"result\\u0043ode":0'
            ).encode(),
            "another merchant's, signed": _ipn(self.fields(ProviderOutcome.SUCCEEDED, partnerCode="OTHERPARTNER")),
            "another accessKey named": _ipn(paid, extra=',"accessKey":"OTHERACCESSKEY"'),
            "no signature": body.replace(f',"signature":"{signature}"', "").encode(),
            "an empty signature": body.replace(signature, "").encode(),
            "a signature of another secret": body.replace(signature, _hmac("x", "another secret")).encode(),
            "a signed field left out": _ipn({k: v for k, v in unsigned.items() if k != "payType"}),
            "a signed field as null": body.replace('"payType":"qr"', '"payType":null').encode(),
            "a signed field as an object": body.replace('"extraData":""', '"extraData":{}').encode(),
            "a signed field as true": body.replace('"payType":"qr"', '"payType":true').encode(),
            "a number as NaN": body.replace(f'"amount":{AMOUNT}', '"amount":NaN').encode(),
            "not JSON": body[:-1].encode(),
            "a JSON array": f"[{body}]".encode(),
            "not UTF-8": body.replace("Lệ", "L\udce9").encode("utf-8", "surrogateescape"),
        }
        return [Variant(name, _post(raw)) for name, raw in tricks.items()]

    def re_encodings(self, genuine: Inbound) -> list[Variant]:
        message = json.loads(genuine.body)
        signature = message["signature"]
        as_python = json.dumps(message).encode()  # ASCII with \u escapes, spaces after separators
        pretty = json.dumps(message, indent=2, ensure_ascii=False).encode()
        reordered = json.dumps(dict(reversed(list(message.items()))), ensure_ascii=False).encode()
        return [
            Variant("non-ASCII written as \\u escapes", _post(as_python)),
            Variant("pretty-printed", _post(pretty)),
            Variant("keys in another order", _post(reordered)),
            Variant(
                "the signature in upper case",
                _post(genuine.body.replace(signature.encode(), signature.upper().encode())),
            ),
            Variant("an unsigned field added", _post(genuine.body[:-1] + b',"paymentOption":"momo"}')),
            Variant(
                "this merchant's accessKey named", _post(genuine.body[:-1] + f',"accessKey":"{ACCESS_KEY}"}}'.encode())
            ),
        ]

    def checkout_as_notification(self, provider: PaymentProvider) -> list[Variant]:
        import asyncio

        asyncio.run(provider.create_checkout(ORDER))
        return [Variant("the create request's body", _post(self.desk.created[-1]))]

    # Published vectors: payments.md §2.2's create vector (computed there from MoMo's documented string),
    # and MoMo's documented field orders, each over a message written out here with the text it must give.

    def signature_vectors(self) -> list[SignatureVector]:
        create = {
            "accessKey": "TESTACCESSKEY",
            "amount": 50000,
            "extraData": "",
            "ipnUrl": "https://gw.example.vn/ipn/momo",
            "orderId": "HS-0001",
            "orderInfo": "Le phi ho so HS-0001",
            "partnerCode": "MOMOTEST",
            "redirectUrl": "https://gw.example.vn/return/momo",
            "requestId": "REQ-0001",
            "requestType": "captureWallet",
        }
        notification = {
            "accessKey": "TESTACCESSKEY",
            "amount": 50000,
            "extraData": "",
            "message": "Successful.",
            "orderId": "HS-0001",
            "orderInfo": "Le phi ho so HS-0001",
            "orderType": "momo_wallet",
            "partnerCode": "MOMOTEST",
            "payType": "qr",
            "requestId": "REQ-0001",
            "responseTime": 1795924872000,
            "resultCode": 0,
            "transId": 4088878653,
        }
        query = {"accessKey": "TESTACCESSKEY", "orderId": "HS-0001", "partnerCode": "MOMOTEST", "requestId": "Q-1"}
        refund = {
            "accessKey": "TESTACCESSKEY",
            "amount": 12000,
            "description": "Hoan phi nop thua",
            "orderId": "RF-0001",
            "partnerCode": "MOMOTEST",
            "requestId": "RF-0001",
            "transId": 4088878653,
        }
        texts = {
            "create": (create, _raw(CREATE_ORDER, create)),
            "notification": (notification, _raw(IPN_ORDER, notification)),
            "query": (query, _raw(QUERY_ORDER, query)),
            "refund": (refund, _raw(REFUND_ORDER, refund)),
        }
        vectors = [
            SignatureVector(
                "create (payments.md §2.2)",
                "create",
                create,
                "TESTSECRETKEY",
                "0dbf3aff407085a1b8174d5b756fc608849bb05c70796a3adceea8054c50420c",
                texts["create"][1],
            )
        ]
        vectors += [
            SignatureVector(kind, kind, message, "TESTSECRETKEY", _hmac(text, "TESTSECRETKEY"), text)
            for kind, (message, text) in texts.items()
            if kind != "create"
        ]
        return vectors

    def adapter_signature(self, vector: SignatureVector) -> str:
        return signing.sign(vector.message, ADAPTER_FIELDS[vector.kind], vector.secret)

    def adapter_signed_text(self, vector: SignatureVector) -> str:
        return signing.raw_signature(vector.message, ADAPTER_FIELDS[vector.kind])

    def request_is_signed(self, request: httpx.Request) -> bool:
        body = json.loads(request.content)
        kind = {"/v2/gateway/api/query": "query", "/v2/gateway/api/refund": "refund"}[request.url.path]
        expected = _hmac(_raw(ORDERS[kind], {"accessKey": ACCESS_KEY, **body}))
        return body.get("partnerCode") == PARTNER_CODE and hmac.compare_digest(str(body.get("signature")), expected)

    # MoMo delivers an IPN again unless it is answered HTTP 204; so every verdict another delivery cannot
    # change is a 204 with no body, and only the gateway's own failure asks for another (500).

    acknowledgements: Mapping[Verdict, ExpectedAck] = {
        Verdict.RECORDED: ExpectedAck("204", 204, "text/plain", None, resent=False),
        Verdict.ALREADY_FINAL: ExpectedAck("204", 204, "text/plain", None, resent=False),
        Verdict.UNKNOWN_ORDER: ExpectedAck("204", 204, "text/plain", None, resent=False),
        Verdict.AMOUNT_MISMATCH: ExpectedAck("204", 204, "text/plain", None, resent=False),
        Verdict.INVALID_SIGNATURE: ExpectedAck("204", 204, "text/plain", None, resent=False),
        Verdict.RETRY: ExpectedAck("500", 500, "text/plain", None, resent=True),
    }

    # resultCode (MoMo's result-code page): 0 paid; 1000/7000/7002/8000 not finished; 9000 authorized,
    # money held; everything else a final failure (1003/1006 cancelled, 1005 expired, 1001 no funds, …).

    notification_outcomes = [
        OutcomeCase("0 paid", _codes(0), ProviderOutcome.SUCCEEDED),
        *(OutcomeCase(f"{c} in progress", _codes(c), ProviderOutcome.PENDING) for c in (1000, 7000, 7002, 8000)),
        OutcomeCase("9000 authorized", _codes(9000), ProviderOutcome.UNDER_REVIEW),
        *(
            OutcomeCase(f"{c} failed", _codes(c), ProviderOutcome.FAILED)
            for c in (1001, 1002, 1003, 1004, 1005, 1006, 1007, 1017, 4001, 99)
        ),
    ]

    query_outcomes = [
        OutcomeCase("0 paid", _codes(0), ProviderOutcome.SUCCEEDED),
        OutcomeCase("1000 waiting for the citizen", _codes(1000), ProviderOutcome.PENDING),
        OutcomeCase("7000 processing", _codes(7000), ProviderOutcome.PENDING),
        OutcomeCase("9000 authorized", _codes(9000), ProviderOutcome.UNDER_REVIEW),
        OutcomeCase("1003 cancelled", _codes(1003), ProviderOutcome.FAILED),
        OutcomeCase("1005 expired", _codes(1005), ProviderOutcome.FAILED),
        OutcomeCase("1006 refused by the citizen", _codes(1006), ProviderOutcome.FAILED),
        OutcomeCase("42 not found", _codes(42), ProviderOutcome.NOT_FOUND),
        OutcomeCase("10 maintenance", _codes(10), ProviderUnavailable),
        OutcomeCase("99 unknown error", _codes(99), ProviderUnavailable),
        OutcomeCase("13 bad signature or keys", _codes(13), ProviderRejected),
        OutcomeCase("20 bad format", _codes(20), ProviderRejected),
    ]

    refund_outcomes = [
        OutcomeCase("0 refunded", _codes(0), ProviderOutcome.SUCCEEDED),
        OutcomeCase("7000 processing", _codes(7000), ProviderOutcome.PENDING),
        OutcomeCase("1080 failed while processing", _codes(1080), ProviderOutcome.FAILED),
        OutcomeCase("1081 already refunded", _codes(1081), ProviderOutcome.FAILED),
        OutcomeCase("1088 not refundable", _codes(1088), ProviderOutcome.FAILED),
        OutcomeCase("42 not found", _codes(42), ProviderOutcome.FAILED),
        OutcomeCase("13 bad signature", _codes(13), ProviderOutcome.FAILED),
        OutcomeCase("41 orderId taken", _codes(41), ProviderOutcome.FAILED),
        OutcomeCase("40 requestId in flight", _codes(40), ProviderUnavailable),
        OutcomeCase("99 unknown error", _codes(99), ProviderUnavailable),
    ]

    refund_query_outcomes = [
        OutcomeCase("no refund", _codes(0), ProviderOutcome.NOT_FOUND),
        OutcomeCase("another refund only", _refund_row(0, "someoneelse01"), ProviderOutcome.NOT_FOUND),
        OutcomeCase("this refund done", _refund_row(0), ProviderOutcome.SUCCEEDED),
        OutcomeCase("this refund processing", _refund_row(7000), ProviderOutcome.PENDING),
        OutcomeCase("this refund failed", _refund_row(1080), ProviderOutcome.FAILED),
        OutcomeCase("42 payment not found", _codes(42), ProviderRejected),
        OutcomeCase("99 unknown error", _codes(99), ProviderUnavailable),
    ]

    # The API: one path each, every answer HTTP 200 JSON with numbers as numbers.

    def query_route(self, router: respx.MockRouter) -> respx.Route:
        return router.post(f"{HOST}/v2/gateway/api/query")

    def refund_route(self, router: respx.MockRouter) -> respx.Route:
        return router.post(f"{HOST}/v2/gateway/api/refund")

    @staticmethod
    def _response(fields: Mapping[str, object]) -> httpx.Response:
        text = "{" + ",".join(f'"{k}":{_json_text(v)}' for k, v in fields.items()) + "}"
        return httpx.Response(200, content=text.encode(), headers={"content-type": "application/json"})

    def query_answer(self, codes: Mapping[str, str], wire_amount: str | None = None) -> httpx.Response:
        code = int(codes["resultCode"])
        refunds: list[dict[str, Any]] = []
        if "refund.resultCode" in codes:
            refunds.append(
                {
                    "orderId": codes["refund.orderId"],
                    "amount": REFUND.amount,
                    "resultCode": int(codes["refund.resultCode"]),
                    "transId": 4088879999,
                    "createdTime": 1795924900000,
                }
            )
        fields: dict[str, object] = {
            "partnerCode": PARTNER_CODE,
            "orderId": REFERENCE,
            "requestId": QUERY_REQUEST_ID,
            "extraData": "",
            "amount": _Bare(wire_amount if wire_amount is not None else str(AMOUNT)),
            "transId": _Bare(TRANSACTION_ID if code == 0 else "0"),
            "payType": "qr" if code == 0 else "",
            "resultCode": _Bare(str(code)),
            "refundTrans": _Bare(json.dumps(refunds)),
            "message": "Thành công." if code == 0 else f"Lỗi {code}",
            "responseTime": _Bare("1795925000000"),
        }
        return self._response(fields)

    def refund_answer(self, codes: Mapping[str, str]) -> httpx.Response:
        code = int(codes["resultCode"])
        fields: dict[str, object] = {
            "partnerCode": PARTNER_CODE,
            "orderId": REFUND.request_id,
            "requestId": REFUND.request_id,
            "amount": _Bare(str(REFUND.amount)),
            "transId": _Bare("4088879999" if code == 0 else "0"),
            "resultCode": _Bare(str(code)),
            "message": "Thành công." if code == 0 else f"Lỗi {code}",
            "responseTime": _Bare("1795925000000"),
        }
        return self._response(fields)

    # Amounts: MoMo writes đồng as a bare JSON integer.

    largest_amount = 50_000_000

    def wire_amount(self, vnd: int) -> str:
        return str(vnd)

    def malformed_wire_amounts(self) -> dict[str, str]:
        return {
            "a decimal point": "35000.0",
            "a fraction of a dong": "35000.5",
            "an exponent": "3.5e4",
            "negative": "-35000",
            "a JSON string": '"35000"',
            "a JSON string with a space": '" 35000"',
            "true": "true",
            "null": "null",
            "beyond a Long": "9" * 23,
        }

    def checkout_wire_amount(self, checkout: Checkout) -> str:
        text = self.desk.created[-1].decode()
        return text.split('"amount":', 1)[1].split(",", 1)[0].strip()

    def sent_wire_amount(self, request: httpx.Request) -> str:
        text = request.content.decode()
        return text.split('"amount":', 1)[1].split(",", 1)[0].strip()

    # Retries (adapters/momo/client.py): a query up to three times on a connection failure, timeout or
    # 5xx; a refund only when the connection was never made.

    query_attempts = 3
    refund_attempts_unreached = 3
