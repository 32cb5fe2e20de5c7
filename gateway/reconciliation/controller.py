"""/v1/reconciliation: thin; the rules are in gateway/reconciliation/service.py.

Finance staff accounts (role `finance`) are not on main yet: until they are, these take a portal API key
whose client is listed in settings.finance_client_ids (gateway/reconciliation/access.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from gateway.db.request_session import READ_ONLY, request_session
from gateway.errors import Unprocessable
from gateway.openapi import BODY, NO_NUL, PORTAL_KEY, problems
from gateway.reconciliation.access import finance_caller
from gateway.reconciliation.layouts import LAYOUTS
from gateway.reconciliation.service import ReconciliationService, Resolutions, RunReader
from gateway.reconciliation.views import (
    Category,
    ItemPage,
    ResolutionOut,
    ResolveIn,
    RunOut,
    RunPage,
    item_out,
    resolution_out,
    run_out,
)

# A million-row file is about 100 MB; the upload is spooled to disk by Litestar, not held in memory.
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
RunId = Annotated[str, PathParameter(pattern=NO_NUL, max_length=64)]


@dataclass
class UploadForm:
    """The multipart form of an upload (Litestar reads it into this by field name)."""

    file: UploadFile
    provider: str
    business_date: str


def _business_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Unprocessable("business_date is a day as YYYY-MM-DD.", field="business_date") from None


class ReconciliationController(Controller):
    path = "/v1/reconciliation"
    tags = ["reconciliation"]
    security = PORTAL_KEY

    @post(
        "/runs",
        operation_id="createReconciliationRun",
        status_code=201,
        request_max_body_size=MAX_UPLOAD_BYTES,
        responses=problems(*BODY, 403, 422),
    )
    async def create_run(
        self,
        request: Request[Any, Any, Any],
        state: State,
        data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[RunOut]:
        """Import a provider's settlement file (multipart: file, provider, business_date) and match it.
        The same file again answers 200 with the run it made."""
        caller = await finance_caller(request, state)
        try:
            if data.provider not in LAYOUTS:
                raise Unprocessable(f"provider is one of {', '.join(LAYOUTS)}.", field="provider")
            day = _business_date(data.business_date)
            service = ReconciliationService(state.sessionmaker, state.providers, state.settings, state.clock)
            imported = await service.import_file(
                data.provider, day, data.file.file, data.file.filename or "upload", f"client:{caller.id}"
            )
        finally:
            await data.file.close()
        return Response(run_out(imported.run), status_code=201 if imported.created else 200)

    @get("/runs", operation_id="listReconciliationRuns", opt=READ_ONLY, responses=problems(403))
    async def list_runs(
        self,
        request: Request[Any, Any, Any],
        state: State,
        provider: Annotated[str | None, QueryParameter(pattern=NO_NUL, max_length=20)] = None,
        business_date: Annotated[str | None, QueryParameter(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
    ) -> RunPage:
        await finance_caller(request, state)
        runs = await RunReader(request_session(state, request.scope)).runs(provider, business_date, limit)
        return RunPage(items=[run_out(r) for r in runs])

    @get("/runs/{run_id:str}", operation_id="getReconciliationRun", opt=READ_ONLY, responses=problems(403, 404))
    async def get_run(self, request: Request[Any, Any, Any], state: State, run_id: RunId) -> RunOut:
        await finance_caller(request, state)
        return run_out(await RunReader(request_session(state, request.scope)).run(run_id))

    @get(
        "/runs/{run_id:str}/items",
        operation_id="listReconciliationItems",
        opt=READ_ONLY,
        responses=problems(403, 404),
    )
    async def list_items(
        self,
        request: Request[Any, Any, Any],
        state: State,
        run_id: RunId,
        category: FromQuery[Category | None] = None,
        cursor: Annotated[int | None, QueryParameter(ge=0)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> ItemPage:
        await finance_caller(request, state)
        reader = RunReader(request_session(state, request.scope))
        rows, next_cursor = await reader.items(run_id, category, cursor, limit)
        return ItemPage(items=[item_out(i) for i in rows], next_cursor=next_cursor)

    @post(
        "/items/{item_id:int}/resolve",
        operation_id="resolveReconciliationItem",
        status_code=200,
        responses=problems(*BODY, 403, 404, 409, 422),
    )
    async def resolve(
        self, request: Request[Any, Any, Any], state: State, item_id: FromPath[int], data: JSONBody[ResolveIn]
    ) -> ResolutionOut:
        """Resolve a discrepancy with a note and an action; audited, final."""
        caller = await finance_caller(request, state)
        resolutions = Resolutions(request_session(state, request.scope), state.clock)
        item, resolution = await resolutions.resolve(
            item_id, data.action, data.note, data.reference, f"client:{caller.id}"
        )
        return resolution_out(item, resolution)
