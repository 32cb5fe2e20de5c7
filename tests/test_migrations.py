"""Migrations run forward and back on an empty database, carrying data across schema changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.db.engine import create_engine
from gateway.db.migrate import alembic_config, upgrade
from tests.conftest import temporary_database


def run(url: str, *statements: tuple[str, dict[str, object]]) -> list[sa.Row[tuple[object, ...]]]:
    async def go() -> list[sa.Row[tuple[object, ...]]]:
        engine = create_engine(url)
        rows: list[sa.Row[tuple[object, ...]]] = []
        async with engine.begin() as conn:
            for sql, params in statements:
                result = await conn.execute(sa.text(sql), params)
                if result.returns_rows:
                    rows = list(result)
        await engine.dispose()
        return rows

    return asyncio.run(go())


def test_fee_lines_move_into_the_payment_row_and_back(tmp_path: Path) -> None:
    from alembic import command

    with temporary_database(tmp_path) as url:
        upgrade(url, "0002")
        now = datetime(2026, 11, 23, tzinfo=UTC)
        run(
            url,
            (
                "INSERT INTO clients (id, name, api_key_hash, api_key_prefix, webhook_secret, active, created_at)"
                " VALUES ('cli_1', 'c', 'h', 'p', 's', true, :now)",
                {"now": now},
            ),
            (
                "INSERT INTO payments (id, client_id, dossier_code, agency_code, procedure_code, payer_name,"
                " provider, provider_ref, amount, refunded_amount, currency, status, return_url, checkout_url,"
                " client_ip, created_at, updated_at, expires_at, query_attempts, provider_codes, version)"
                " VALUES ('pay_1', 'cli_1', 'HS', 'A', 'P', 'N', 'vnpay', 'R1', 35000, 0, 'VND', 'pending',"
                " 'https://x', 'https://y', '127.0.0.1', :now, :now, :now, 0, '{}', 1)",
                {"now": now},
            ),
            (
                "INSERT INTO payment_lines (payment_id, position, kind, code, description, amount) VALUES"
                " ('pay_1', 1, 'postage', 'BC', 'Cước', 27000), ('pay_1', 0, 'charge', 'LP', 'Lệ phí', 8000)",
                {},
            ),
        )
        upgrade(url, "0003")
        [row] = run(url, ("SELECT lines FROM payments WHERE id = 'pay_1'", {}))
        lines = row[0] if isinstance(row[0], list) else __import__("json").loads(row[0])
        assert [(x["code"], x["amount"]) for x in lines] == [("LP", 8000), ("BC", 27000)]

        command.downgrade(alembic_config(url), "0002")
        rows = run(url, ("SELECT code, amount FROM payment_lines ORDER BY position", {}))
        assert [(r[0], r[1]) for r in rows] == [("LP", 8000), ("BC", 27000)]
        command.downgrade(alembic_config(url), "base")


def test_the_due_query_index_holds_only_payments_still_to_be_queried(tmp_path: Path) -> None:
    from alembic import command

    with temporary_database(tmp_path) as url:
        upgrade(url)
        sqlite = url.startswith("sqlite")
        definition = (
            "SELECT sql FROM sqlite_master WHERE name = 'ix_payments_due_query'"
            if sqlite
            else "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_payments_due_query'"
        )
        [[text]] = run(url, (definition, {}))
        assert "WHERE" in str(text) and "next_query_at IS NOT NULL" in str(text)
        if sqlite:  # the resolver's claim (gateway/db/claims.py) is answered from it
            plan = run(
                url,
                (
                    "EXPLAIN QUERY PLAN SELECT id FROM payments WHERE status IN ('pending', 'processing')"
                    " AND next_query_at <= :now ORDER BY next_query_at LIMIT 10",
                    {"now": datetime(2026, 11, 30, tzinfo=UTC)},
                ),
            )
            assert any("ix_payments_due_query" in str(row[-1]) for row in plan)
        command.downgrade(alembic_config(url), "0003")
        [[text]] = run(url, (definition, {}))
        assert "WHERE" not in str(text)


def test_a_client_s_previous_key_columns_come_and_go(tmp_path: Path) -> None:
    from alembic import command

    with temporary_database(tmp_path) as url:
        upgrade(url, "0008")
        now = datetime(2026, 12, 5, tzinfo=UTC)
        insert = (
            "INSERT INTO clients (id, name, api_key_hash, api_key_prefix, webhook_secret, active, created_at,"
            " previous_api_key_hash, previous_key_expires_at) VALUES (:id, 'c', :h, 'p', 's', true, :now, :old, :now)"
        )
        run(url, (insert, {"id": "cli_1", "h": "h1", "old": "o1", "now": now}))
        with pytest.raises(sa.exc.IntegrityError):  # the previous hash is unique, as the current one is
            run(url, (insert, {"id": "cli_2", "h": "h2", "old": "o1", "now": now}))
        command.downgrade(alembic_config(url), "0008-1")
        assert run(url, ("SELECT id, api_key_hash FROM clients", {})) == [("cli_1", "h1")]
        upgrade(url, "0008")
