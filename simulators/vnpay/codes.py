"""The VNPay code tables the simulator answers with, kept apart from adapters/vnpay so that a wrong code on
one side shows up as a failing test instead of agreeing with itself.

Texts are VNPay's published descriptions (payments.md §2.1; lehuygiang28/vnpay response-map.constant.ts).
"""

from __future__ import annotations

API_VERSION = "2.1.0"

# Every vnp_ResponseCode a finished payment may carry on the return URL, the IPN and querydr.
PAYMENT_RESULTS: dict[str, str] = {
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

# vnp_ResponseCode of the merchant web API (querydr and refund) and its documented description.
API_OK = "00"
API_INVALID_TMN_CODE = "02"
API_BAD_FORMAT = "03"
API_NOT_FOUND = "91"
API_DUPLICATE_REQUEST = "94"
API_NOT_SUCCESSFUL = "95"
API_INVALID_CHECKSUM = "97"
API_OTHER_ERROR = "99"

API_RESULTS: dict[str, str] = {
    API_OK: "Yêu cầu thành công",
    API_INVALID_TMN_CODE: "Mã định danh kết nối không hợp lệ (kiểm tra lại TmnCode)",
    API_BAD_FORMAT: "Dữ liệu gửi sang không đúng định dạng",
    API_NOT_FOUND: "Không tìm thấy giao dịch yêu cầu",
    API_DUPLICATE_REQUEST: "Yêu cầu trùng lặp trong thời gian giới hạn của API",
    API_NOT_SUCCESSFUL: "Giao dịch này không thành công bên VNPAY. VNPAY từ chối xử lý yêu cầu",
    API_INVALID_CHECKSUM: "Checksum không hợp lệ",
    API_OTHER_ERROR: "Các lỗi khác",
}

# vnp_TransactionType: what querydr reports and what a refund asks for.
KIND_PAYMENT = "01"
KIND_FULL_REFUND = "02"
KIND_PARTIAL_REFUND = "03"
