"""Every string a resolution takes fits where it is stored: one longer is refused as bad input and changes
nothing, one as long is stored whole (the rule of tests/gateway/test_api_edges.py, whose walk over every
input model counts these entries as its own)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from sqlalchemy import select

from gateway.db.models import ReconciliationResolution
from gateway.reconciliation.views import ResolveIn
from tests.gateway.test_api_edges import Stored, _bound, _code, _text
from tests.reconciliation.world import Finance, momo_file, momo_row

pytestmark = pytest.mark.anyio

RECONCILIATION_STORED: dict[tuple[type[BaseModel], str], Stored] = {
    # A Text column: the model's bound is the only one.
    (ResolveIn, "note"): Stored(ReconciliationResolution.note, _text, longest=2000),
    (ResolveIn, "reference"): Stored(ReconciliationResolution.reference, _code),
    (ResolveIn, "action"): Stored(ReconciliationResolution.action, _code, at_limit=False),  # one of three
}
IDS = [f"{m.__name__}.{f}" for m, f in RECONCILIATION_STORED]


async def _resolve(finance: Finance, field: str, value: str) -> tuple[int, list[ReconciliationResolution]]:
    await finance.add_payment(1)
    run = (await finance.upload(momo_file(momo_row(1, amount=1)))).json()
    [item] = await finance.items(str(run["id"]), "amount_mismatch")
    # A write-off takes a reference too (finance's ticket, the provider's answer); any action stores it.
    body = {"action": "write_off", "note": "đã đối soát", "reference": "FT1", field: value}
    r = await finance.http.post(f"/v1/reconciliation/items/{item['id']}/resolve", json=body, headers=finance.auth())
    async with finance.app.state.sessionmaker() as session:
        return r.status_code, list(await session.scalars(select(ReconciliationResolution)))


@pytest.mark.parametrize(("model", "field"), list(RECONCILIATION_STORED), ids=IDS)
async def test_longer_than_its_bound_is_refused_and_changes_nothing(
    finance: Finance, model: type[BaseModel], field: str
) -> None:
    stored = RECONCILIATION_STORED[model, field]
    status, rows = await _resolve(finance, field, stored.make(_bound(model, field, stored) + 1))
    assert (status, rows) == (400, [])


@pytest.mark.parametrize(
    ("model", "field"),
    [k for k, v in RECONCILIATION_STORED.items() if v.at_limit],
    ids=[f"{m.__name__}.{f}" for (m, f), v in RECONCILIATION_STORED.items() if v.at_limit],
)
async def test_as_long_as_its_bound_is_stored_whole(finance: Finance, model: type[BaseModel], field: str) -> None:
    stored = RECONCILIATION_STORED[model, field]
    value = stored.make(_bound(model, field, stored))
    status, [row] = await _resolve(finance, field, value)
    assert status == 200 and getattr(row, field) == value
