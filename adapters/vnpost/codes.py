"""The one table from MyVNPost's status codes to the gateway's statuses, the codes' names, the services
and add-ons the adapter books, and the reasons a delivery attempt fails.

Status codes and their meaning: MyVNPost's own table (postal.md §2.1); the grouping follows §2.8, with one
deviation, 16, explained below.
"""

from __future__ import annotations

from contracts.shipping import ShipmentStatus

S = ShipmentStatus

STATUS_NAMES: dict[int, str] = {
    0: "Lưu nháp",
    1: "Tạo mới",
    2: "Đã giao bưu tá nhận",
    3: "Đang xử lý",
    4: "Đang nhận hàng",
    5: "Nhận hàng không thành công",
    6: "Đã nhận hàng",
    7: "Bưu cục đã chấp nhận",
    8: "Thu gom không thành công",
    9: "Hủy thu gom",
    10: "Đang vận chuyển",
    11: "Đến bưu cục phát",
    12: "Đang phát",
    13: "Chuyển tiếp",
    14: "Phát thành công",
    15: "Phát không thành công",
    16: "Chờ hoàn tất chuyển hoàn",
    17: "Đã duyệt hoàn",
    18: "Bắt đầu chuyển hoàn",
    19: "Chuyển hoàn thành công",
    20: "Hoàn một phần",
    21: "Đã trả tiền COD",
    22: "Hủy phát",
    101: "EMA - Chấp nhận bưu gửi",
    102: "EMB - Đến bưu cục ngoại dịch đi",
    103: "EMC - Rời bưu cục ngoại dịch đi",
    104: "EMD - Đến bưu cục ngoại dịch đến",
    105: "EME - Lưu giữ tại hải quan",
    106: "EMF - Rời bưu cục ngoại dịch đến",
    107: "EMG - Đến bưu cục phát",
    108: "EMH - Phát không thành công",
    109: "EMI - Phát thành công",
    110: "EMJ - Đến bưu cục trung chuyển",
    111: "EMK - Rời bưu cục trung chuyển",
}

STATUS_MAP: dict[int, ShipmentStatus] = {
    0: S.PENDING,
    1: S.PENDING,
    2: S.PENDING,  # a postman is on the way to collect: not yet in the carrier's hands
    3: S.PENDING,
    4: S.PENDING,
    5: S.EXCEPTION,
    6: S.PICKED_UP,
    7: S.PICKED_UP,
    8: S.EXCEPTION,
    9: S.CANCELLED,
    10: S.IN_TRANSIT,
    11: S.IN_TRANSIT,
    12: S.OUT_FOR_DELIVERY,
    13: S.IN_TRANSIT,
    14: S.DELIVERED,
    15: S.DELIVERY_FAILED,
    # §2.8 groups 16 with the return leg. It is the item waiting at the delivery office for the return to
    # be approved (17) and to start (18): kept at the post office, which is what the public service calls
    # held (§4.5: delivery_failed → on_hold → return → returned_to_agency).
    16: S.ON_HOLD,
    17: S.RETURN_TO_SENDER,
    18: S.RETURN_TO_SENDER,
    19: S.RETURNED_TO_AGENCY,  # the sender of a result is the agency; of a dossier, the citizen (see below)
    20: S.RETURN_TO_SENDER,
    21: S.DELIVERED,  # COD remitted: delivered, and the money is on its way to the sender
    22: S.CANCELLED,
    101: S.PICKED_UP,  # EMA
    102: S.IN_TRANSIT,
    103: S.IN_TRANSIT,
    104: S.IN_TRANSIT,
    105: S.ON_HOLD,  # EME, held by customs
    106: S.IN_TRANSIT,
    107: S.IN_TRANSIT,
    108: S.DELIVERY_FAILED,  # EMH
    109: S.DELIVERED,  # EMI
    110: S.IN_TRANSIT,
    111: S.IN_TRANSIT,
}
# 19 is the end of a return to the sender. For a result that is the agency, the service's own end; for a
# dossier the post collected, the gateway knows the shipment's kind and reads it as the citizen's.

ACCEPTED = 7  # the post office has the item: the S10 item number exists from here on
COD_PAID = 21
# Codes at which MyVNPost still takes a cancellation: nothing has left the sender yet.
CANCELLABLE = frozenset({0, 1, 2, 3, 4})


def status_of(code: int) -> ShipmentStatus:
    """The gateway's status of a MyVNPost code; a code outside the table is an exception to look at."""
    return STATUS_MAP.get(code, S.EXCEPTION)


def status_name(code: int) -> str:
    return STATUS_NAMES.get(code, f"Trạng thái {code}")


# Service codes (postal.md §2.1, data/shipping.type.csv).
SERVICES: dict[str, str] = {
    "CTN001": "Tiết kiệm tài liệu/hàng hóa",
    "CTN007": "Tiết kiệm TMĐT",
    "CTN009": "Tiêu chuẩn TMĐT",
    "ETN011": "Tài liệu/hàng hóa nhanh",
    "ETN013": "Hỏa tốc",
    "ETN031": "TMĐT nhanh",
    "ETN037": "TMĐT đồng giá nhanh",
}

# Add-on services (postal.md §2.1).
PICKUP_AT_ADDRESS = "GTG026"  # Chấp nhận tại địa chỉ
COD = "GTG021"  # Phát hàng thu tiền (COD), amount in PROP0018
COD_PROP = "PROP0018"
POSTAGE_FROM_RECIPIENT = "GTG071"  # Thu hộ phí ship
# Proof of delivery (báo phát). UNVERIFIED: no source names MyVNPost's code for it; the legacy API calls
# it UseBaoPhat (§2.2). The simulator accepts this code.
PROOF_OF_DELIVERY = "GTG003"

# Why a delivery attempt failed (CauseCode/CauseName of the legacy push, §2.2). UNVERIFIED: VNPost
# publishes no list of its cause codes; these cover the reasons the public service records (§4.5, and
# PagoPA's M01–M09 for the same job) and the simulator sends the same.
FAILURE_REASONS: dict[str, str] = {
    "L01": "Người nhận vắng nhà, hẹn phát lại",
    "L02": "Không tìm thấy địa chỉ người nhận",
    "L03": "Người nhận từ chối nhận",
    "L04": "Người nhận đã chuyển đi nơi khác",
    "L05": "Không liên lạc được với người nhận",
    "L06": "Người nhận không xuất trình được giấy tờ tùy thân",
    "L07": "Người nhận chưa nộp đủ tiền thu hộ",
    "L08": "Bất khả kháng (thiên tai, dịch bệnh)",
    "L09": "Lý do khác",
}
