"""The resultCodes the simulator answers with, as MoMo's result-code page words them."""

from __future__ import annotations

MESSAGES: dict[int, str] = {
    0: "Thành công.",
    13: "Xác thực doanh nghiệp thất bại.",
    20: "Yêu cầu sai định dạng.",
    22: "Số tiền giao dịch không hợp lệ.",
    40: "RequestId bị trùng.",
    41: "OrderId bị trùng.",
    42: "OrderId không hợp lệ hoặc không được tìm thấy.",
    99: "Lỗi không xác định.",
    1000: "Giao dịch đã được khởi tạo, chờ người dùng xác nhận thanh toán.",
    1001: "Giao dịch thanh toán thất bại do tài khoản người dùng không đủ tiền.",
    1002: "Giao dịch bị từ chối do nhà phát hành tài khoản thanh toán.",
    1003: "Giao dịch bị đã bị hủy.",
    1004: "Giao dịch thất bại do số tiền thanh toán vượt quá hạn mức thanh toán của người dùng.",
    1005: "Giao dịch thất bại do url hoặc QR code đã hết hạn.",
    1006: "Giao dịch thất bại do người dùng đã từ chối xác nhận thanh toán.",
    1081: "Giao dịch hoàn tiền bị từ chối. Giao dịch thanh toán ban đầu có thể đã được hoàn.",
    1088: "Giao dịch hoàn tiền bị từ chối. Giao dịch thanh toán ban đầu không hỗ trợ hoàn tiền.",
    7000: "Giao dịch đang được xử lý.",
    7002: "Giao dịch đang được xử lý bởi nhà cung cấp loại hình thanh toán.",
    8000: "Giao dịch đang ở trạng thái cần được người dùng xác nhận thanh toán lại.",
    9000: "Giao dịch đã được xác nhận thành công.",
}
PENDING = 1000
EXPIRED = 1005  # the link lapsed (orderExpireTime) before the citizen paid
# Results a test may ask the control API to settle an order with (final or not).
SETTLEMENTS = frozenset({0, 1001, 1002, 1003, 1004, 1005, 1006, 7000, 7002, 8000, 9000})


def message(code: int) -> str:
    return MESSAGES.get(code, MESSAGES[99])
