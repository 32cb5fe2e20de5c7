"""Authentication, isolation between portals, and bad input answered with RFC 9457 problems."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gateway.db.models import Payment, ProviderNotification
from tests.harness import World, payment_body

pytestmark = pytest.mark.anyio


async def test_requests_without_a_valid_key_are_401(world: World) -> None:
    r = await world.http.get("/v1/payments")
    assert r.status_code == 401 and r.json()["status"] == 401
    r = await world.http.get("/v1/payments", headers={"Authorization": "Bearer dvcgw_wrong"})
    assert r.status_code == 401
    r = await world.http.get("/v1/payments", headers={"X-API-Key": world.api_key})
    assert r.status_code == 200


async def test_another_clients_payment_is_invisible(world: World) -> None:
    mine = (await world.create_payment()).json()
    _, other_key = await world.add_client("Cổng khác")
    other = world.auth(other_key)
    assert (await world.http.get(f"/v1/payments/{mine['id']}", headers=other)).status_code == 404
    assert (await world.http.get(f"/v1/payments/{mine['id']}/events", headers=other)).status_code == 404
    assert (await world.http.post(f"/v1/payments/{mine['id']}/cancel", headers=other)).status_code == 404
    listed = await world.http.get("/v1/payments", params={"dossier_code": mine["dossier_code"]}, headers=other)
    assert listed.json()["items"] == []
    assert (await world.get_payment(mine["id"]))["status"] == "pending"


@pytest.mark.parametrize(
    "change",
    [
        {"fee_lines": [{"kind": "fee", "code": "A", "description": "x", "amount": 1000.0}]},
        {"fee_lines": [{"kind": "fee", "code": "A", "description": "x", "amount": "1000"}]},
        {"fee_lines": [{"kind": "fee", "code": "A", "description": "x", "amount": 0}]},
        {"fee_lines": [{"kind": "fee", "code": "A", "description": "x", "amount": -5}]},
        {"fee_lines": [{"kind": "tip", "code": "A", "description": "x", "amount": 5}]},
        {"fee_lines": []},
        {"provider": "paypal"},
        {"return_url": "javascript:alert(1)"},
        {"payer": {"name": "A", "phone": "12345"}},
        {"unexpected": "field"},
        {"fee_lines": [{"kind": "fee", "code": "A", "description": "x", "amount": 6_000_000_000}] * 2},
        # PostgreSQL's text cannot hold U+0000 (a 500 there), SQLite's can: refused alike on both
        {"payer": {"name": "Nguyễn Văn An\u0000", "phone": "0912345678"}},
        {"fee_lines": [{"kind": "fee", "code": "A", "description": "Lệ phí\u0000", "amount": 1000}]},
    ],
)
async def test_bad_input_is_400_problem_and_creates_nothing(world: World, change: dict) -> None:
    r = await world.create_payment(payment_body(**change))
    assert r.status_code == 400, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["status"] == 400 and problem["title"] and problem["errors"]
    async with world.app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 0


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/v1/payments/{id}%00", None),
        ("GET", "/v1/payments/{id}%00/events", None),
        ("POST", "/v1/payments/{id}%00/cancel", None),
        ("GET", "/v1/payments", {"dossier_code": "000.00.12.H29\x00"}),
        ("GET", "/callbacks/vnpay/return", {"vnp_TxnRef": "{id}\x00", "vnp_SecureHash": "00"}),
    ],
)
async def test_a_nul_in_the_path_or_query_is_a_400_problem_and_changes_nothing(
    world: World, method: str, path: str, params: dict[str, str] | None
) -> None:
    # A NUL in an id or a filter reached PostgreSQL, which cannot hold it in text: a 500 there, a miss on SQLite.
    payment = (await world.create_payment()).json()
    query = {k: v.format(id=payment["id"]) for k, v in params.items()} if params else None
    r = await world.http.request(method, path.format(id=payment["id"]), params=query, headers=world.auth())
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json") and r.json()["status"] == 400
    assert (await world.get_payment(payment["id"]))["status"] == "pending"


async def test_the_ipn_answers_a_nul_in_vnpay_s_own_terms_and_records_it(world: World) -> None:
    r = await world.http.get("/callbacks/vnpay/ipn", params={"vnp_TxnRef": "A\x00", "vnp_SecureHash": "00"})
    assert r.status_code == 200 and r.json()["RspCode"] == "97"  # not VNPay's signature; not a 99 to retry
    async with world.app.state.sessionmaker() as session:
        recorded = (await session.scalars(select(ProviderNotification))).one()
    assert recorded.reference is None and recorded.payload["vnp_TxnRef"] == "A\ufffd"  # unverified: a sample
    assert recorded.ack_code == "97" and not recorded.signature_valid


async def test_problem_never_echoes_personal_data(world: World) -> None:
    r = await world.create_payment(payment_body(payer={"name": "A", "phone": "0912345678x"}))
    assert r.status_code == 400
    assert "0912345678" not in r.text


async def test_list_by_dossier_and_paginate(world: World) -> None:
    ids = [(await world.create_payment(payment_body(dossier_code="HS-7"))).json()["id"] for _ in range(3)]
    await world.create_payment(payment_body(dossier_code="HS-8"))
    page = (
        await world.http.get("/v1/payments", params={"dossier_code": "HS-7", "limit": 2}, headers=world.auth())
    ).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = (
        await world.http.get(
            "/v1/payments",
            params={"dossier_code": "HS-7", "limit": 2, "cursor": page["next_cursor"]},
            headers=world.auth(),
        )
    ).json()
    assert sorted(p["id"] for p in page["items"] + rest["items"]) == sorted(ids)
    assert rest["next_cursor"] is None


async def test_cancel_rules(world: World) -> None:
    payment = (await world.create_payment()).json()
    path = f"/v1/payments/{payment['id']}/cancel"
    assert (await world.http.post(path, headers=world.auth())).json()["status"] == "cancelled"
    assert (await world.http.post(path, headers=world.auth())).status_code == 200  # cancelling twice is fine
    refund = await world.http.post(
        f"/v1/payments/{payment['id']}/refunds",
        json={"reason": "x"},
        headers={**world.auth(), "Idempotency-Key": "r"},
    )
    assert refund.status_code == 409


async def test_health_and_ready(world: World) -> None:
    assert (await world.http.get("/health")).json() == {"status": "ok"}
    assert (await world.http.get("/ready")).json()["database"] == "ok"


async def test_openapi_schema_is_served(world: World) -> None:
    schema = (await world.http.get("/schema/openapi.json")).json()
    assert "/v1/payments" in schema["paths"]
    assert "/callbacks/vnpay/ipn" not in schema["paths"]


async def test_every_answer_carries_a_request_id(world: World) -> None:
    given = await world.http.get("/v1/payments", headers={"X-Request-ID": "portal-abc.123"})
    assert given.headers["x-request-id"] == "portal-abc.123"  # the caller's id, to follow one request across
    for headers in ({}, {"X-Request-ID": "bad id\twith spaces"}):
        answer = await world.http.get("/v1/payments", headers=headers)  # 401 as well: every answer has one
        made = answer.headers.get_list("x-request-id")
        assert len(made) == 1 and len(made[0]) == 32 and int(made[0], 16) >= 0
