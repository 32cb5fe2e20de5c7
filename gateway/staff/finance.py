"""/staff/finance: finance staff's page, server-rendered, phone or desktop, no script.

- `/staff/finance`: the reconciliation runs, newest first, with each run's summary, and the form that imports
  a settlement file through ReconciliationService.import_file (as POST /v1/reconciliation/runs does).
- `/staff/finance/discrepancies`: the discrepancies, filtered by run, provider, category and state, each
  open one with its resolve form (Resolutions.resolve, as POST /v1/reconciliation/items/{id}/resolve).
- `/staff/finance/totals`: the totals of a period by agency, procedure and provider (gateway/reports), a
  bar chart of each day's net to remit, and links to the reports' exports, which the session's cookie opens.

Each form redirects (303) to the page that shows what it did; a refusal is shown on the page, with nothing done.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import structlog
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect

from gateway.clock import VN_TZ
from gateway.db.request_session import request_session
from gateway.errors import DomainError, NotFound
from gateway.reconciliation.controller import MAX_UPLOAD_BYTES
from gateway.reconciliation.errors import BadSettlementFile
from gateway.reconciliation.layouts import LAYOUTS
from gateway.reconciliation.listing import DISCREPANCIES, ItemFilter, discrepancies, recent_runs, runs_page
from gateway.reconciliation.service import ReconciliationService, Resolutions
from gateway.reports.totals import build, day_period
from gateway.staff.chart import bar_chart
from gateway.staff.controller import STAFF_EXCEPTION_HANDLERS
from gateway.staff.csrf import FORM_FIELD
from gateway.staff.finance_form import (
    ACTION_LABELS,
    CATEGORY_LABELS,
    MAX_ITEM_ID,
    MAX_NOTE,
    REFUND_LABELS,
    STATE_LABELS,
    read_filters,
    read_page,
    read_period,
    read_resolve,
    read_upload,
    text,
)
from gateway.staff.guards import provide_staff, requires_staff
from gateway.staff.pages import page
from gateway.staff.sessions import StaffUser

log = structlog.get_logger()

PATH = "/staff/finance"
# A note of 2,000 Vietnamese characters percent-encoded (up to 9 bytes each), a reference, the filters, the token.
RESOLVE_MAX_BODY = 32 * 1024


def _not_found(_: Request[Any, Any, Any], __: NotFound) -> Response[Any]:
    return page("message.html", 404, title="Không tìm thấy", message="Không có khoản đối soát này.")


def _common(staff: StaffUser, section: str) -> dict[str, Any]:
    return {
        "user": staff,
        "csrf_field": FORM_FIELD,
        "section": section,
        "providers": list(LAYOUTS),
        "category_labels": CATEGORY_LABELS,
        "discrepancy_categories": DISCREPANCIES,
        "path": PATH,
    }


def _filter_query(where: ItemFilter, **extra: str | int) -> str:
    values = {"run": where.run_id, "provider": where.provider, "category": where.category, "state": where.state}
    return urlencode({k: v for k, v in {**values, **extra}.items() if v})


_RESOLVE_MESSAGES = {
    "already-resolved": "Khoản này đã được xử lý trước đó; kết quả xử lý là cuối cùng.",
    "nothing-to-resolve": "Khoản đã khớp, không cần xử lý.",
}
# Refusals whose reason only the service can give: its detail follows a Vietnamese lead.
_RESOLVE_LEADS = {
    "not-refundable": "Không hoàn tiền được",
    "cannot-mark-paid": "Không đánh dấu đã thanh toán được",
    "paid-by-another-charge": "Khoản thanh toán đã được trả bằng giao dịch khác",
    "cannot-write-off": "Không ghi giảm được",
}


def _resolve_message(exc: DomainError, reference: str | None) -> tuple[str, str]:
    """The field a refusal concerns and its message."""
    if exc.extra.get("field") == "reference" and not reference:
        return "reference", "Cách xử lý “Đã thanh toán” cần mã tham chiếu của khoản thanh toán."
    if exc.type_slug in _RESOLVE_LEADS:
        return "action", f"{_RESOLVE_LEADS[exc.type_slug]}: {exc.detail}"
    return "action", _RESOLVE_MESSAGES.get(exc.type_slug, exc.detail)


class FinanceController(Controller):
    path = PATH
    include_in_schema = False
    guards = [requires_staff("finance")]
    exception_handlers = {**STAFF_EXCEPTION_HANDLERS, NotFound: _not_found}
    dependencies = {"staff": Provide(provide_staff)}

    # No page here is READ_ONLY: resolving the staff session records when it was last seen (an UPDATE).
    @get("/")
    async def runs(
        self, request: Request[Any, Any, Any], state: State, staff: NamedDependency[StaffUser]
    ) -> Response[str]:
        return await self._runs_view(request, state, staff)

    async def _runs_view(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: StaffUser,
        status_code: int = 200,
        errors: dict[str, str] | None = None,
        entered: dict[str, str] | None = None,
    ) -> Response[str]:
        number = read_page(request.query_params)
        found, older = await runs_page(request_session(state, request.scope), number)
        imported = request.query_params.get("imported", "")[:64]
        today = state.clock.now().astimezone(VN_TZ).date()
        return page(
            "finance_runs.html",
            status_code,
            **_common(staff, "runs"),
            runs=found,
            page_number=number,
            older=older,
            imported=imported,
            again=request.query_params.get("again") == "1",
            errors=errors or {},
            entered=entered or {"provider": "", "business_date": today.isoformat()},
        )

    @post("/runs", request_max_body_size=MAX_UPLOAD_BYTES)
    async def upload(
        self, request: Request[Any, Any, Any], state: State, staff: NamedDependency[StaffUser]
    ) -> Response[Any]:
        # The guard has read the form (its CSRF token) once the session was known; the file is spooled to disk.
        form = await request.form()
        file = form.get("file")
        upload = file if isinstance(file, UploadFile) and file.filename else None
        asked = read_upload(form, upload is not None)
        entered = {"provider": asked.provider, "business_date": text(form, "business_date", 10)}
        try:
            if asked.errors or upload is None or asked.business_date is None:
                return await self._runs_view(request, state, staff, 422, asked.errors, entered)
            service = ReconciliationService(state.sessionmaker, state.providers, state.settings, state.clock)
            try:
                imported = await service.import_file(
                    asked.provider, asked.business_date, upload.file, upload.filename or "upload", staff.actor
                )
            except BadSettlementFile as exc:
                detail = exc.detail.removeprefix(f"line {exc.line}: ")
                message = f"Tệp không đọc được, lỗi ở dòng {exc.line}: {detail}. Chưa nhập dòng nào."
                return await self._runs_view(request, state, staff, 422, {"file": message}, entered)
        finally:
            for value in form.values():
                if isinstance(value, UploadFile):
                    await value.close()
        log.info("staff_reconciliation_import", run_id=imported.run.id, staff_id=staff.id)
        query = urlencode({"imported": imported.run.id, **({} if imported.created else {"again": "1"})})
        return Redirect(f"{PATH}?{query}", status_code=303)

    @get("/discrepancies")
    async def discrepancy_list(
        self, request: Request[Any, Any, Any], state: State, staff: NamedDependency[StaffUser]
    ) -> Response[str]:
        filters = read_filters(request.query_params)
        resolved = request.query_params.get("resolved", "")
        return await self._items_view(
            request, state, staff, filters.where, filters.errors, 422 if filters.errors else 200, resolved=resolved
        )

    async def _items_view(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: StaffUser,
        where: ItemFilter,
        errors: dict[str, str],
        status_code: int = 200,
        resolved: str = "",
        failed_item: int | None = None,
        entered: dict[str, str] | None = None,
    ) -> Response[str]:
        session = request_session(state, request.scope)
        found, next_before = await discrepancies(session, where)
        return page(
            "finance_items.html",
            status_code,
            **_common(staff, "items"),
            where=where,
            errors=errors,
            items=found,
            runs=await recent_runs(session),
            next_query=_filter_query(where, before=next_before) if next_before else "",
            first_query=_filter_query(where) if where.before else "",
            filter_fields={"run": where.run_id, "provider": where.provider, "category": where.category},
            state_labels=STATE_LABELS,
            action_labels=ACTION_LABELS,
            refund_labels=REFUND_LABELS,
            resolved=resolved[:12] if resolved.isdigit() else "",
            failed_item=failed_item,
            # A refusal about an item this list does not show as open (resolved meanwhile) goes on top.
            failed_elsewhere=failed_item is not None
            and failed_item not in {d.item.id for d in found if d.item.resolution is None},
            entered=entered or {},
        )

    @post("/items/{item_id:int}/resolve", request_max_body_size=RESOLVE_MAX_BODY)
    async def resolve(
        self,
        request: Request[Any, Any, Any],
        state: State,
        staff: NamedDependency[StaffUser],
        item_id: FromPath[int],
    ) -> Response[Any]:
        if not 1 <= item_id <= MAX_ITEM_ID:
            raise NotFound("no such item")
        form = await request.form()
        where = read_filters(form).where  # the list's filters, to go back to
        asked, errors = read_resolve(form)
        entered = {name: text(form, name, MAX_NOTE) for name in ("action", "note", "reference")}  # shown again
        session = request_session(state, request.scope)
        if asked is None:
            return await self._items_view(
                request, state, staff, where, errors, 422, failed_item=item_id, entered=entered
            )
        try:
            await Resolutions(session, state.clock, state.providers, state.settings).resolve(
                item_id, asked.action, asked.note, asked.reference, staff.actor
            )
        except NotFound:
            raise
        except DomainError as exc:
            await session.rollback()
            field, message = _resolve_message(exc, asked.reference)
            return await self._items_view(
                request, state, staff, where, {field: message}, exc.status, failed_item=item_id, entered=entered
            )
        log.info("staff_reconciliation_resolved", item_id=item_id, action=asked.action, staff_id=staff.id)
        return Redirect(f"{PATH}/discrepancies?{_filter_query(where, resolved=item_id)}", status_code=303)

    @get("/totals")
    async def totals(
        self, request: Request[Any, Any, Any], state: State, staff: NamedDependency[StaffUser]
    ) -> Response[str]:
        period = read_period(request.query_params, state.clock.now().astimezone(VN_TZ).date())
        session = request_session(state, request.scope)
        start, _ = day_period(period.first)
        _, end = day_period(period.last)
        report = await build(session, f"{period.first.isoformat()}..{period.last.isoformat()}", start, end)
        daily = []
        for day in period.days:
            daily.append((day, (await build(session, day.isoformat(), *day_period(day))).total()))
        chart = bar_chart([(d.strftime("%d/%m"), t.net_to_remit) for d, t in daily])
        return page(
            "finance_totals.html",
            422 if period.errors else 200,
            **_common(staff, "totals"),
            period=period,
            errors=period.errors,
            report=report,
            total=report.total(),
            daily=daily,
            chart=chart,
        )
