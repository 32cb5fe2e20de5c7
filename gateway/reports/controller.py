"""/v1/reports: daily and monthly totals (gateway/reports/totals.py) as JSON, CSV or XLSX, for finance."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.params import QueryParameter

from gateway.db.request_session import request_session
from gateway.errors import Unprocessable
from gateway.openapi import PORTAL_KEY, problems
from gateway.reconciliation.access import finance_actor
from gateway.reports import formats
from gateway.reports.totals import Report, build, day_period, month_period

Format = Literal["json", "csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _answer(report: Report, fmt: Format) -> Response[Any]:
    name = f"dvc-gateway-{report.period}"
    if fmt == "csv":
        return Response(
            formats.as_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            formats.as_xlsx(report),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return Response(formats.as_json(report))


class ReportController(Controller):
    path = "/v1/reports"
    tags = ["reports"]
    security = PORTAL_KEY

    # Not READ_ONLY: streaming the payments takes a server-side cursor, which PostgreSQL opens in a transaction.
    @get("/daily", operation_id="dailyReport", responses=problems(403, 422))
    async def daily(
        self,
        request: Request[Any, Any, Any],
        state: State,
        date_: Annotated[str, QueryParameter(name="date", pattern=r"^\d{4}-\d{2}-\d{2}$")],
        format_: Annotated[Format, QueryParameter(name="format")] = "json",
    ) -> Response[Any]:
        """Totals of one day (Vietnam's time) by agency, procedure and provider."""
        await finance_actor(request, state)
        try:
            day = date.fromisoformat(date_)
        except ValueError:
            raise Unprocessable("date is a day as YYYY-MM-DD.", field="date") from None
        start, end = day_period(day)
        return _answer(await build(request_session(state, request.scope), day.isoformat(), start, end), format_)

    @get("/monthly", operation_id="monthlyReport", responses=problems(403, 422))
    async def monthly(
        self,
        request: Request[Any, Any, Any],
        state: State,
        month: Annotated[str, QueryParameter(pattern=r"^\d{4}-\d{2}$")],
        format_: Annotated[Format, QueryParameter(name="format")] = "json",
    ) -> Response[Any]:
        """Totals of one month (Vietnam's time) by agency, procedure and provider."""
        await finance_actor(request, state)
        year, number = int(month[:4]), int(month[5:])
        if not 1 <= number <= 12 or year < 2000:
            raise Unprocessable("month is YYYY-MM.", field="month")
        start, end = month_period(year, number)
        return _answer(await build(request_session(state, request.scope), month, start, end), format_)
