"""Authentication, isolation between portals, and bad input answered with RFC 9457 problems."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, get_args

import httpx
import pytest
from litestar import Litestar
from pydantic import BaseModel
from sqlalchemy import func, select

from contracts.limits import URL_MAX_SENT
from contracts.payments import FeeLineIn, Payer, PaymentCreate, RefundCreate
from contracts.shipments import QuoteCreate, ShipmentCreate, ShipmentEventIn
from contracts.webhooks import WebhookEndpointIn
from gateway.content_type import takes_json
from gateway.db.models import Base, Client, Payment, ProviderNotification, Refund
from tests.harness import World, payment_body, reference_of
from tests.shipments.bodies import shipment_body

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


# --- Lengths: every string an input model takes fits the column it is stored in ---------------------------


def _code(n: int) -> str:
    return "A" * n


def _text(n: int) -> str:
    return "ệ" * n  # PostgreSQL's varchar counts characters, not bytes


def _url(n: int) -> str:
    prefix = "https://portal.example.vn/"
    return prefix + "a" * (n - len(prefix))


def _email(n: int) -> str:
    local, domain = "a" * 64, "vn"
    while len(domain) < n - 65:  # labels of at most 63 characters, each with its dot
        domain = "b" * min(63, n - 65 - len(domain) - 1) + "." + domain
    return f"{local}@{domain}"


def _ip(n: int) -> str:
    return "fe80::1%" + "z" * (n - 8)  # an IPv6 zone has no bound of its own


def _digits(n: int) -> str:
    return "0" * n


@dataclass(frozen=True)
class Stored:
    """Where a field is stored, and `make(n)`: a valid value whose stored form is n characters long."""

    column: Any  # the model's column
    make: Callable[[int], str]
    key: str | None = None  # the key inside a JSON column: no bound there but the model's own
    at_limit: bool = True  # False where a pattern bounds the field well below its column
    longest: int | None = None  # the longest accepted, where it is not the column's length


STORED: dict[tuple[type[BaseModel], str], Stored] = {
    (PaymentCreate, "dossier_code"): Stored(Payment.dossier_code, _code),
    (PaymentCreate, "agency_code"): Stored(Payment.agency_code, _code),
    (PaymentCreate, "procedure_code"): Stored(Payment.procedure_code, _code),
    (PaymentCreate, "provider"): Stored(Payment.provider, lambda n: "a" * n, at_limit=False),  # an enabled one
    (PaymentCreate, "return_url"): Stored(Payment.return_url, _url, longest=URL_MAX_SENT),
    (PaymentCreate, "citizen_ip"): Stored(Payment.client_ip, _ip),
    (Payer, "name"): Stored(Payment.payer_name, _text),
    (Payer, "phone"): Stored(Payment.payer_phone, _digits, at_limit=False),
    (Payer, "email"): Stored(Payment.payer_email, _email),
    (FeeLineIn, "code"): Stored(Payment.lines, _code, key="code"),
    (FeeLineIn, "description"): Stored(Payment.lines, _text, key="description"),
    (RefundCreate, "reason"): Stored(Refund.reason, _text),
    (WebhookEndpointIn, "url"): Stored(Client.webhook_url, _url, longest=URL_MAX_SENT),
}


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models_in(arg)


def _input_models(app: Litestar) -> set[type[BaseModel]]:
    """The body models of every route, and the models they hold."""
    todo = [
        data.annotation
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if (data := handler.parsed_fn_signature.parameters.get("data")) is not None
    ]
    found: set[type[BaseModel]] = set()
    while todo:
        model = todo.pop()
        if model not in found:
            found.add(model)
            todo.extend(m for f in model.model_fields.values() for m in _models_in(f.annotation))
    return found


def _is_string(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" or any(_is_string(s) for s in schema.get("anyOf", []))


def _bound(model: type[BaseModel], field: str, stored: Stored) -> int:
    if stored.longest is not None:
        return stored.longest
    if stored.key is None:
        length: int = stored.column.type.length
        return length
    # The model's own bound (its StringConstraints), as the JSON column has none.
    [bound] = [m.max_length for m in model.model_fields[field].metadata if getattr(m, "max_length", None)]
    return int(bound)


async def _send(world: World, model: type[BaseModel], field: str, value: str, payment_id: str) -> httpx.Response:
    if model is WebhookEndpointIn:
        world.dns.records["portal.example.vn"] = ["14.225.0.10"]  # a public address: the target is allowed
        return await world.http.put("/v1/webhook-endpoint", json={field: value}, headers=world.auth())
    if model is RefundCreate:
        return await world.http.post(
            f"/v1/payments/{payment_id}/refunds",
            json={"reason": "Hồ sơ bị từ chối", field: value},
            headers={**world.auth(), "Idempotency-Key": str(uuid.uuid4())},
        )
    body = payment_body()
    {PaymentCreate: body, Payer: body["payer"], FeeLineIn: body["fee_lines"][0]}[model][field] = value
    return await world.create_payment(body)


async def _everything(world: World) -> dict[str, Any]:
    async with world.app.state.sessionmaker() as session:
        counts = {
            t.name: await session.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
            if t.name != "rate_limit_counters"  # every request counts, refused or not
        }
        return {**counts, "webhook_urls": sorted(map(str, await session.scalars(select(Client.webhook_url))))}


def _refused_as_bad_input(r: httpx.Response) -> None:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/validation") and r.json()["errors"]


async def test_every_string_an_input_model_takes_has_its_column(world: World) -> None:
    walked = {
        (model, name)
        for model in _input_models(world.app)
        for name, schema in model.model_json_schema()["properties"].items()
        if _is_string(schema)
    }
    # The shipments' own are tested beside them, with a carrier (tests/shipments/test_lengths.py).
    from tests.shipments.test_lengths import SHIPMENT_STORED

    assert walked == set(STORED) | set(SHIPMENT_STORED)  # a new string field needs its entry, and a test of its bound


@pytest.mark.parametrize(("model", "field"), list(STORED), ids=[f"{m.__name__}.{f}" for m, f in STORED])
async def test_a_string_longer_than_its_column_is_refused_and_changes_nothing(
    world: World, model: type[BaseModel], field: str
) -> None:
    # PostgreSQL refused such a value with SQLSTATE 22001 (a 500); SQLite stored it.
    payment = (await world.create_payment()).json()
    before = await _everything(world)
    stored = STORED[model, field]
    too_long = stored.make(_bound(model, field, stored) + 1)
    _refused_as_bad_input(await _send(world, model, field, too_long, payment["id"]))
    assert await _everything(world) == before


@pytest.mark.parametrize(
    ("model", "field"),
    [k for k, v in STORED.items() if v.at_limit],
    ids=[f"{m.__name__}.{f}" for (m, f), v in STORED.items() if v.at_limit],
)
async def test_a_string_as_long_as_its_column_is_stored_whole(world: World, model: type[BaseModel], field: str) -> None:
    await world.faults(refund_pending=False)
    payment = (await world.create_payment()).json()
    await world.open_checkout(payment["checkout_url"])
    await world.settle(reference_of(payment), "00")
    stored = STORED[model, field]
    value = stored.make(_bound(model, field, stored))
    r = await _send(world, model, field, value, payment["id"])
    assert r.status_code in (200, 201), r.text
    async with world.app.state.sessionmaker() as session:
        values = list(await session.scalars(select(stored.column)))
    if stored.key is not None:
        values = [line[stored.key] for lines in values for line in lines]
    assert value in values


@pytest.mark.parametrize("model", [PaymentCreate, WebhookEndpointIn])
async def test_a_url_is_measured_as_stored(world: World, model: type[BaseModel]) -> None:
    # 246 characters as sent; percent-encoded ("ế" is "%E1%BA%BF"), 2,006 as stored.
    url = "https://portal.example.vn/" + "ế" * 220
    field = "return_url" if model is PaymentCreate else "url"
    before = await _everything(world)
    _refused_as_bad_input(await _send(world, model, field, url, ""))
    assert await _everything(world) == before
    fits = "https://portal.example.vn/" + "ế" * 219  # 1,997 as stored
    assert (await _send(world, model, field, fits, "")).status_code in (200, 201)


async def test_an_idempotency_key_longer_than_its_column_is_refused(world: World) -> None:
    before = await _everything(world)
    assert (await world.create_payment(idem="k" * 256)).status_code == 422
    assert await _everything(world) == before
    assert (await world.create_payment(idem="k" * 255)).status_code == 201


# --- Content-Type: a JSON body must be declared as JSON ---------------------------------------------------

BODIES: dict[type[BaseModel], dict[str, Any]] = {
    PaymentCreate: payment_body(),
    RefundCreate: {"reason": "Hồ sơ bị từ chối"},
    WebhookEndpointIn: {"url": "https://portal.example.vn/hooks"},
    ShipmentCreate: shipment_body(),
    QuoteCreate: {k: shipment_body()[k] for k in ("kind", "sender", "recipient", "parcel")},
    ShipmentEventIn: {"status": "picked_up"},
}


def _json_routes(app: Litestar) -> list[tuple[str, str, type[BaseModel]]]:
    return [
        (method, route.path, handler.parsed_fn_signature.parameters["data"].annotation)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if takes_json(handler)
        for method in handler.http_methods
    ]


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/x-www-form-urlencoded", "application/xml"])
async def test_a_json_body_not_declared_as_json_is_a_415_problem_and_changes_nothing(
    world: World, content_type: str | None
) -> None:
    payment = (await world.create_payment()).json()
    routes = _json_routes(world.app)
    assert {model for _, _, model in routes} == set(BODIES)
    before = await _everything(world)
    for method, path, model in routes:
        headers = {**world.auth(), "Idempotency-Key": str(uuid.uuid4())}
        if content_type:
            headers["Content-Type"] = content_type
        url = re.sub(r"\{\w+:\w+\}", payment["id"], path)
        r = await world.http.request(method, url, content=json.dumps(BODIES[model]), headers=headers)
        assert r.status_code == 415, (method, path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json") and r.json()["status"] == 415
    assert await _everything(world) == before


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8", "application/vnd.x+json"],
)
async def test_json_with_parameters_or_a_json_suffix_is_taken(world: World, content_type: str) -> None:
    headers = {**world.auth(), "Idempotency-Key": str(uuid.uuid4()), "Content-Type": content_type}
    r = await world.http.post("/v1/payments", content=json.dumps(payment_body()), headers=headers)
    assert r.status_code == 201, r.text


async def test_requests_without_a_json_body_need_no_content_type(world: World) -> None:
    payment = (await world.create_payment()).json()
    r = await world.http.post(
        f"/v1/payments/{payment['id']}/cancel", headers={**world.auth(), "Content-Type": "text/plain"}
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
