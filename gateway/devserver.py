"""`make run`: one command from a fresh checkout to a gateway with its simulators, ready to use."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import subprocess
import sys
import time

import httpx
import uvicorn

from adapters.carriers import CARRIERS
from adapters.registry import REGISTRY
from gateway.cli import create_client, create_staff
from gateway.db.migrate import upgrade
from gateway.demo.controller import DEMO_CLIENT_NAME
from gateway.settings import ROOT, Settings

DEV_CLIENT_FILE = ROOT / "var" / "dev-portal.json"
DEV_STAFF_FILE = ROOT / "var" / "dev-staff.json"
# The VNPost simulator assigns a shipment to the post office of its province: 011000 for Hà Nội (01).
DEV_STAFF = [("buudien.hanoi", "postal", "011000"), ("taichinh", "finance", None)]
SIMULATORS = [
    (s.title, s.module, s.port)
    for s in [e.simulator for e in REGISTRY.values()] + [c.simulator for c in CARRIERS.values()]
]


def _dev_client(settings: Settings) -> dict[str, str]:
    """The dev portal is the demo's portal, so what you do with its key shows up on /demo too.

    Its key is shown once at creation, so it is kept in var/ for the next `make run`.
    """
    if DEV_CLIENT_FILE.exists():
        return dict(json.loads(DEV_CLIENT_FILE.read_text()))
    hook = f"{settings.public_base_url}/demo/webhooks"
    client_id, api_key, secret = asyncio.run(create_client(settings, DEMO_CLIENT_NAME, hook))
    data = {"client_id": client_id, "api_key": api_key, "webhook_secret": secret, "webhook_url": hook}
    DEV_CLIENT_FILE.write_text(json.dumps(data, indent=2))
    DEV_CLIENT_FILE.chmod(0o600)
    return data


def _dev_staff(settings: Settings) -> list[dict[str, str]]:
    """Staff accounts for /staff, made once with random passwords kept in var/ (like the dev portal's key)."""
    if DEV_STAFF_FILE.exists():
        return list(json.loads(DEV_STAFF_FILE.read_text()))
    accounts = []
    for username, role, office in DEV_STAFF:
        password = secrets.token_urlsafe(12)
        asyncio.run(create_staff(settings, username, password, role, office))
        accounts.append({"username": username, "password": password, "role": role, "office": office or "-"})
    DEV_STAFF_FILE.write_text(json.dumps(accounts, indent=2, ensure_ascii=False))
    DEV_STAFF_FILE.chmod(0o600)
    return accounts


def _wait_until_up(url: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def run(settings: Settings) -> None:
    (ROOT / "var").mkdir(exist_ok=True)
    upgrade(settings.database_url)
    client = _dev_client(settings)
    staff = _dev_staff(settings)
    children = [
        subprocess.Popen([sys.executable, "-m", module, "--port", str(port)], cwd=ROOT)  # noqa: S603 - fixed argv
        for _, module, port in SIMULATORS
    ]
    # uvicorn re-raises the SIGTERM it caught once it has stopped; as SystemExit it lets `finally` stop the
    # simulators instead of leaving them running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        for _, _, port in SIMULATORS:
            _wait_until_up(f"http://127.0.0.1:{port}/")
        base = settings.public_base_url
        print(
            f"""
dvc-gateway is starting at {base}
  API docs          {base}/schema
  demo (be the portal)  {base}/demo
  database          {settings.database_url}
  dev portal client {client["client_id"]}
    API key         {client["api_key"]}
    webhook secret  {client["webhook_secret"]}
    webhook URL     {client["webhook_url"]}
  staff pages       {base}/staff/login
"""
            + "".join(f"    {a['role']:<8} {a['username']} / {a['password']} (office {a['office']})\n" for a in staff)
            + "\n".join(f"  {name} simulator  http://127.0.0.1:{port}/" for name, _, port in SIMULATORS)
            + "\n\nCtrl-C stops everything.\n",
            flush=True,
        )
        uvicorn.run("gateway.asgi:create", factory=True, host="127.0.0.1", port=8000, access_log=False)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=10)
