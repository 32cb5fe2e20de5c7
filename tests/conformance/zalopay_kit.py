"""ZaloPay's side of the conformance suite (payments.md §2.3), signed and read with the kit's own code. The
adapter's signing code is called only by adapter_signature and adapter_signed_text, to hold it to the
published vectors.

ZaloPay calls back only for a paid order, so a callback of any other outcome does not exist: genuine()
skips those. The checkout is an API call (/v2/create): the kit answers it itself, as ZaloPay would, in
front of the transport respx mocks, and keeps what the adapter sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from adapters.zalopay import signing
from adapters.zalopay.config import ZaloPayConfig
from adapters.zalopay.provider import ZaloPayProvider
from contracts.errors import ProviderRejected, ProviderUnavailable
from contracts.providers import Checkout, Inbound, PaymentProvider, ProviderOutcome, Verdict
from tests.conformance.kit import (
    AMOUNT,
    ORDER,
    REFERENCE,
    TRANSACTION_ID,
    ExpectedAck,
    OutcomeCase,
    SignatureVector,
    Variant,
)
from tests.zalopay_vectors import CALLBACK_DATA, CALLBACK_KEY2, CALLBACK_MAC, CREATE_KEY1, CREATE_MAC, CREATE_TEXT

APP_ID = 2554
KEY1 = "CONFORMANCEKEY1ZALOPAY0000000001"
KEY2 = "CONFORMANCEKEY2ZALOPAY0000000002"
HOST = "https://sb-openapi.zalopay.vn"

# The field orders ZaloPay documents for each mac.
CREATE_ORDER = "app_id|app_trans_id|app_user|amount|app_time|embed_data|item"
REFUND_ORDER = "app_id|zp_trans_id|amount|description|timestamp"
QUERY_REFUND_ORDER = "app_id|m_refund_id|timestamp"


def _mac(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def _pipe(body: Mapping[str, object], order: str) -> str:
    return "|".join(str(body.get(name, "")) for name in order.split("|"))


def _callback(data: str, mac: str | None = None, **envelope: Any) -> Inbound:
    body = {"data": data, "mac": _mac(KEY2, data) if mac is None else mac, "type": 1, **envelope}
    return Inbound(
        method="POST", query="", headers={"content-type": "application/json"}, body=json.dumps(body).encode()
    )


def _escaped(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


def _ack(code: int, message: str, *, resent: bool) -> ExpectedAck:
    return ExpectedAck(str(code), 200, "application/json", {"return_code": code, "return_message": message}, resent)


def _codes(return_code: int, sub_return_code: int | None = None) -> dict[str, str]:
    codes = {"return_code": str(return_code)}
    if sub_return_code is not None:
        codes["sub_return_code"] = str(sub_return_code)
    return codes


class _CreateAnswered(httpx.AsyncBaseTransport):
    """ZaloPay's /v2/create answered by the kit; every other call goes on to the transport respx mocks."""

    def __init__(self, kit: ZaloPayKit) -> None:
        self.kit = kit
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v2/create":
            return await self.inner.handle_async_request(request)
        await request.aread()
        self.kit.creates.append(dict(parse_qsl(request.content.decode(), keep_blank_values=True)))
        return httpx.Response(
            200,
            json={
                "return_code": 1,
                "return_message": "Giao dịch thành công",
                "sub_return_code": 1,
                "sub_return_message": "Giao dịch thành công",
                "zp_trans_token": "AC8-kLxgSJo9BA3HDkTYq93w",
                "order_url": "https://qcgateway.zalopay.vn/openinapp?order=eyJ6cHRyYW5zdG9rZW4iOiJBQzgifQ",
                "order_token": "AC8-kLxgSJo9BA3HDkTYq93w",
                "qr_code": "00020101021226520010vn.zalopay0203001010627000503173307089089161731338580010A000000727",
            },
        )


class ZaloPayKit:
    name = "zalopay"

    def __init__(self) -> None:
        self.creates: list[dict[str, str]] = []

    def provider(self) -> PaymentProvider:
        config = ZaloPayConfig(app_id=APP_ID, key1=KEY1, key2=KEY2, api_url=HOST)
        return ZaloPayProvider(config, transport=_CreateAnswered(self))

    # Notifications: data is JSON text; each field's value is written here as its JSON literal, so an
    # amount can be sent exactly as given.

    def literals(self, **changes: str) -> dict[str, str]:
        return {
            "app_id": str(APP_ID),
            "app_trans_id": json.dumps(REFERENCE),
            "app_time": "1795928400000",
            "app_user": '"dvc-gateway"',
            "amount": str(AMOUNT),
            "embed_data": json.dumps('{"redirecturl":"https://gw.example.vn/callbacks/zalopay/return"}'),
            "item": '"[]"',
            "zp_trans_id": TRANSACTION_ID,
            "server_time": "1795929672000",
            "channel": "38",
            "merchant_user_id": '"7ZMSl3nEg5sOUJzOLSoUFT8xKNQVaLOLXHB--8Eytqc"',
            "user_fee_amount": "0",
            "discount_amount": "0",
            **changes,
        }

    def data(self, **changes: str) -> str:
        return "{" + ",".join(f'"{k}":{v}' for k, v in self.literals(**changes).items() if v != "") + "}"

    def genuine(self, outcome: ProviderOutcome, **changes: str) -> Inbound:
        if outcome is not ProviderOutcome.SUCCEEDED:
            pytest.skip(f"ZaloPay calls back only for a paid order, never a {outcome.value} one")
        return _callback(self.data(**changes))

    def notification(self, codes: Mapping[str, str], wire_amount: str | None = None) -> Inbound:
        amount = {} if wire_amount is None else {"amount": wire_amount}
        return _callback(self.data(**codes, **amount))

    def forgeries(self, genuine: Inbound) -> list[Variant]:
        envelope = json.loads(genuine.body)
        data, mac = envelope["data"], envelope["mac"]

        def raw(body: str) -> Inbound:
            return Inbound("POST", "", {}, body.encode())

        tricks = {
            "a signed field changed": _callback(data.replace(f'"amount":{AMOUNT}', '"amount":100'), mac),
            "a space added to data": _callback(data + " ", mac),
            "data re-serialised with spaces": _callback(json.dumps(json.loads(data)), mac),
            "no mac": Inbound("POST", "", {}, json.dumps({"data": data, "type": 1}).encode()),
            "an empty mac": _callback(data, ""),
            "a mac of another key": _callback(data, _mac("OTHERKEY", data)),
            "the mac of key1": _callback(data, _mac(KEY1, data)),
            "a mac as a number": Inbound("POST", "", {}, json.dumps({"data": data, "mac": 1, "type": 1}).encode()),
            "data as an object": Inbound(
                "POST", "", {}, json.dumps({"data": json.loads(data), "mac": mac, "type": 1}).encode()
            ),
            "data sent twice": Inbound(
                "POST",
                "",
                {},
                f'{{"data":{json.dumps(data)},"mac":"{mac}","data":{json.dumps(data)}}}'.encode(),
            ),
            "another app's": _callback(self.data(app_id="2553")),
            "an app_trans_id longer than ZaloPay's 40": _callback(self.data(app_trans_id=json.dumps("2" * 41))),
            "an app_id as text": _callback(self.data(app_id=f'"{APP_ID}"')),
            "a required field left out": _callback(self.data(server_time="")),
            "an agreement callback": _callback(f'{{"app_id":{APP_ID},"agreement_id":"A1"}}'),
            "not JSON": raw("data=x&mac=y"),
            "a JSON array": raw("[]"),
            "empty": raw(""),
        }
        return [Variant(name, inbound) for name, inbound in tricks.items()]

    def re_encodings(self, genuine: Inbound) -> list[Variant]:
        envelope = json.loads(genuine.body)
        data, mac = envelope["data"], envelope["mac"]
        return [
            Variant("the mac in upper case", _callback(data, mac.upper())),
            Variant(
                "keys in another order",
                Inbound("POST", "", {}, json.dumps({"mac": mac, "type": 1, "data": data}).encode()),
            ),
            Variant("no type", Inbound("POST", "", {}, json.dumps({"data": data, "mac": mac}).encode())),
            Variant("an unsigned envelope field", _callback(data, mac, extra="x")),
            Variant("the envelope pretty-printed", Inbound("POST", "", {}, json.dumps(envelope, indent=2).encode())),
            Variant(
                "every character of data escaped in the envelope",
                Inbound(
                    "POST",
                    "",
                    {},
                    f'{{"data":"{_escaped(data)}","mac":"{mac}","type":1}}'.encode(),
                ),
            ),
        ]

    def checkout_as_notification(self, provider: PaymentProvider) -> list[Variant]:
        asyncio.run(provider.create_checkout(ORDER))
        sent = self.creates[-1]
        return [
            Variant(
                "the create request's form",
                Inbound("POST", "", {}, "&".join(f"{k}={v}" for k, v in sent.items()).encode()),
            ),
            Variant(
                "the create request as a callback",
                Inbound("POST", "", {}, json.dumps({"data": json.dumps(sent), "mac": sent["mac"], "type": 1}).encode()),
            ),
        ]

    # Published vectors: the callback example of ZaloPay's docs with the sandbox key2, the create vector of
    # payments.md §2.3, and the documented orders of query, refund and query_refund.

    def signature_vectors(self) -> list[SignatureVector]:
        create = {
            "app_id": "2553",
            "app_trans_id": "240101_000001",
            "app_user": "user123",
            "amount": "50000",
            "app_time": "1704067200000",
            "embed_data": "{}",
            "item": "[]",
            "description": "not signed",
        }
        refund = {
            "app_id": "2553",
            "m_refund_id": "240101_2553_abc123",
            "zp_trans_id": "240101000000389",
            "amount": "12000",
            "timestamp": "1704067200000",
            "description": "Hoan phi nop thua",
        }
        query = {"app_id": "2553", "app_trans_id": "240101_000001"}
        texts = {
            "refund": "2553|240101000000389|12000|Hoan phi nop thua|1704067200000",
            "query_refund": "2553|240101_2553_abc123|1704067200000",
            "query": f"2553|240101_000001|{CREATE_KEY1}",
        }
        messages = {"refund": refund, "query_refund": refund, "query": query}
        return [
            SignatureVector(
                "callback example (docs.zalopay.vn)", "callback", {"data": CALLBACK_DATA}, CALLBACK_KEY2, CALLBACK_MAC
            ),
            SignatureVector("create (payments.md §2.3)", "create", create, CREATE_KEY1, CREATE_MAC, CREATE_TEXT),
            *(
                SignatureVector(kind, kind, messages[kind], CREATE_KEY1, _mac(CREATE_KEY1, text), text)
                for kind, text in texts.items()
            ),
        ]

    _ADAPTER_FIELDS = {
        "create": signing.CREATE_FIELDS,
        "refund": signing.REFUND_FIELDS,
        "query_refund": signing.QUERY_REFUND_FIELDS,
    }

    def adapter_signature(self, vector: SignatureVector) -> str:
        if vector.kind == "callback":
            return signing.hmac_sha256(vector.secret, str(vector.message["data"]))
        if vector.kind == "query":
            return signing.query_mac(vector.message["app_id"], str(vector.message["app_trans_id"]), vector.secret)
        return signing.sign(vector.message, self._ADAPTER_FIELDS[vector.kind], vector.secret)

    def adapter_signed_text(self, vector: SignatureVector) -> str:
        if vector.kind == "query":
            return signing.query_text(vector.message["app_id"], str(vector.message["app_trans_id"]), vector.secret)
        return signing.pipe_text(vector.message, self._ADAPTER_FIELDS[vector.kind])

    def request_is_signed(self, request: httpx.Request) -> bool:
        body = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
        path = request.url.path
        if path == "/v2/query":
            text = f"{body['app_id']}|{body['app_trans_id']}|{KEY1}"
        else:
            text = _pipe(body, {"/v2/create": CREATE_ORDER, "/v2/refund": REFUND_ORDER}.get(path, QUERY_REFUND_ORDER))
        return str(body.get("app_id")) == str(APP_ID) and hmac.compare_digest(body.get("mac", ""), _mac(KEY1, text))

    # ZaloPay calls back again (at most 3 times) only after 0 or no answer; 1 is success, -1 a bad mac.
    # An unknown order or a wrong amount is answered -1: sending the same callback again cannot mend it.

    acknowledgements: Mapping[Verdict, ExpectedAck] = {
        Verdict.RECORDED: _ack(1, "success", resent=False),
        Verdict.ALREADY_FINAL: _ack(1, "success", resent=False),
        Verdict.INVALID_SIGNATURE: _ack(-1, "mac not equal", resent=False),
        Verdict.UNKNOWN_ORDER: _ack(-1, "order not found", resent=False),
        Verdict.AMOUNT_MISMATCH: _ack(-1, "amount mismatch", resent=False),
        Verdict.RETRY: _ack(0, "retry", resent=True),
    }

    # The callback carries no status: it is sent for a paid order only, whatever the channel.
    notification_outcomes = [
        OutcomeCase("paid in the ZaloPay app", {"channel": "38"}, ProviderOutcome.SUCCEEDED),
        OutcomeCase("paid by ATM card", {"channel": "39"}, ProviderOutcome.SUCCEEDED),
        OutcomeCase("paid by credit card", {"channel": "36"}, ProviderOutcome.SUCCEEDED),
    ]

    query_outcomes = [
        OutcomeCase("1 paid", _codes(1, 1), ProviderOutcome.SUCCEEDED),
        OutcomeCase("2 failed", _codes(2, -1), ProviderOutcome.FAILED),
        OutcomeCase("2 expired", _codes(2, -54), ProviderOutcome.FAILED),
        OutcomeCase("3 unpaid or processing", _codes(3, 3), ProviderOutcome.PENDING),
        OutcomeCase("3 without a sub code", _codes(3), ProviderOutcome.PENDING),
        OutcomeCase("-402 bad mac", _codes(2, -402), ProviderRejected),
        OutcomeCase("-401 invalid data", _codes(2, -401), ProviderRejected),
        OutcomeCase("-429 rate limited", _codes(2, -429), ProviderUnavailable),
        OutcomeCase("-500 system error", _codes(2, -500), ProviderUnavailable),
        OutcomeCase("-999 maintenance", _codes(2, -999), ProviderUnavailable),
        OutcomeCase("an undocumented return code", _codes(7), ProviderUnavailable),
    ]

    refund_outcomes = [
        OutcomeCase("1 refunded", _codes(1, 1), ProviderOutcome.SUCCEEDED),
        OutcomeCase("3 processing", _codes(3, 2), ProviderOutcome.PENDING),
        OutcomeCase("2 refused", _codes(2, -13), ProviderOutcome.FAILED),
        OutcomeCase("-402 bad mac", _codes(2, -402), ProviderRejected),
        OutcomeCase("-429 rate limited", _codes(2, -429), ProviderUnavailable),
        OutcomeCase("-500 system error", _codes(2, -500), ProviderUnavailable),
    ]

    refund_query_outcomes = [
        OutcomeCase("1 refunded", _codes(1, 1), ProviderOutcome.SUCCEEDED),
        OutcomeCase("3 processing", _codes(3, 2), ProviderOutcome.PENDING),
        OutcomeCase("2 failed", _codes(2, -13), ProviderOutcome.FAILED),
        OutcomeCase("-402 bad mac", _codes(2, -402), ProviderRejected),
        OutcomeCase("-500 system error", _codes(2, -500), ProviderUnavailable),
    ]

    # The Open API: one path per call, every answer HTTP 200 JSON with integer codes and amounts. A refund's
    # state is asked at /v2/query_refund, so the query route takes both queries.

    def query_route(self, router: respx.MockRouter) -> respx.Route:
        return router.post(url__regex=rf"^{HOST}/v2/query(_refund)?$")

    def refund_route(self, router: respx.MockRouter) -> respx.Route:
        return router.post(f"{HOST}/v2/refund")

    def _answer(self, codes: Mapping[str, str], details: str) -> httpx.Response:
        fields = [f'"return_code":{codes["return_code"]}', '"return_message":"msg"']
        if "sub_return_code" in codes:
            fields.append(f'"sub_return_code":{codes["sub_return_code"]}')
        fields.append('"sub_return_message":"sub msg"')
        return httpx.Response(
            200,
            content=("{" + ",".join([*fields, details]) + "}").encode(),
            headers={"content-type": "application/json"},
        )

    def query_answer(self, codes: Mapping[str, str], wire_amount: str | None = None) -> httpx.Response:
        paid = codes["return_code"] == "1"
        amount = wire_amount if wire_amount is not None else self.wire_amount(AMOUNT if paid else 0)
        details = (
            f'"is_processing":{"true" if codes["return_code"] == "3" else "false"},"amount":{amount},'
            f'"discount_amount":0,"zp_trans_id":{TRANSACTION_ID if paid else 0},"server_time":1795929672000'
        )
        return self._answer(codes, details)

    def refund_answer(self, codes: Mapping[str, str]) -> httpx.Response:
        return self._answer(codes, '"refund_id":261124000000771')

    # Amounts: whole đồng as JSON integers.

    largest_amount = 999_999_999_999

    def wire_amount(self, vnd: int) -> str:
        return str(vnd)

    def malformed_wire_amounts(self) -> dict[str, str]:
        return {
            "a decimal point": f"{AMOUNT}.0",
            "a fraction of a dong": f"{AMOUNT}.5",
            "an exponent": "3.5e4",
            "negative": f"-{AMOUNT}",
            "a text": f'"{AMOUNT}"',
            "a leading zero": f"0{AMOUNT}",
            "a plus sign": f"+{AMOUNT}",
            "true": "true",
            "null": "null",
            "not a number": "NaN",
            "infinity": "Infinity",
            "beyond a 64-bit integer": "9" * 23,
            "more digits than any amount": "9" * 16,
            "full-width digits": "３５０００",
            "an object": '{"value":35000}',
        }

    def checkout_wire_amount(self, checkout: Checkout) -> str:
        return self.creates[-1]["amount"]

    def sent_wire_amount(self, request: httpx.Request) -> str:
        return dict(parse_qsl(request.content.decode(), keep_blank_values=True))["amount"]

    # Retries (adapters/zalopay/client.py): a query up to three times on a connection failure, timeout or
    # 5xx; a refund only when the connection was never made.

    query_attempts = 3
    refund_attempts_unreached = 3
