"""`dvc-gateway reconcile FILE --provider --date`: the same import as the API's, from the command line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from gateway.cli import main
from gateway.db.models import ReconciliationItem
from tests.reconciliation.world import Finance, momo_file, momo_row

pytestmark = pytest.mark.anyio


async def test_reconcile_imports_a_file_and_refuses_a_bad_one(
    finance: Finance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await finance.add_payment(1)
    monkeypatch.setenv("DVCGW_DATABASE_URL", finance.app.state.settings.database_url)
    good = tmp_path / "momo.csv"
    good.write_bytes(momo_file(momo_row(1), momo_row(2)))
    runner = CliRunner()
    # The command runs its own event loop: in a thread, away from the test's.
    result = await asyncio.to_thread(
        runner.invoke, main, ["reconcile", str(good), "--provider", "momo", "--date", "2026-11-20"]
    )
    assert result.exit_code == 0, result.output
    assert "matched" in result.output and "missing_in_gateway" in result.output
    again = await asyncio.to_thread(
        runner.invoke, main, ["reconcile", str(good), "--provider", "momo", "--date", "2026-11-20"]
    )
    assert "imported before" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(momo_file(momo_row(3), "MOMO,REF9,T9,payment,0,-5,0,qr,1"))
    failed = await asyncio.to_thread(
        runner.invoke, main, ["reconcile", str(bad), "--provider", "momo", "--date", "2026-11-20"]
    )
    assert failed.exit_code == 1 and "line 3" in failed.output and "nothing was imported" in failed.output
    async with finance.app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ReconciliationItem)) == 2
