"""The simulator's own code tables: MyVNPost status codes, the reasons a delivery fails, the scripted
progressions an order can follow, and the names the control API takes for statuses."""

from __future__ import annotations

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

CREATED = 1
PICKED_UP = 6
ACCEPTED = 7  # the item number is assigned here
FAILED = 15
DELIVERED = 14
COD_PAID = 21
COLLECTION_CANCELLED = 9
CANCELLABLE = frozenset({0, 1, 2, 3, 4})
# After these nothing more happens to an order (14 is final unless COD is still to be paid).
ENDS = frozenset({9, 19, 21, 22})

# Why a delivery failed (the push's causeCode/causeName); the simulator's list, not VNPost's (unpublished).
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

_TO_THE_OFFICE = (6, 7, 10, 11, 12)
# What happens to an order after it is created, step by step; (code, cause) with a cause on a failure.
SCENARIOS: dict[str, tuple[tuple[int, str | None], ...]] = {
    "delivered": (*((c, None) for c in _TO_THE_OFFICE), (14, None)),
    "returned": (
        *((c, None) for c in _TO_THE_OFFICE),
        (15, "L01"),
        (12, None),
        (15, "L05"),
        (16, None),  # held at the delivery office until the return is approved
        (17, None),
        (18, None),
        (19, None),
    ),
    "cancelled": ((9, None),),
    "cod": (*((c, None) for c in _TO_THE_OFFICE), (14, None), (21, None)),
}

# Names the control API takes for a status, besides the code itself.
STATUS_BY_NAME: dict[str, int] = {
    "created": 1,
    "assigned": 2,
    "picking_up": 4,
    "pickup_failed": 5,
    "picked_up": 6,
    "accepted": 7,
    "cancelled": 9,
    "in_transit": 10,
    "at_delivery_office": 11,
    "out_for_delivery": 12,
    "delivered": 14,
    "failed": 15,
    "held": 16,
    "return_approved": 17,
    "returning": 18,
    "returned": 19,
    "cod_paid": 21,
    "delivery_cancelled": 22,
}

# Services the simulator books (postal.md §2.1) and the fee table each uses.
SERVICES: dict[str, str] = {
    "CTN001": "economy",
    "CTN007": "economy",
    "CTN009": "economy",
    "ETN011": "express",
    "ETN013": "urgent",
    "ETN031": "express",
    "ETN037": "express",
}
PICKUP_AT_ADDRESS = "GTG026"
COD = "GTG021"
COD_PROP = "PROP0018"
POSTAGE_FROM_RECIPIENT = "GTG071"
PROOF_OF_DELIVERY = "GTG003"
DECLARED_VALUE = "GTG008"
ADDONS = frozenset({PICKUP_AT_ADDRESS, COD, POSTAGE_FROM_RECIPIENT, PROOF_OF_DELIVERY, DECLARED_VALUE})
