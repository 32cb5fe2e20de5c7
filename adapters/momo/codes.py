"""MoMo's resultCode table and how each code maps onto the gateway's provider outcomes."""

from __future__ import annotations

from contracts.providers import ProviderOutcome, Verdict

RESULT_CODES: dict[int, str] = {
    0: "Thành công",
    10: "Hệ thống đang được bảo trì",
    11: "Truy cập bị từ chối",
    12: "Phiên bản API không được hỗ trợ cho yêu cầu này",
    13: "Xác thực doanh nghiệp thất bại",
    20: "Yêu cầu sai định dạng",
    21: "Yêu cầu bị từ chối vì số tiền giao dịch không hợp lệ",
    22: "Số tiền giao dịch không hợp lệ",
    40: "RequestId bị trùng",
    41: "OrderId bị trùng",
    42: "OrderId không hợp lệ hoặc không được tìm thấy",
    43: "Yêu cầu bị từ chối vì xung đột trong quá trình xử lý giao dịch",
    99: "Lỗi không xác định",
    1000: "Giao dịch đã được khởi tạo, chờ người dùng xác nhận thanh toán",
    1001: "Giao dịch thất bại do tài khoản người dùng không đủ tiền",
    1002: "Giao dịch bị từ chối do nhà phát hành tài khoản thanh toán",
    1003: "Giao dịch bị đã bị hủy",
    1004: "Giao dịch thất bại do số tiền thanh toán vượt quá hạn mức thanh toán của người dùng",
    1005: "Giao dịch thất bại do url hoặc QR code đã hết hạn",
    1006: "Giao dịch thất bại do người dùng đã từ chối xác nhận thanh toán",
    1007: "Giao dịch bị từ chối vì tài khoản người dùng đang ở trạng thái tạm khóa",
    1080: "Giao dịch hoàn tiền thất bại trong quá trình xử lý",
    1081: "Giao dịch hoàn tiền bị từ chối. Giao dịch thanh toán ban đầu có thể đã được hoàn",
    1088: "Giao dịch hoàn tiền bị từ chối. Giao dịch thanh toán ban đầu không hỗ trợ hoàn tiền",
    7000: "Giao dịch đang được xử lý",
    7002: "Giao dịch đang được xử lý bởi nhà cung cấp loại hình thanh toán",
    8000: "Giao dịch đang ở trạng thái cần được người dùng xác nhận thanh toán lại",
    9000: "Giao dịch đã được xác nhận thành công",
}

SUCCESS = 0
# Not finished: the citizen has not confirmed yet (1000, 8000) or MoMo or its bank is still at it.
IN_PROGRESS = frozenset({1000, 7000, 7002, 8000})
# Authorized, not captured: the money is held. With autoCapture (the default, what the gateway sends)
# MoMo captures and reports 0 next, so the gateway keeps asking.
AUTHORIZED = 9000
ORDER_NOT_FOUND = 42
# Codes that say the API call itself failed and may go through later: maintenance, a requestId still in
# flight, a conflict with a transaction in progress, an unknown error.
RETRYABLE_API_CODES = frozenset({10, 40, 43, 99})
# Codes that say the request was refused and nothing of the transaction.
REFUSED_API_CODES = frozenset({11, 12, 13, 20, 21, 22, 41})


def payment_outcome(result_code: int) -> ProviderOutcome:
    """Outcome of a payment from its resultCode (IPN, redirect, query). Only 0 is money received; every
    code that is neither success nor in progress is a final failure (1003/1006 cancelled, 1005 expired…)."""
    if result_code == SUCCESS:
        return ProviderOutcome.SUCCEEDED
    if result_code in IN_PROGRESS:
        return ProviderOutcome.PENDING
    if result_code == AUTHORIZED:
        return ProviderOutcome.UNDER_REVIEW
    return ProviderOutcome.FAILED


def query_outcome(result_code: int) -> ProviderOutcome | None:
    """Outcome of a query answer; None when the call itself failed and says nothing of the payment."""
    if result_code == ORDER_NOT_FOUND:
        return ProviderOutcome.NOT_FOUND
    if result_code in RETRYABLE_API_CODES or result_code in REFUSED_API_CODES:
        return None
    return payment_outcome(result_code)


def refund_outcome(result_code: int) -> ProviderOutcome:
    """Outcome of a refund (its answer, or its row in a query's refundTrans)."""
    if result_code == SUCCESS:
        return ProviderOutcome.SUCCEEDED
    if result_code in IN_PROGRESS:
        return ProviderOutcome.PENDING
    return ProviderOutcome.FAILED


def describe(result_code: int) -> str:
    return RESULT_CODES.get(result_code, RESULT_CODES[99])


# MoMo counts an IPN as delivered only when the merchant answers HTTP 204 (within 15 s); anything else and
# it delivers again. So 204 answers every verdict that another delivery cannot change: recorded, already
# final, and the ones no repetition of the same signed message will ever fix (an order the gateway does
# not have, an amount that is not the order's, a signature that does not verify: these are kept for a
# human instead). Only RETRY, a failure of ours, asks for another delivery, with a 500.
ACK_STATUS: dict[Verdict, int] = {
    Verdict.RECORDED: 204,
    Verdict.ALREADY_FINAL: 204,
    Verdict.UNKNOWN_ORDER: 204,
    Verdict.AMOUNT_MISMATCH: 204,
    Verdict.INVALID_SIGNATURE: 204,
    Verdict.RETRY: 500,
}
