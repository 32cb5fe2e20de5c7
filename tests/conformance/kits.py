"""What the conformance suite needs from each payment adapter: genuine notifications signed the way the
provider signs them (with the test's own signing code, never the adapter's), the forgeries and
re-encodings an attacker or another client library may send, and the adapter's own checkout request.

Adding a provider is adding a kit here and naming it in KITS.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote, urlencode, urlsplit

from adapters.vnpay.config import VNPayConfig
from adapters.vnpay.provider import VNPayProvider
from contracts.providers import CheckoutOrder, Inbound, PaymentProvider, ProviderOutcome

REFERENCE = "K3M5Q7ZX2B4D6F8H1J3L5N7P"
AMOUNT = 35000
ORDER = CheckoutOrder(
    reference=REFERENCE,
    amount=AMOUNT,
    description="Le phi ho so 000.00.12.H29-241123-0001",
    created_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
    expires_at=datetime(2026, 11, 23, 10, 15, tzinfo=UTC),
    return_url="https://gw.example.vn/callbacks/vnpay/return",
    client_ip="113.160.1.2",
)


@dataclass(frozen=True)
class Variant:
    name: str
    inbound: Inbound


class Kit(Protocol):
    name: str

    def provider(self) -> PaymentProvider: ...

    def genuine(self, outcome: ProviderOutcome, **changes: str) -> Inbound:
        """A notification exactly as the provider sends it for ORDER."""
        ...

    def forgeries(self, genuine: Inbound) -> list[Variant]:
        """Changes to a genuine notification that must be refused: tampered, smuggled or duplicated fields."""
        ...

    def re_encodings(self, genuine: Inbound) -> list[Variant]:
        """The same notification as other senders may encode it: must read exactly as the genuine one."""
        ...

    def checkout_as_notification(self, provider: PaymentProvider) -> list[Variant]:
        """The adapter's own signed checkout request, sent back as if it were a notification."""
        ...


VNPAY_SECRET = "CONFORMANCESECRETVNPAY0000000001"


def _vnpay_hash(data: str) -> str:
    return hmac.new(VNPAY_SECRET.encode(), data.encode(), hashlib.sha512).hexdigest()


def _vnpay_query(fields: dict[str, str], encode: Callable[[str], str] | None = None) -> str:
    """Signed as VNPay's samples sign: sorted, urlencode'd (or `encode`'d pair by pair), hash appended."""
    items = sorted((k, v) for k, v in fields.items() if v != "")
    signed = urlencode(items) if encode is None else "&".join(f"{encode(k)}={encode(v)}" for k, v in items)
    return f"{signed}&vnp_SecureHash={_vnpay_hash(signed)}"


def _get(query: str) -> Inbound:
    return Inbound(method="GET", query=query)


class VNPayKit:
    name = "vnpay"

    def provider(self) -> PaymentProvider:
        config = VNPayConfig(
            tmn_code="CONF0001",
            hash_secret=VNPAY_SECRET,
            payment_url="https://sandbox.vnpayment.vn/paymentv2/vpcpay.html",
            api_url="https://sandbox.vnpayment.vn/merchant_webapi/api/transaction",
        )
        return VNPayProvider(config)

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
            "vnp_TmnCode": "CONF0001",
            "vnp_TransactionNo": "14226112" if outcome is ProviderOutcome.SUCCEEDED else "0",
            "vnp_TransactionStatus": codes[1],
            "vnp_TxnRef": REFERENCE,
            **changes,
        }

    def genuine(self, outcome: ProviderOutcome, **changes: str) -> Inbound:
        return _get(_vnpay_query(self.fields(outcome, **changes)))

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
        query = urlsplit(url).query
        return [Variant("the checkout URL's query", _get(query))]


def _signed_with_empties(fields: dict[str, str]) -> str:
    signed = "&".join(f"{quote(k, safe='')}={quote(v, safe='').replace('%20', '+')}" for k, v in sorted(fields.items()))
    return f"{signed}&vnp_SecureHash={_vnpay_hash(signed)}"


KITS: list[Any] = [VNPayKit()]
