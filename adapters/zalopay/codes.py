"""ZaloPay's codes and how each maps onto the gateway's provider outcomes."""

from __future__ import annotations

from contracts.providers import ProviderOutcome, Verdict

# return_code of /v2/create, /v2/query, /v2/refund, /v2/query_refund.
SUCCESS = 1
FAIL = 2
PROCESSING = 3

RETURN_CODES: dict[int, str] = {
    SUCCESS: "Thành công",
    FAIL: "Thất bại",
    PROCESSING: "Đơn hàng chưa thanh toán hoặc đang xử lý",
}

# sub_return_code that say the request itself was refused (ZaloPay's status-code page): repeating it
# unchanged gets the same answer.
REJECTED_SUB_CODES: dict[int, str] = {
    -68: "app_trans_id trùng",
    -401: "Dữ liệu yêu cầu không hợp lệ",
    -402: "app_id hoặc mac không hợp lệ",
    -403: "Ứng dụng bị khóa",
    -405: "Thiếu tham số",
}
# sub_return_code of a failure at ZaloPay, after which the same request may succeed: rate limited,
# system error, maintenance.
UNAVAILABLE_SUB_CODES: dict[int, str] = {
    -429: "Vượt quá giới hạn gọi",
    -500: "Lỗi hệ thống ZaloPay",
    -999: "Hệ thống bảo trì",
}

# return_code the merchant answers a callback with. ZaloPay calls again (at most 3 times) only after 0
# or no answer, so 0 is how the gateway asks for another try after a failure of its own. An unknown order
# or a wrong amount cannot be mended by sending the same callback again: they are answered -1, which stops
# the callbacks and leaves the order to the gateway's queries and to a person.
CALLBACK_ACKS: dict[Verdict, tuple[int, str]] = {
    Verdict.RECORDED: (1, "success"),
    Verdict.ALREADY_FINAL: (1, "success"),
    Verdict.INVALID_SIGNATURE: (-1, "mac not equal"),
    Verdict.UNKNOWN_ORDER: (-1, "order not found"),
    Verdict.AMOUNT_MISMATCH: (-1, "amount mismatch"),
    Verdict.RETRY: (0, "retry"),
}


class CallError(Exception):
    """An answer that says nothing of the order: the request was refused, or ZaloPay could not act."""

    def __init__(self, unavailable: bool) -> None:
        self.unavailable = unavailable


def check_call(return_code: int, sub_return_code: int | None) -> None:
    """Raise CallError when an answer reports a failure of the call rather than of the order."""
    codes = {return_code, sub_return_code}
    if codes & UNAVAILABLE_SUB_CODES.keys():
        raise CallError(unavailable=True)
    if codes & REJECTED_SUB_CODES.keys():
        raise CallError(unavailable=False)
    if return_code not in RETURN_CODES:
        # A code ZaloPay does not document for this API: nothing can be read from it, so ask again later.
        raise CallError(unavailable=True)


def payment_outcome(return_code: int) -> ProviderOutcome:
    """/v2/query: 1 paid, 2 failed (cancelled, expired, refused), 3 unpaid or still in progress."""
    return {SUCCESS: ProviderOutcome.SUCCEEDED, FAIL: ProviderOutcome.FAILED}.get(return_code, ProviderOutcome.PENDING)


def refund_outcome(return_code: int) -> ProviderOutcome:
    """/v2/refund and /v2/query_refund: 1 refunded, 2 failed, 3 in progress."""
    return {SUCCESS: ProviderOutcome.SUCCEEDED, FAIL: ProviderOutcome.FAILED}.get(return_code, ProviderOutcome.PENDING)
