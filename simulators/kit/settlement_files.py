"""A merchant's daily settlement file, as each simulator's provider gives it, and the discrepancies a test or
a demo tells it to carry. Each simulator says what its rows are (its settlement_file.py); this writes
them as CSV (UTF-8, CRLF) or as an Excel workbook and serves them under /_sim/<name>/settlement.

Discrepancies (PUT /_sim/<name>/settlement/discrepancies, JSON; GET shows them, DELETE clears them), by
the value of the row's key column (the merchant's order reference):
  drop: [ref]              the row is left out
  amounts: {ref: đồng}     the row's amount is changed
  statuses: {ref: value}   the row's status column is changed (to a failure code, say)
  duplicate: [ref]         the row is written twice
  extra: n                 n rows of transactions the merchant never made are added
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Request, Response, delete, get, put
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from pydantic import BaseModel, ConfigDict, Field, ValidationError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Discrepancies(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    drop: list[str] = Field(default_factory=list, max_length=1000)
    amounts: dict[str, int] = Field(default_factory=dict, max_length=1000)
    statuses: dict[str, str] = Field(default_factory=dict, max_length=1000)
    duplicate: list[str] = Field(default_factory=list, max_length=1000)
    extra: int = Field(default=0, ge=0, le=1000)


@dataclass(frozen=True)
class FileLayout:
    name: str  # the simulator's name, as in /_sim/<name>
    columns: tuple[str, ...]
    key: str  # the column discrepancies name rows by
    amount: str
    status: str
    xlsx: bool
    rows: Callable[[State, date], list[dict[str, Any]]]  # the day's rows, in order
    invented: Callable[[int, date], dict[str, Any]]  # the n-th row of a transaction nobody made


def with_discrepancies(
    layout: FileLayout, rows: list[dict[str, Any]], d: Discrepancies, day: date
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for row in rows:
        ref = str(row[layout.key])
        if ref in d.drop:
            continue
        row = dict(row)
        if ref in d.amounts:
            row[layout.amount] = d.amounts[ref]
        if ref in d.statuses:
            row[layout.status] = d.statuses[ref]
        out.append(row)
        if ref in d.duplicate:
            out.append(dict(row))
    out.extend(layout.invented(n, day) for n in range(1, d.extra + 1))
    return out


def as_csv(layout: FileLayout, rows: list[dict[str, Any]]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=layout.columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def as_xlsx(layout: FileLayout, rows: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Settlement")
    sheet.append(list(layout.columns))
    for row in rows:
        sheet.append([row.get(c) for c in layout.columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _problem(status: int, detail: str) -> Response[dict[str, Any]]:
    return Response(
        {"type": "about:blank", "title": "Bad request", "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def settlement_handlers(layout: FileLayout) -> list[HTTPRouteHandler]:
    prefix = f"/_sim/{layout.name}/settlement"
    key = f"{layout.name}_settlement_discrepancies"

    def current(state: State) -> Discrepancies:
        found = state.get(key)
        return found if isinstance(found, Discrepancies) else Discrepancies()

    @get(prefix, sync_to_thread=False)
    def settlement_file(request: Request[Any, Any, Any]) -> Response[Any]:
        raw = request.query_params.get("date", "")
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            return _problem(400, "date is a day as YYYY-MM-DD")
        rows = with_discrepancies(layout, layout.rows(request.app.state, day), current(request.app.state), day)
        suffix, body, media = (
            ("xlsx", as_xlsx(layout, rows), XLSX)
            if layout.xlsx
            else ("csv", as_csv(layout, rows), "text/csv; charset=utf-8")
        )
        disposition = f'attachment; filename="{layout.name}-settlement-{day.isoformat()}.{suffix}"'
        return Response(body, media_type=media, headers={"Content-Disposition": disposition})

    @put(f"{prefix}/discrepancies", status_code=200)
    async def set_discrepancies(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            wanted = Discrepancies.model_validate_json(await request.body())
        except ValidationError as exc:
            return _problem(422, str(exc.errors()[0]["msg"]))
        request.app.state[key] = wanted
        return Response(wanted.model_dump())

    @get(f"{prefix}/discrepancies", sync_to_thread=False)
    def show_discrepancies(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return current(request.app.state).model_dump()

    @delete(f"{prefix}/discrepancies", status_code=204, sync_to_thread=False)
    def clear_discrepancies(request: Request[Any, Any, Any]) -> None:
        request.app.state[key] = Discrepancies()

    return [settlement_file, set_discrepancies, show_discrepancies, clear_discrepancies]


def fee(amount: int, basis_points: int, minimum: int = 0) -> int:
    """A provider's charge for one transaction: a share of it, rounded down, at least `minimum` đồng."""
    return max(amount * basis_points // 10_000, minimum)
