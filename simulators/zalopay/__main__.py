"""Run the simulator: `python -m simulators.zalopay --port 8103 [--app APP_ID:KEY1:KEY2:CALLBACK_URL ...]`."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from .app import create_app
from .config import DEV_APP, App, SimulatorConfig


def parse_app(value: str) -> App:
    # The callback URL holds colons of its own, so only the first three separate fields.
    parts = value.split(":", 3)
    if len(parts) != 4 or not all(parts) or not parts[0].isdigit():
        raise argparse.ArgumentTypeError("expected APP_ID:KEY1:KEY2:CALLBACK_URL")
    app_id, key1, key2, callback_url = parts
    return App(app_id=int(app_id), key1=key1, key2=key2, callback_url=callback_url, name=app_id)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.zalopay", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--public-url", help="base URL clients reach the simulator at (default http://HOST:PORT)")
    parser.add_argument(
        "--app", action="append", type=parse_app, metavar="APP_ID:KEY1:KEY2:CALLBACK_URL", help="register an app"
    )
    parser.add_argument("--access-log", action="store_true", help="log requests; off by default")
    args = parser.parse_args(argv)
    config = SimulatorConfig(
        apps=args.app or [DEV_APP], public_url=args.public_url or f"http://{args.host}:{args.port}"
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    uvicorn.run(create_app(config), host=args.host, port=args.port, access_log=args.access_log)


if __name__ == "__main__":
    main()
