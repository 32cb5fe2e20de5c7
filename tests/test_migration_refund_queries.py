"""Migration 0006: refunds open before it are due for the resolver at once; back down, the columns go."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gateway.db.migrate import alembic_config, upgrade
from tests.conftest import temporary_database
from tests.test_migrations import run


def test_open_refunds_become_due_and_the_columns_go_back_down(tmp_path: Path) -> None:
    from alembic import command

    with temporary_database(tmp_path) as url:
        upgrade(url, "0004")
        now = datetime(2026, 11, 30, tzinfo=UTC)
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
                " client_ip, created_at, updated_at, expires_at, query_attempts, provider_codes, version, lines)"
                " VALUES ('pay_1', 'cli_1', 'HS', 'A', 'P', 'N', 'vnpay', 'R1', 35000, 0, 'VND', 'succeeded',"
                " 'https://x', 'https://y', '127.0.0.1', :now, :now, :now, 0, '{}', 1, '[]')",
                {"now": now},
            ),
            (
                "INSERT INTO refunds (id, payment_id, amount, status, reason, provider_request_id, provider_codes,"
                " created_at, updated_at) VALUES"
                " ('rfd_1', 'pay_1', 5000, 'processing', 'r', 'q1', '{}', :now, :now),"
                " ('rfd_2', 'pay_1', 5000, 'succeeded', 'r', 'q2', '{}', :now, :now)",
                {"now": now},
            ),
        )
        upgrade(url)
        rows = run(url, ("SELECT id, next_query_at, query_attempts FROM refunds ORDER BY id", {}))
        assert [(r[0], r[1] is not None, r[2]) for r in rows] == [("rfd_1", True, 0), ("rfd_2", False, 0)]
        command.downgrade(alembic_config(url), "0004")
        [[count]] = run(url, ("SELECT count(*) FROM refunds", {}))
        assert count == 2
