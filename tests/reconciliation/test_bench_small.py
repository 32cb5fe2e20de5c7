"""The benchmark's data (bench/settlement_data.py) at 2,000 rows: the run finds exactly what was injected."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.settlement_data import DAY, expected, insert_payments, write_file
from gateway.db.models import ReconciliationItem
from gateway.reconciliation.service import ReconciliationService
from tests.reconciliation.world import Finance

pytestmark = pytest.mark.anyio
ROWS = 2_000


async def test_a_2000_row_file_finds_exactly_the_injected_discrepancies(finance: Finance, tmp_path: Path) -> None:
    state = finance.app.state
    finance.check_books = False  # the bench's payments are bulk-inserted succeeded, without their entries
    await insert_payments(state.engine, ROWS)
    path = tmp_path / "momo.csv"
    write_file(path, ROWS)
    service = ReconciliationService(state.sessionmaker, state.providers, state.settings, state.clock)
    with path.open("rb") as file:
        imported = await service.import_file("momo", DAY, file, path.name, "test")
    found = {c: v["count"] for c, v in imported.run.summary["categories"].items()}
    async with state.sessionmaker() as session:
        found["settled_by_file"] = await session.scalar(
            select(func.count()).select_from(ReconciliationItem).where(ReconciliationItem.settled_by_file.is_(True))
        )
    assert found == expected(ROWS)
    assert expected(ROWS)["amount_mismatch"] == 2 and expected(ROWS)["missing_in_gateway"] == 2
