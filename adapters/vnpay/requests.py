"""Pure builders of what the gateway sends VNPay: the payment URL and the merchant API bodies."""

from __future__ import annotations

from datetime import datetime

from adapters.vnpay import signing
from adapters.vnpay.codes import (
    TRANSACTION_TYPE_FULL_REFUND,
    TRANSACTION_TYPE_PARTIAL_REFUND,
    VERSION,
)
from adapters.vnpay.config import VNPayConfig
from adapters.vnpay.wire import format_time, plain_text, to_wire_amount
from contracts.providers import CheckoutOrder, RefundOrder, TransactionRef

# VNPay's category code for bill payment (vnp_OrderType); fees of a dossier are bills of the agency.
ORDER_TYPE_BILL_PAYMENT = "250000"


def payment_params(config: VNPayConfig, order: CheckoutOrder) -> dict[str, str]:
    """The payment URL's fields, without the hash."""
    return {
        "vnp_Version": VERSION,
        "vnp_Command": "pay",
        "vnp_TmnCode": config.tmn_code,
        "vnp_Amount": to_wire_amount(order.amount),
        "vnp_CurrCode": "VND",
        "vnp_TxnRef": order.reference,
        "vnp_OrderInfo": plain_text(order.description),
        "vnp_OrderType": ORDER_TYPE_BILL_PAYMENT,
        "vnp_Locale": order.locale,
        "vnp_ReturnUrl": order.return_url,
        "vnp_IpAddr": order.client_ip,
        "vnp_CreateDate": format_time(order.created_at),
        "vnp_ExpireDate": format_time(order.expires_at),
    }


def payment_url(config: VNPayConfig, order: CheckoutOrder) -> str:
    # The signed string is the query string itself (signing.canonical_query): encoded once, used twice.
    query = signing.canonical_query(payment_params(config, order))
    return f"{config.payment_url}?{query}&vnp_SecureHash={signing.hmac_sha512(config.hash_secret, query)}"


def querydr_body(config: VNPayConfig, ref: TransactionRef, request_id: str, now: datetime) -> dict[str, str]:
    body = {
        "vnp_RequestId": request_id,
        "vnp_Version": VERSION,
        "vnp_Command": "querydr",
        "vnp_TmnCode": config.tmn_code,
        "vnp_TxnRef": ref.reference,
        "vnp_OrderInfo": plain_text(f"Truy van giao dich {ref.reference}"),
        "vnp_TransactionDate": format_time(ref.created_at),
        "vnp_CreateDate": format_time(now),
        "vnp_IpAddr": config.server_ip,
    }
    if ref.transaction_id:
        body["vnp_TransactionNo"] = ref.transaction_id
    body["vnp_SecureHash"] = signing.pipe_checksum(body, signing.QUERYDR_REQUEST_FIELDS, config.hash_secret)
    return body


def refund_body(config: VNPayConfig, order: RefundOrder) -> dict[str, str]:
    body = {
        "vnp_RequestId": order.request_id,
        "vnp_Version": VERSION,
        "vnp_Command": "refund",
        "vnp_TmnCode": config.tmn_code,
        "vnp_TransactionType": TRANSACTION_TYPE_FULL_REFUND if order.full else TRANSACTION_TYPE_PARTIAL_REFUND,
        "vnp_TxnRef": order.payment.reference,
        "vnp_Amount": to_wire_amount(order.amount),
        "vnp_OrderInfo": plain_text(order.reason or f"Hoan tien {order.payment.reference}"),
        # VNPay accepts "0" when the merchant does not know VNPay's transaction number.
        "vnp_TransactionNo": order.payment.transaction_id or "0",
        "vnp_TransactionDate": format_time(order.payment.created_at),
        "vnp_CreateBy": plain_text(order.requested_by, 64) or "dvc-gateway",
        "vnp_CreateDate": format_time(order.requested_at),
        "vnp_IpAddr": config.server_ip,
    }
    body["vnp_SecureHash"] = signing.pipe_checksum(body, signing.REFUND_REQUEST_FIELDS, config.hash_secret)
    return body
