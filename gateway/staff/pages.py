"""Rendering staff pages: Jinja templates beside this module, Vietnamese text, and the headers every page
carries (no caching of personal data, no framing, scripts and styles from this origin only)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from litestar import MediaType, Response
from litestar.datastructures import Cookie

from gateway.clock import VN_TZ

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

ROLE_LABELS = {"postal": "Bưu cục", "finance": "Tài chính"}

HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def vn_time(value: datetime | None) -> str:
    return value.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y") if value else ""


def vnd(value: int) -> str:
    """Đồng as Vietnamese write them: 1.234.567."""
    return f"{value:,}".replace(",", ".")


_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
_templates.filters.update(vn_time=vn_time, vnd=vnd)
_templates.globals.update(role_labels=ROLE_LABELS)


def page(template: str, status_code: int = 200, cookies: list[Cookie] | None = None, **context: Any) -> Response[str]:
    context.setdefault("user", None)
    html = _templates.get_template(template).render(**context)
    return Response(html, media_type=MediaType.HTML, status_code=status_code, headers=HEADERS, cookies=cookies)
