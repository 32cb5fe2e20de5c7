"""Run the simulator: `python -m simulators.payos --port 8104 [--webhook-url URL]`."""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace

import uvicorn

from .app import create_app
from .config import DEV_MERCHANT, SimulatorConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.payos", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8104)
    parser.add_argument("--public-url", help="base URL clients reach the simulator at (default http://HOST:PORT)")
    parser.add_argument(
        "--webhook-url",
        default=DEV_MERCHANT.webhook_url,
        help="the dev merchant's webhook URL until POST /confirm-webhook registers another",
    )
    args = parser.parse_args(argv)
    merchant = replace(DEV_MERCHANT, webhook_url=args.webhook_url)
    config = SimulatorConfig(merchants=[merchant], public_url=args.public_url or f"http://{args.host}:{args.port}")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    uvicorn.run(create_app(config), host=args.host, port=args.port, access_log=False)


if __name__ == "__main__":
    main()
