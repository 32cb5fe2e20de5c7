"""`make run`: one command from a fresh checkout to a gateway with its simulators, ready to use."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import httpx
import uvicorn

from adapters.carriers import CARRIERS
from adapters.registry import REGISTRY
from gateway.cli import create_client
from gateway.db.migrate import upgrade
from gateway.demo.controller import DEMO_CLIENT_NAME
from gateway.settings import ROOT, Settings

DEV_CLIENT_FILE = ROOT / "var" / "dev-portal.json"
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
    children = [
        subprocess.Popen([sys.executable, "-m", module, "--port", str(port)], cwd=ROOT)  # noqa: S603 - fixed argv
        for _, module, port in SIMULATORS
    ]
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
"""
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
