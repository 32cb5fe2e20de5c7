"""VNPay's side of the conformance suite (payments.md §2.1), signed and read with the kit's own code. The
adapter's signing code is called only by adapter_signature and adapter_signed_text, to hold it to the
published vectors."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
import respx

from adapters.vnpay import signing
from adapters.vnpay.config import VNPayConfig
from adapters.vnpay.provider import VNPayProvider
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
from tests.vnpay_vectors import EXAMPLE, EXAMPLE_HASH, EXAMPLE_QUERY, EXAMPLE_SECRET

SECRET = "CONFORMANCESECRETVNPAY0000000001"
TMN_CODE = "CONF0001"
API_URL = "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction"

# The merchant web API's checksum orders as VNPay documents them.
QUERYDR_REQUEST = "vnp_RequestId|vnp_Version|vnp_Command|vnp_TmnCode|vnp_TxnRef|vnp_TransactionDate|vnp_CreateDate|vnp_IpAddr|vnp_OrderInfo"  # noqa: E501
REFUND_REQUEST = "vnp_RequestId|vnp_Version|vnp_Command|vnp_TmnCode|vnp_TransactionType|vnp_TxnRef|vnp_Amount|vnp_TransactionNo|vnp_TransactionDate|vnp_CreateBy|vnp_CreateDate|vnp_IpAddr|vnp_OrderInfo"  # noqa: E501
QUERYDR_ANSWER = "vnp_ResponseId|vnp_Command|vnp_ResponseCode|vnp_Message|vnp_TmnCode|vnp_TxnRef|vnp_Amount|vnp_BankCode|vnp_PayDate|vnp_TransactionNo|vnp_TransactionType|vnp_TransactionStatus|vnp_OrderInfo|vnp_PromotionCode|vnp_PromotionAmount"  # noqa: E501
REFUND_ANSWER = "vnp_ResponseId|vnp_Command|vnp_ResponseCode|vnp_Message|vnp_TmnCode|vnp_TxnRef|vnp_Amount|vnp_BankCode|vnp_PayDate|vnp_TransactionNo|vnp_TransactionType|vnp_TransactionStatus|vnp_OrderInfo"  # noqa: E501


def _vnpay_hash(data: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), data.encode(), hashlib.sha512).hexdigest()


def _pipe(body: Mapping[str, object], order: str) -> str:
    values = (body.get(name) for name in order.split("|"))
    return "|".join("" if value is None else str(value) for value in values)


def _vnpay_query(fields: dict[str, str], encode: Callable[[str], str] | None = None) -> str:
    """Signed as VNPay's samples sign: sorted, urlencode'd (or `encode`'d pair by pair), hash appended."""
    items = sorted((k, v) for k, v in fields.items() if v != "")
    signed = urlencode(items) if encode is None else "&".join(f"{encode(k)}={encode(v)}" for k, v in items)
    return f"{signed}&vnp_SecureHash={_vnpay_hash(signed)}"


def _signed_with_empties(fields: dict[str, str]) -> str:
    signed = "&".join(f"{quote(k, safe='')}={quote(v, safe='').replace('%20', '+')}" for k, v in sorted(fields.items()))
    return f"{signed}&vnp_SecureHash={_vnpay_hash(signed)}"


def _get(query: str) -> Inbound:
    return Inbound(method="GET", query=query)


def _ack(code: str, message: str, *, resent: bool) -> ExpectedAck:
    return ExpectedAck(code, 200, "application/json", {"RspCode": code, "Message": message}, resent)


def _codes(response_code: str, transaction_status: str, transaction_type: str | None = None) -> dict[str, str]:
    codes = {"vnp_ResponseCode": response_code, "vnp_TransactionStatus": transaction_status}
    if transaction_type is not None:
        codes["vnp_TransactionType"] = transaction_type
    return codes


def _api(code: str) -> dict[str, str]:
    return {"vnp_ResponseCode": code}


# vnp_ResponseCode of a payment that did not go through, each with the status VNPay reports for it (02).
_FAILED_PAYMENT_CODES = ("09", "10", "11", "12", "13", "24", "51", "65", "75", "79", "99")


class VNPayKit:
    name = "vnpay"

    def provider(self) -> PaymentProvider:
        config = VNPayConfig(
            tmn_code=TMN_CODE,
            hash_secret=SECRET,
            payment_url="https://sandbox.vnpayment.vn/paymentv2/vpcpay.html",
            api_url=API_URL,
        )
        return VNPayProvider(config)

    # Notifications

    def fields(self, outcome: ProviderOutcome, **changes: str) -> dict[str, str]:
        codes = {
            ProviderOutcome.SUCCEEDED: ("00", "00"),
            ProviderOutcome.FAILED: ("24", "02"),
            ProviderOutcome.UNDER_REVIEW: ("07", "00"),
            ProviderOutcome.PENDING: ("00", "01"),
        }[outcome]
        return {
            "vnp_Amount": str(AMOUNT * 100),
            "vnp_BankCode": "NCB",
            "vnp_BankTranNo": "VNP14226112" if outcome is ProviderOutcome.SUCCEEDED else "",
            "vnp_CardType": "ATM",
            "vnp_OrderInfo": "Thanh toan phi le phi ho so (HS-0001) *ok* ~",
            "vnp_PayDate": "20261123170112",
            "vnp_ResponseCode": codes[0],
            "vnp_TmnCode": TMN_CODE,
            "vnp_TransactionNo": TRANSACTION_ID if outcome is ProviderOutcome.SUCCEEDED else "0",
            "vnp_TransactionStatus": codes[1],
            "vnp_TxnRef": REFERENCE,
            **changes,
        }

    def genuine(self, outcome: ProviderOutcome, **changes: str) -> Inbound:
        return _get(_vnpay_query(self.fields(outcome, **changes)))

    def notification(self, codes: Mapping[str, str], wire_amount: str | None = None) -> Inbound:
        amount = {} if wire_amount is None else {"vnp_Amount": wire_amount}
        return self.genuine(ProviderOutcome.SUCCEEDED, **codes, **amount)

    def forgeries(self, genuine: Inbound) -> list[Variant]:
        q = genuine.query
        failed = self.genuine(ProviderOutcome.FAILED).query
        tricks = {
            "a signed field changed": q.replace("vnp_Amount=3500000", "vnp_Amount=100"),
            "a percent-encoded name appended": f"{failed}&%76np_ResponseCode=00&%76np_TransactionStatus=00",
            "an encoded underscore in a name": f"{failed}&vnp%5FResponseCode=00&vnp%5FTransactionStatus=00",
            "a name in another case": f"{failed}&VNP_ResponseCode=00",
            "a mixed-case prefix": f"{failed}&Vnp_TransactionStatus=00",
            "a field sent twice": f"{failed}&vnp_ResponseCode=00",
            "a field sent twice, once encoded": f"{failed}&vnp_Response%43ode=00",
            "a duplicate with an empty value": f"{q}&vnp_TransactionNo=",
            "an unsigned field appended": f"{q}&vnp_Extra=1",
            "the hash sent twice": f"{q}&vnp_SecureHash=00",
            "no hash": q.rsplit("&vnp_SecureHash=", 1)[0],
            "an empty hash": q.rsplit("&vnp_SecureHash=", 1)[0] + "&vnp_SecureHash=",
            "a hash of another secret": q.rsplit("=", 1)[0] + "=" + "0" * 128,
            "a signed field emptied": q.replace("vnp_TxnRef=" + REFERENCE, "vnp_TxnRef="),
            "a value smuggled with an encoded ampersand": q.replace(
                "vnp_TxnRef=" + REFERENCE, "vnp_TxnRef=" + REFERENCE + "%26vnp_Amount%3D100"
            ),
            "another merchant's": _vnpay_query(self.fields(ProviderOutcome.SUCCEEDED, vnp_TmnCode="OTHER001")),
            "a required field left out": _vnpay_query(self.fields(ProviderOutcome.SUCCEEDED, vnp_PayDate="")),
            "no outcome fields": _vnpay_query(
                self.fields(ProviderOutcome.SUCCEEDED, vnp_ResponseCode="", vnp_TransactionStatus="")
            ),
        }
        return [Variant(name, _get(query)) for name, query in tricks.items()]

    def re_encodings(self, genuine: Inbound) -> list[Variant]:
        fields = self.fields(ProviderOutcome.SUCCEEDED)
        signed, digest = genuine.query.rsplit("&vnp_SecureHash=", 1)
        pairs = signed.split("&")
        encoders: dict[str, Callable[[str], str]] = {
            "PHP urlencode": lambda t: quote(t, safe="").replace("%20", "+").replace("~", "%7E"),
            "URLSearchParams": lambda t: quote(t, safe="*").replace("%20", "+").replace("~", "%7E"),
            "WebUtility.UrlEncode": lambda t: quote(t, safe="()!*").replace("%20", "+"),
            "encodeURIComponent, %20 kept": lambda t: quote(t, safe="-_.!~*'()"),
        }
        variants = [Variant(name, _get(_vnpay_query(fields, encode))) for name, encode in encoders.items()]
        variants += [
            Variant("the hash in upper case", _get(f"{signed}&vnp_SecureHash={digest.upper()}")),
            Variant("the hash first", _get(f"vnp_SecureHash={digest}&{signed}")),
            Variant("pairs in another order", _get("&".join([*reversed(pairs), f"vnp_SecureHash={digest}"]))),
            Variant("a space as %20 where the signer wrote +", _get(genuine.query.replace("+", "%20"))),
            Variant("a non-VNPay field appended", _get(f"{genuine.query}&utm_source=x")),
            # VNPay leaves empty values out of what it signs, so an empty field says nothing either way.
            Variant("an empty vnp_ field appended", _get(f"{genuine.query}&vnp_Extra=")),
            Variant(
                "signed with its empty fields, as VNPay's PHP sample does",
                _get(_signed_with_empties(fields)),
            ),
        ]
        return variants

    def checkout_as_notification(self, provider: PaymentProvider) -> list[Variant]:
        url = asyncio.run(provider.create_checkout(ORDER)).url
        return [Variant("the checkout URL's query", _get(urlsplit(url).query))]

    # Published vectors: the payment URL example of VNPay's documentation, and the merchant API's
    # documented field orders, each over a message written out here with the string it must give.

    def signature_vectors(self) -> list[SignatureVector]:
        querydr = {
            "vnp_RequestId": "a1b2c3d4",
            "vnp_Version": "2.1.0",
            "vnp_Command": "querydr",
            "vnp_TmnCode": "DEMOV210",
            "vnp_TxnRef": "5",
            "vnp_OrderInfo": "Truy van giao dich 5",
            "vnp_TransactionDate": "20210801153333",
            "vnp_CreateDate": "20210801160000",
            "vnp_IpAddr": "10.0.0.1",
        }
        refund = {
            **querydr,
            "vnp_Command": "refund",
            "vnp_TransactionType": "03",
            "vnp_Amount": "1000000",
            "vnp_OrderInfo": "Hoan tien 5",
            "vnp_CreateBy": "ops",
        }
        answer = {
            "vnp_ResponseId": "f00d",
            "vnp_Command": "querydr",
            "vnp_ResponseCode": "00",
            "vnp_Message": "QueryDR Success",
            "vnp_TmnCode": "DEMOV210",
            "vnp_TxnRef": "5",
            "vnp_Amount": "1806000",
            "vnp_BankCode": "NCB",
            "vnp_PayDate": "20210801153610",
            "vnp_TransactionNo": "13563322",
            "vnp_TransactionType": "01",
            "vnp_TransactionStatus": "00",
            "vnp_OrderInfo": "Thanh toan don hang :5",
            "vnp_CardNumber": "970419xxxxxx2198",  # sent, not signed
        }
        paid = "f00d|querydr|00|QueryDR Success|DEMOV210|5|1806000|NCB|20210801153610|13563322|01|00"
        signed_texts = {
            "querydr request": "a1b2c3d4|2.1.0|querydr|DEMOV210|5|20210801153333|20210801160000|10.0.0.1"
            "|Truy van giao dich 5",
            # vnp_TransactionNo is optional in a refund: absent, it is signed as nothing.
            "refund request": "a1b2c3d4|2.1.0|refund|DEMOV210|03|5|1000000||20210801153333|ops|20210801160000"
            "|10.0.0.1|Hoan tien 5",
            # No promotion: the querydr answer ends with two empty fields, the refund answer has neither.
            "querydr answer": f"{paid}|Thanh toan don hang :5||",
            "refund answer": f"{paid}|Thanh toan don hang :5",
        }
        messages = {"querydr request": querydr, "refund request": refund}
        return [
            SignatureVector(
                "payment URL example (payments.md §2.1)", "query", EXAMPLE, EXAMPLE_SECRET, EXAMPLE_HASH, EXAMPLE_QUERY
            ),
            *(
                SignatureVector(kind, kind, messages.get(kind, answer), "S3CRET", _vnpay_hash(text, "S3CRET"))
                for kind, text in signed_texts.items()
            ),
        ]

    _ADAPTER_FIELDS = {
        "querydr request": signing.QUERYDR_REQUEST_FIELDS,
        "refund request": signing.REFUND_REQUEST_FIELDS,
        "querydr answer": signing.QUERYDR_RESPONSE_FIELDS,
        "refund answer": signing.REFUND_RESPONSE_FIELDS,
    }

    def adapter_signature(self, vector: SignatureVector) -> str:
        if vector.kind == "query":
            return signing.sign_query({k: str(v) for k, v in vector.message.items()}, vector.secret)
        return signing.pipe_checksum(vector.message, self._ADAPTER_FIELDS[vector.kind], vector.secret)

    def adapter_signed_text(self, vector: SignatureVector) -> str:
        if vector.kind != "query":
            raise NotImplementedError("the adapter signs a pipe-joined string it does not expose")
        return signing.canonical_query({k: str(v) for k, v in vector.message.items()})

    def request_is_signed(self, request: httpx.Request) -> bool:
        body = json.loads(request.content)
        order = {"querydr": QUERYDR_REQUEST, "refund": REFUND_REQUEST}[body["vnp_Command"]]
        return bool(hmac.compare_digest(str(body.get("vnp_SecureHash")), _vnpay_hash(_pipe(body, order))))

    # The IPN answers VNPay's sample merchant code gives, in VNPay's terms; VNPay sends an IPN again
    # until it is answered 00 or 02.

    acknowledgements: Mapping[Verdict, ExpectedAck] = {
        Verdict.RECORDED: _ack("00", "Confirm Success", resent=False),
        Verdict.UNKNOWN_ORDER: _ack("01", "Order not found", resent=True),
        Verdict.ALREADY_FINAL: _ack("02", "Order already confirmed", resent=False),
        Verdict.AMOUNT_MISMATCH: _ack("04", "Invalid amount", resent=True),
        Verdict.INVALID_SIGNATURE: _ack("97", "Invalid signature", resent=True),
        Verdict.RETRY: _ack("99", "Unknow error", resent=True),
    }

    # Code tables. A payment is paid only at vnp_ResponseCode 00 with vnp_TransactionStatus 00; 07
    # (debited, held as suspicious) and statuses 05 (VNPay processing) and 07 (suspected fraud) mean
    # money may have moved and VNPay decides; 01 is not finished yet. Statuses 06 and 09 belong to refunds.

    notification_outcomes = [
        OutcomeCase("00/00 paid", _codes("00", "00"), ProviderOutcome.SUCCEEDED),
        OutcomeCase("00/01 not completed", _codes("00", "01"), ProviderOutcome.PENDING),
        OutcomeCase("00/02 error", _codes("00", "02"), ProviderOutcome.FAILED),
        OutcomeCase("00/04 reversed", _codes("00", "04"), ProviderOutcome.FAILED),
        OutcomeCase("00/05 VNPay processing", _codes("00", "05"), ProviderOutcome.UNDER_REVIEW),
        OutcomeCase("00/07 suspected fraud", _codes("00", "07"), ProviderOutcome.UNDER_REVIEW),
        OutcomeCase("07/00 debited, suspicious", _codes("07", "00"), ProviderOutcome.UNDER_REVIEW),
        OutcomeCase("07/07 debited, held", _codes("07", "07"), ProviderOutcome.UNDER_REVIEW),
        *(OutcomeCase(f"{code}/02", _codes(code, "02"), ProviderOutcome.FAILED) for code in _FAILED_PAYMENT_CODES),
    ]

    query_outcomes = [
        OutcomeCase("00 paid", _codes("00", "00", "01"), ProviderOutcome.SUCCEEDED),
        OutcomeCase("00 not completed", _codes("00", "01", "01"), ProviderOutcome.PENDING),
        OutcomeCase("00 error", _codes("00", "02", "01"), ProviderOutcome.FAILED),
        OutcomeCase("00 reversed", _codes("00", "04", "01"), ProviderOutcome.FAILED),
        OutcomeCase("00 VNPay processing", _codes("00", "05", "01"), ProviderOutcome.UNDER_REVIEW),
        OutcomeCase("00 suspected fraud", _codes("00", "07", "01"), ProviderOutcome.UNDER_REVIEW),
        # A refunded payment is reported as its latest refund; the payment itself went through.
        OutcomeCase("00 full refund processing", _codes("00", "05", "02"), ProviderOutcome.SUCCEEDED),
        OutcomeCase("00 partial refund done", _codes("00", "00", "03"), ProviderOutcome.SUCCEEDED),
        OutcomeCase("00 refund refused", _codes("00", "09", "02"), ProviderOutcome.SUCCEEDED),
        OutcomeCase("91 not found", _api("91"), ProviderOutcome.NOT_FOUND),
        OutcomeCase("94 duplicate request", _api("94"), ProviderUnavailable),
        OutcomeCase("99 other error", _api("99"), ProviderUnavailable),
        OutcomeCase("02 unknown terminal", _api("02"), ProviderRejected),
        OutcomeCase("03 bad format", _api("03"), ProviderRejected),
        OutcomeCase("97 bad checksum", _api("97"), ProviderRejected),
    ]

    refund_outcomes = [
        OutcomeCase("00/05 VNPay processing", _codes("00", "05", "03"), ProviderOutcome.PENDING),
        OutcomeCase("00/06 sent to the bank", _codes("00", "06", "03"), ProviderOutcome.PENDING),
        OutcomeCase("00/00 refunded", _codes("00", "00", "03"), ProviderOutcome.SUCCEEDED),
        OutcomeCase("00/09 refused", _codes("00", "09", "03"), ProviderOutcome.FAILED),
        OutcomeCase("91 not found", _api("91"), ProviderOutcome.FAILED),
        OutcomeCase("95 payment not successful", _api("95"), ProviderOutcome.FAILED),
        OutcomeCase("02 unknown terminal", _api("02"), ProviderOutcome.FAILED),
        OutcomeCase("03 bad format", _api("03"), ProviderOutcome.FAILED),
        OutcomeCase("97 bad checksum", _api("97"), ProviderOutcome.FAILED),
        OutcomeCase("94 already requested", _api("94"), ProviderUnavailable),
        OutcomeCase("99 other error", _api("99"), ProviderUnavailable),
    ]

    refund_query_outcomes = [
        OutcomeCase("payment, no refund", _codes("00", "00", "01"), None),
        OutcomeCase("full refund done", _codes("00", "00", "02"), ProviderOutcome.SUCCEEDED),
        OutcomeCase("full refund processing", _codes("00", "05", "02"), ProviderOutcome.PENDING),
        OutcomeCase("partial refund sent to the bank", _codes("00", "06", "03"), ProviderOutcome.PENDING),
        OutcomeCase("partial refund refused", _codes("00", "09", "03"), ProviderOutcome.FAILED),
        OutcomeCase("a refund in a status no refund has", _codes("00", "01", "02"), ProviderUnavailable),
        OutcomeCase("91 not found", _api("91"), ProviderRejected),
        OutcomeCase("99 other error", _api("99"), ProviderUnavailable),
    ]

    # The merchant web API: one endpoint for querydr and refund, every answer HTTP 200 JSON of strings.

    def query_route(self, router: respx.MockRouter) -> respx.Route:
        return router.post(API_URL)

    def refund_route(self, router: respx.MockRouter) -> respx.Route:
        return router.post(API_URL)

    def _answer(self, command: str, codes: Mapping[str, str], details: dict[str, str], order: str) -> httpx.Response:
        code = codes["vnp_ResponseCode"]
        body: dict[str, Any] = {
            "vnp_ResponseId": "5d8e0c7a1b2f4e6d9c3a8b7e6f5d4c3b",
            "vnp_Command": command,
            "vnp_ResponseCode": code,
            "vnp_Message": "Success" if code == "00" else f"Error {code}",
            "vnp_TmnCode": TMN_CODE,
            "vnp_TxnRef": REFERENCE,
        }
        if code == "00":
            body |= details | dict(codes)
        body["vnp_SecureHash"] = _vnpay_hash(_pipe(body, order))
        return httpx.Response(200, json=body)

    def query_answer(self, codes: Mapping[str, str], wire_amount: str | None = None) -> httpx.Response:
        details = {
            "vnp_Amount": wire_amount if wire_amount is not None else self.wire_amount(AMOUNT),
            "vnp_OrderInfo": "Thanh toan le phi ho so",
            "vnp_BankCode": "NCB",
            "vnp_PayDate": "20261123170112",
            "vnp_TransactionNo": TRANSACTION_ID,
            "vnp_TransactionType": "01",
        }
        return self._answer("querydr", codes, details, QUERYDR_ANSWER)

    def refund_answer(self, codes: Mapping[str, str]) -> httpx.Response:
        details = {
            "vnp_Amount": self.wire_amount(REFUND.amount),
            "vnp_OrderInfo": "Hoan phi nop thua",
            "vnp_BankCode": "NCB",
            "vnp_PayDate": "20261124090005",
            "vnp_TransactionNo": "14226999",
        }
        return self._answer("refund", codes, details, REFUND_ANSWER)

    # Amounts: VNPay writes đồng × 100 as ASCII digits, at most 12 of them (Numeric[1,12]).

    largest_amount = 9_999_999_999

    def wire_amount(self, vnd: int) -> str:
        return f"{vnd}00"

    def malformed_wire_amounts(self) -> dict[str, str]:
        return {
            "a fraction of a dong": "3500050",
            "a decimal point": "3500000.00",
            "an exponent": "35e5",
            "negative": "-3500000",
            "a plus sign": "+3500000",
            "a space before": " 3500000",
            "a space after": "3500000 ",
            "digit group separators": "3_500_000",
            "thousands commas": "3,500,000",
            "hexadecimal": "0x3567E0",
            "full-width digits": "３５０００００",
            "Arabic-Indic digits": "٣٥٠٠٠٠٠",
            "more digits than VNPay's 12": "3500000000000",
            "beyond a 64-bit integer": "9" * 23 + "00",
            "not a number": "NaN",
        }

    def checkout_wire_amount(self, checkout: Checkout) -> str:
        [amount] = [v for k, v in parse_qsl(urlsplit(checkout.url).query) if k == "vnp_Amount"]
        return amount

    def sent_wire_amount(self, request: httpx.Request) -> str:
        amount = json.loads(request.content)["vnp_Amount"]
        return amount if isinstance(amount, str) else repr(amount)

    # Retries (adapters/vnpay/client.py): a query up to three times on a connection failure, timeout or
    # 5xx; a refund only when the connection was never made.

    query_attempts = 3
    refund_attempts_unreached = 3
