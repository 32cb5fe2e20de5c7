"""The models and the migrations describe the same schema, on the database the suite runs on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from gateway.db.engine import create_engine
from gateway.db.migrate import upgrade
from gateway.db.models import Base
from tests.conftest import temporary_database


def _differences(url: str) -> list[Any]:
    async def compare() -> list[Any]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: compare_metadata(
                        MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                    )
                )
        finally:
            await engine.dispose()

    return asyncio.run(compare())


def test_the_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    with temporary_database(tmp_path) as url:
        upgrade(url)
        assert _differences(url) == []
