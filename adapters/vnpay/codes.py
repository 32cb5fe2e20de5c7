"""VNPay's code tables and how each maps onto the gateway's provider outcomes."""

from __future__ import annotations

from contracts.providers import ProviderOutcome, Verdict

VERSION = "2.1.0"

# vnp_ResponseCode of a payment (return URL, IPN, querydr).
PAYMENT_RESPONSE_CODES: dict[str, str] = {
    "00": "Giao dịch thành công",
    "07": "Trừ tiền thành công. Giao dịch bị nghi ngờ (liên quan tới lừa đảo, giao dịch bất thường)",
    "09": "Thẻ/Tài khoản của khách hàng chưa đăng ký dịch vụ InternetBanking tại ngân hàng",
    "10": "Khách hàng xác thực thông tin thẻ/tài khoản không đúng quá 3 lần",
    "11": "Đã hết hạn chờ thanh toán",
    "12": "Thẻ/Tài khoản của khách hàng bị khóa",
    "13": "Quý khách nhập sai mật khẩu xác thực giao dịch (OTP)",
    "24": "Khách hàng hủy giao dịch",
    "51": "Tài khoản của quý khách không đủ số dư để thực hiện giao dịch",
    "65": "Tài khoản của Quý khách đã vượt quá hạn mức giao dịch trong ngày",
    "75": "Ngân hàng thanh toán đang bảo trì",
    "79": "KH nhập sai mật khẩu thanh toán quá số lần quy định",
    "99": "Các lỗi khác",
}

# vnp_TransactionStatus (IPN, return URL, querydr).
TRANSACTION_STATUS_CODES: dict[str, str] = {
    "00": "Giao dịch thành công",
    "01": "Giao dịch chưa hoàn tất",
    "02": "Giao dịch bị lỗi",
    "04": "Giao dịch đảo (Khách hàng đã bị trừ tiền tại Ngân hàng nhưng GD chưa thành công ở VNPAY)",
    "05": "VNPAY đang xử lý giao dịch này (GD hoàn tiền)",
    "06": "VNPAY đã gửi yêu cầu hoàn tiền sang Ngân hàng (GD hoàn tiền)",
    "07": "Giao dịch bị nghi ngờ gian lận",
    "09": "GD Hoàn trả bị từ chối",
}

# vnp_ResponseCode of the merchant web API (querydr, refund).
API_RESPONSE_CODES: dict[str, str] = {
    "00": "Yêu cầu thành công",
    "02": "Mã định danh kết nối không hợp lệ (kiểm tra lại TmnCode)",
    "03": "Dữ liệu gửi sang không đúng định dạng",
    "91": "Không tìm thấy giao dịch yêu cầu",
    "94": "Yêu cầu trùng lặp trong thời gian giới hạn của API",
    "95": "Giao dịch này không thành công bên VNPAY. VNPAY từ chối xử lý yêu cầu",
    "97": "Checksum không hợp lệ",
    "99": "Các lỗi khác",
}

# RspCode the merchant answers an IPN with, and VNPay's sample messages.
IPN_ACK_MESSAGES: dict[str, str] = {
    "00": "Confirm Success",
    "01": "Order not found",
    "02": "Order already confirmed",
    "04": "Invalid amount",
    "97": "Invalid signature",
    "99": "Unknow error",
}

# The RspCode for each verdict of the gateway, in the order of VNPay's sample: checksum (97), order
# exists (01), amount (04), order still open (02), recorded (00). VNPay re-sends an IPN until it gets
# 00 or 02, so 99 is also how the gateway asks for another try after a failure of its own.
IPN_ACK_CODES: dict[Verdict, str] = {
    Verdict.RECORDED: "00",
    Verdict.UNKNOWN_ORDER: "01",
    Verdict.ALREADY_FINAL: "02",
    Verdict.AMOUNT_MISMATCH: "04",
    Verdict.INVALID_SIGNATURE: "97",
    Verdict.RETRY: "99",
}

# vnp_TransactionType
TRANSACTION_TYPE_PAYMENT = "01"
TRANSACTION_TYPE_FULL_REFUND = "02"
TRANSACTION_TYPE_PARTIAL_REFUND = "03"
REFUND_TRANSACTION_TYPES = frozenset({TRANSACTION_TYPE_FULL_REFUND, TRANSACTION_TYPE_PARTIAL_REFUND})


def payment_outcome(response_code: str, transaction_status: str) -> ProviderOutcome:
    """Outcome of a payment from the pair VNPay reports on the return URL, the IPN and querydr.

    Only 00/00 is money received. Status 01 (not completed) is not final. Code 07 (debited but
    suspicious) and statuses 05/07 mean money may have moved and a human at VNPay decides, so the
    gateway keeps asking. Everything else is a final failure.
    """
    if response_code == "00" and transaction_status == "00":
        return ProviderOutcome.SUCCEEDED
    if response_code == "07" or transaction_status in {"05", "07"}:
        return ProviderOutcome.UNDER_REVIEW
    if transaction_status == "01":
        return ProviderOutcome.PENDING
    return ProviderOutcome.FAILED


def refund_outcome(response_code: str, transaction_status: str) -> ProviderOutcome:
    """Outcome of a refund request: 00 accepted; the refund itself may still be in flight (05, 06)."""
    if response_code != "00":
        return ProviderOutcome.FAILED
    if transaction_status in {"05", "06"}:
        return ProviderOutcome.PENDING
    if transaction_status == "09":
        return ProviderOutcome.FAILED
    return ProviderOutcome.SUCCEEDED


def refund_query_outcome(transaction_status: str) -> ProviderOutcome | None:
    """Outcome of a refund as querydr reports it; None for a status that says nothing of a refund."""
    return {
        "00": ProviderOutcome.SUCCEEDED,
        "05": ProviderOutcome.PENDING,
        "06": ProviderOutcome.PENDING,
        "09": ProviderOutcome.FAILED,
    }.get(transaction_status)


def describe_payment(response_code: str) -> str:
    return PAYMENT_RESPONSE_CODES.get(response_code, PAYMENT_RESPONSE_CODES["99"])


def query_outcome(api_code: str, transaction_status: str) -> ProviderOutcome | None:
    """Outcome of a querydr answer; None when the API call itself failed and says nothing of the payment."""
    if api_code == "91":
        return ProviderOutcome.NOT_FOUND
    if api_code != "00":
        return None
    return payment_outcome("00", transaction_status)


# API codes after which the same request may succeed later: 94 duplicate within the API's time limit,
# 99 an unspecified error at VNPay.
RETRYABLE_API_CODES = frozenset({"94", "99"})
