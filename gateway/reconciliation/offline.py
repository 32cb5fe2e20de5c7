"""Reconciling a file from the command line (`dvc-gateway reconcile`): the same import as the API's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from gateway.clock import clock
from gateway.db.engine import create_engine, create_sessionmaker
from gateway.payments.providers import build_providers
from gateway.reconciliation.parsing import Progress
from gateway.reconciliation.service import Imported, ReconciliationService
from gateway.settings import Settings


async def reconcile_file(
    settings: Settings, path: Path, provider: str, business_date: date, progress: Progress | None = None
) -> Imported:
    engine = create_engine(settings.database_url)
    providers = build_providers(settings, clock)
    try:
        service = ReconciliationService(create_sessionmaker(engine), providers, settings, clock)
        with path.open("rb") as file:
            return await service.import_file(provider, business_date, file, path.name, "cli", progress)
    finally:
        await providers.aclose()
        await engine.dispose()
