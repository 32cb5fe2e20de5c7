"""Run the simulator: `python -m simulators.momo --port 8102`."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from .app import create_app
from .config import DEV_MERCHANT, SimulatorConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.momo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--public-url", help="base URL clients reach the simulator at (default http://HOST:PORT)")
    parser.add_argument(
        "--ipn-retry",
        default="3,10,30,60,300",
        help="seconds before each further IPN delivery while the merchant has not answered 204 ('' for none)",
    )
    parser.add_argument("--access-log", action="store_true", help="log requests (off: redirects carry signed data)")
    args = parser.parse_args(argv)
    config = SimulatorConfig(
        merchants=[DEV_MERCHANT],
        public_url=args.public_url or f"http://{args.host}:{args.port}",
        ipn_retry_intervals=tuple(float(s) for s in args.ipn_retry.split(",") if s.strip()),
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    uvicorn.run(create_app(config), host=args.host, port=args.port, access_log=args.access_log)


if __name__ == "__main__":
    main()
