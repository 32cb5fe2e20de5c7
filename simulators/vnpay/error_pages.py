"""The codes of VNPay's payment error page, `/paymentv2/Payment/Error.html?code=NN`, and where each was found.

VNPay does not publish this table. Each code below was matched to its cause from public material found
with the reference search tools (third-party code and notes that quote the sandbox's behaviour):

* 70 "Sai chữ ký" — VERIFIED. Invalid vnp_SecureHash. Several public integrations redirect to or test
  for `Error.html?code=70` on a bad signature (e.g. pepeOnUniversity/Project-Web-Ecommerce
  FIX_VNPAY_ERROR_70.md; a saved troubleshooting note quoting the page text "Sai chữ ký / Mã lỗi: 70";
  a merchant-config checker that treats a `code=70` Location header as "wrong Secret Key").
* 72 "Không tìm thấy website" — VERIFIED. Unknown vnp_TmnCode. anhcill/Book-neu FIX_VNPAY_ERROR.md
  ("Không Tìm Thấy Website (Error Code 72)"); the same merchant-config checker maps `code=72` to a wrong
  Terminal ID.
* 71 "Website này chưa được phê duyệt" — VERIFIED meaning (Truc4p/final-year-project
  VNPAY_ERROR_71_DIAGNOSIS.md, HoDuongQuocHuy278/ChoDoCu2) but NOT EMITTED: the simulator has no
  unapproved terminals.
* 03 "Dữ liệu gửi sang không đúng định dạng" — VERIFIED. Missing/malformed fields (amount, dates,
  version, command, currency). vlnguyen910/EV-Battery-Swap-Station-Management-System
  docs/VNPAY_TROUBLESHOOTING.md; the legacy 2.0 code table in lehuygiang28/vnpay
  src/constants/response-map.constant.ts has the same text for 03.
* 15 "Giao dịch đã quá thời gian chờ thanh toán" — VERIFIED. A saved copy of VNPay's own payment-method
  page sets `errorUrl = '/paymentv2/Payment/Error.html?code=15'` with a 899 s timer; the message text is
  quoted by minhhquann88/DoAn FIX_VNPAY_TIMEOUT.md and VNDT1625/Caro. Used for a vnp_ExpireDate in the
  past and for a payment page left open past its session.
* 76 "Ngân hàng thanh toán không được hỗ trợ" — VERIFIED meaning (a public PHP integration comment:
  "Ngân hàng thanh toán không được hỗ trợ (Payment/Error.html?code=76)"). Used for a vnp_BankCode the
  simulated terminal does not offer.
* 01 "Giao dịch đã tồn tại" — PARTIALLY VERIFIED. A public NestJS payments service notes that VNPay
  answers `Error.html?code=01` when the same vnp_TxnRef is submitted twice; the text is the legacy 2.0
  code 01 of lehuygiang28/vnpay. Used for a TxnRef that is finished, or pending with another amount.
* 99 "Lỗi không xác định" — UNVERIFIED. Used for an unknown or stale payment-page session token.
"""

from __future__ import annotations

ERROR_PAGE_PATH = "/paymentv2/Payment/Error.html"

ERROR_TRANSACTION_EXISTS = "01"
ERROR_BAD_FORMAT = "03"
ERROR_PAYMENT_TIMEOUT = "15"
ERROR_INVALID_SIGNATURE = "70"
ERROR_WEBSITE_NOT_APPROVED = "71"
ERROR_UNKNOWN_WEBSITE = "72"
ERROR_BANK_NOT_SUPPORTED = "76"
ERROR_UNKNOWN = "99"

ERROR_PAGE_MESSAGES: dict[str, str] = {
    ERROR_TRANSACTION_EXISTS: "Giao dịch đã tồn tại",
    ERROR_BAD_FORMAT: "Dữ liệu gửi sang không đúng định dạng",
    ERROR_PAYMENT_TIMEOUT: ("Giao dịch đã quá thời gian chờ thanh toán. Quý khách vui lòng thực hiện lại giao dịch"),
    ERROR_INVALID_SIGNATURE: "Sai chữ ký",
    ERROR_WEBSITE_NOT_APPROVED: "Website này chưa được phê duyệt",
    ERROR_UNKNOWN_WEBSITE: "Không tìm thấy website",
    ERROR_BANK_NOT_SUPPORTED: "Ngân hàng thanh toán không được hỗ trợ",
    ERROR_UNKNOWN: "Lỗi không xác định",
}


def error_page_url(code: str) -> str:
    # VNPay answers with a relative Location, which clients checking the redirect rely on.
    return f"{ERROR_PAGE_PATH}?code={code}"


def error_page_message(code: str) -> str:
    return ERROR_PAGE_MESSAGES.get(code, ERROR_PAGE_MESSAGES[ERROR_UNKNOWN])
