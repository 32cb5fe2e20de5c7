"""Staff accounts and logins for the staff tests: the app in process, or a real server for the browser."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx
from litestar import Litestar

from gateway.clock import Clock
from gateway.staff.accounts import Role, create_account

GATEWAY = "http://gateway.test"
PASSWORD = "mật khẩu đủ dài 2026"
_HIDDEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _HIDDEN.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


@dataclass
class StaffWorld:
    app: Litestar
    http: httpx.AsyncClient
    clock: Clock

    async def add_staff(
        self, username: str, role: Role = Role.POSTAL, office: str | None = "100000", password: str = PASSWORD
    ) -> str:
        async with self.app.state.sessionmaker() as session:
            account = await create_account(session, username, password, role, office, self.clock.now())
            await session.commit()
            return account.id

    async def login(
        self, username: str, password: str = PASSWORD, http: httpx.AsyncClient | None = None
    ) -> httpx.Response:
        """Loads the login form (its token and cookie) and sends it, as a browser does."""
        http = http or self.http
        form = await http.get("/staff/login")
        assert form.status_code == 200, form.text
        return await http.post(
            "/staff/login",
            data={"username": username, "password": password, "csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )


async def add_portal(app: Litestar, clock: Clock, name: str = "Cổng DVC tỉnh") -> str:
    """A portal client; its API key."""
    from gateway.auth import new_client

    async with app.state.sessionmaker() as session:
        client, key = new_client(name, clock.now(), None)
        session.add(client)
        await session.commit()
    return key


async def book_shipment(http: httpx.AsyncClient, api_key: str, **overrides: object) -> dict[str, object]:
    """A shipment booked by the portal through the API; the fake carrier assigns it to OFFICE."""
    from tests.shipments.conftest import shipment_body

    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": str(uuid.uuid4())}
    r = await http.post("/v1/shipments", json=shipment_body(**overrides), headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())
