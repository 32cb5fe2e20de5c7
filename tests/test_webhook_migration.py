"""Migration 0009: failed attempts already stored are shown to portals as categories, not network errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gateway.db.migrate import alembic_config, upgrade
from tests.conftest import temporary_database
from tests.test_migrations import run

STORED = {
    "evt_http": ("endpoint answered HTTP 503", "HTTP 503"),
    "evt_none": ("the client has no webhook endpoint registered", "no endpoint registered"),
    "evt_connect": ("ConnectError: [Errno 111] Connect call failed ('127.0.0.1', 5432)", "connection failed"),
    "evt_timeout": ("ReadTimeout: timed out", "timed out"),
    "evt_protocol": ("RemoteProtocolError: illegal status line: b'SSH-2.0-OpenSSH_9.6'", "request failed"),
}


def test_stored_network_errors_become_categories(tmp_path: Path) -> None:
    from alembic import command

    with temporary_database(tmp_path) as url:
        upgrade(url, "0004")
        now = datetime(2026, 12, 1, tzinfo=UTC)
        run(
            url,
            (
                "INSERT INTO clients (id, name, api_key_hash, api_key_prefix, webhook_secret, active, created_at)"
                " VALUES ('cli_1', 'c', 'h', 'p', 's', true, :now)",
                {"now": now},
            ),
            *(
                (
                    "INSERT INTO webhook_events (id, client_id, type, payload, status, attempts, last_error,"
                    " created_at) VALUES (:id, 'cli_1', 'payment.succeeded', '{}', 'pending', 1, :error, :now)",
                    {"id": event_id, "error": error, "now": now},
                )
                for event_id, (error, _) in STORED.items()
            ),
        )
        upgrade(url, "0009")
        rows = run(url, ("SELECT id, last_error, locked_by FROM webhook_events", {}))
        assert {row[0]: row[1] for row in rows} == {event_id: shown for event_id, (_, shown) in STORED.items()}
        assert {row[2] for row in rows} == {None}
        command.downgrade(alembic_config(url), "0004")
        assert len(run(url, ("SELECT id FROM webhook_events", {}))) == len(STORED)
