"""Append-only rows queued on a session: written by its commit, after its ORM changes; gone on rollback."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from gateway.auth import new_client
from gateway.db.appends import append
from gateway.db.engine import create_engine, create_sessionmaker
from gateway.db.models import ProviderNotification, WebhookEvent

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _notification(reference: str) -> dict[str, Any]:
    return {
        "provider": "vnpay",
        "reference": reference,
        "payload": {"vnp_TxnRef": reference},
        "signature_valid": True,
        "ack_code": "00",
        "received_at": NOW,
    }


async def test_appended_rows_commit_with_the_orm_rows_they_refer_to(clean_database: str) -> None:
    engine = create_engine(clean_database)
    try:
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session:
            client, _ = new_client("Cổng DVC", NOW)
            session.add(client)  # not flushed yet: the outbox row below refers to it
            append(session, ProviderNotification, _notification("A"))
            event = {"id": "msg_1", "client_id": client.id, "type": "payment.succeeded", "payload": "{}"}
            append(session, WebhookEvent, event | {"status": "pending", "next_attempt_at": NOW, "created_at": NOW})
            append(session, ProviderNotification, _notification("B"))
            await session.commit()
        async with sessionmaker() as session:
            rows = (await session.scalars(select(ProviderNotification).order_by(ProviderNotification.id))).all()
            assert [(r.reference, r.payload) for r in rows] == [("A", {"vnp_TxnRef": "A"}), ("B", {"vnp_TxnRef": "B"})]
            outbox = (await session.scalars(select(WebhookEvent))).one()
            assert (outbox.client_id, outbox.attempts) == (client.id, 0)  # the column's default applies
    finally:
        await engine.dispose()


async def test_a_rollback_or_close_forgets_the_queue(clean_database: str) -> None:
    engine = create_engine(clean_database)
    try:
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session:
            append(session, ProviderNotification, _notification("lost"))
            await session.rollback()
            append(session, ProviderNotification, _notification("kept"))
            await session.commit()
            await session.commit()  # nothing queued any more: nothing written twice
            append(session, ProviderNotification, _notification("closed"))
            await session.close()
            await session.commit()
        async with sessionmaker() as session:
            assert (await session.scalars(select(ProviderNotification.reference))).all() == ["kept"]
    finally:
        await engine.dispose()
