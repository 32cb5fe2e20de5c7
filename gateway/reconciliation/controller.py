"""/v1/reconciliation: thin; the rules are in gateway/reconciliation/service.py.

Finance staff (role `finance`) by their session, or a finance machine by an allow-listed API key
(gateway/reconciliation/access.py).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter

from gateway.db.models import Refund
from gateway.db.request_session import READ_ONLY, request_session
from gateway.errors import Unprocessable
from gateway.openapi import BODY, NO_NUL, PORTAL_KEY, problems
from gateway.reconciliation.access import finance_actor
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
ItemId = Annotated[int, PathParameter(ge=1, le=2_147_483_647)]  # the items table's INTEGER key


@dataclasses.dataclass
class UploadOperation(Operation):
    """The upload's multipart body, declared by hand: the handler reads the form itself, after the caller is
    known, so that nobody else can have a large body spooled to disk."""

    def __post_init__(self) -> None:
        text = Schema(type=OpenAPIType.STRING)
        form = Schema(
            type=OpenAPIType.OBJECT,
            required=["file", "provider", "business_date"],
            properties={
                "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY),
                "provider": Schema(type=OpenAPIType.STRING, enum=list(LAYOUTS)),
                "business_date": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE),
            },
            additional_properties=text,
        )
        content = {"multipart/form-data": OpenAPIMediaType(schema=form)}
        self.request_body = RequestBody(content=content, required=True)


async def _upload_form(request: Request[Any, Any, Any]) -> tuple[UploadFile, str, date]:
    form = await request.form()
    file, provider, day = form.get("file"), form.get("provider"), form.get("business_date")
    try:
        if not isinstance(file, UploadFile):
            raise Unprocessable("Send the settlement file as the multipart field 'file'.", field="file")
        if provider not in LAYOUTS:
            raise Unprocessable(f"provider is one of {', '.join(LAYOUTS)}.", field="provider")
        return file, str(provider), _business_date(str(day or ""))
    except Unprocessable:
        for value in form.values():
            if isinstance(value, UploadFile):
                await value.close()
        raise


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
        operation_class=UploadOperation,
    )
    async def create_run(self, request: Request[Any, Any, Any], state: State) -> Response[RunOut]:
        """Import a provider's settlement file (multipart: file, provider, business_date) and match it.
        The same file again answers 200 with the run it made."""
        actor = await finance_actor(request, state)
        file, provider, day = await _upload_form(request)
        try:
            service = ReconciliationService(state.sessionmaker, state.providers, state.settings, state.clock)
            imported = await service.import_file(provider, day, file.file, file.filename or "upload", actor)
        finally:
            await file.close()
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
        await finance_actor(request, state)
        runs = await RunReader(request_session(state, request.scope)).runs(provider, business_date, limit)
        return RunPage(items=[run_out(r) for r in runs])

    @get("/runs/{run_id:str}", operation_id="getReconciliationRun", opt=READ_ONLY, responses=problems(403, 404))
    async def get_run(self, request: Request[Any, Any, Any], state: State, run_id: RunId) -> RunOut:
        await finance_actor(request, state)
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
        cursor: Annotated[
            int, QueryParameter(ge=0, le=2_147_483_647, description="The last item id of the page before")
        ] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> ItemPage:
        await finance_actor(request, state)
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
        self, request: Request[Any, Any, Any], state: State, item_id: ItemId, data: JSONBody[ResolveIn]
    ) -> ResolutionOut:
        """Resolve a discrepancy with a note and an action; audited, final. `mark_paid` settles the payment
        whose id is the `reference`; `refund` sends a refund of the payment through its provider."""
        actor = await finance_actor(request, state)
        session = request_session(state, request.scope)
        resolutions = Resolutions(session, state.clock, state.providers, state.settings)
        item, resolution = await resolutions.resolve(item_id, data.action, data.note, data.reference, actor)
        refund = await session.get(Refund, resolution.refund_id) if resolution.refund_id else None
        return resolution_out(item, resolution, refund)
