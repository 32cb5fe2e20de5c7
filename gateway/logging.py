"""structlog set-up: JSON lines, a request id per request, personal data masked before anything is written.

Decree 13/2023 and Law 91/2025 treat phone numbers, citizen ids (CCCD/CMND) and addresses as personal
data, so masking happens in the processor chain rather than at each call site: a forgotten call site
cannot leak.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

import msgspec
import structlog

SENSITIVE_KEYS = frozenset(
    {
        "phone",
        "sdt",
        "payer_phone",
        "email",
        "payer_email",
        "address",
        "dia_chi",
        "cccd",
        "cmnd",
        "so_dinh_danh",
        "full_name",
        "payer_name",
        "name_on_card",
        "card_number",
        "password",
        "api_key",
        "authorization",
        "secret",
        "hash_secret",
        "vnp_securehash",
    }
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# CCCD is 12 digits, CMND 9; VN mobile numbers are 0 or +84 followed by 9 digits.
# Bounded by non-alphanumerics so that digits inside hex ids and hashes are left alone.
_PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+?84|0)\d{9}(?![0-9A-Za-z])")
_CITIZEN_ID = re.compile(r"(?<![0-9A-Za-z])(?:\d{12}|\d{9})(?![0-9A-Za-z])")


# Every rule above needs an "@" or a run of nine digits: one search spares most values the three rules.
_MAYBE_PERSONAL = re.compile(r"@|\d{9}")


def mask_text(text: str) -> str:
    if not _MAYBE_PERSONAL.search(text):
        return text
    text = _EMAIL.sub(lambda m: m.group(0)[0] + "***@***", text)
    text = _PHONE.sub(lambda m: "*" * (len(m.group(0)) - 3) + m.group(0)[-3:], text)
    return _CITIZEN_ID.sub(lambda m: "*" * (len(m.group(0)) - 3) + m.group(0)[-3:], text)


def mask_value(key: str, value: Any) -> Any:
    if key.lower() in SENSITIVE_KEYS and value not in (None, ""):
        return "***"
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(key, v) for v in value]
    return value


def mask_personal_data(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    return {k: mask_value(k, v) for k, v in event_dict.items()}


def _json_line(event: Any, **_: Any) -> str:
    # msgspec rather than json.dumps: one line per request is written, so its cost is every request's.
    return msgspec.json.encode(event, enc_hook=str).decode()


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    renderer: Any = structlog.processors.JSONRenderer(_json_line) if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_personal_data,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    # These libraries log full URLs, and VNPay puts its signed parameters in the query string.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
