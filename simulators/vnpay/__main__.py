"""Run the simulator: `python -m simulators.vnpay --port 8101 [--merchant TMN:SECRET:IPN_URL ...]`."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from .app import create_app
from .config import DEV_MERCHANT, Merchant, SimulatorConfig


def parse_merchant(value: str) -> Merchant:
    # The IPN URL holds colons of its own, so only the first two separate fields.
    parts = value.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise argparse.ArgumentTypeError("expected TMN_CODE:HASH_SECRET:IPN_URL")
    tmn_code, secret, ipn_url = parts
    return Merchant(tmn_code=tmn_code, hash_secret=secret, ipn_url=ipn_url, name=tmn_code)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.vnpay", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--public-url", help="base URL clients reach the simulator at (default http://HOST:PORT)")
    parser.add_argument(
        "--merchant",
        action="append",
        type=parse_merchant,
        metavar="TMN:SECRET:IPN_URL",
        help="register a terminal (repeatable); default is the DVC Gateway dev merchant",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log requests; off by default as query strings carry signed data",
    )
    args = parser.parse_args(argv)

    config = SimulatorConfig(
        merchants=args.merchant or [DEV_MERCHANT],
        public_url=args.public_url or f"http://{args.host}:{args.port}",
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # httpx logs each request URL, and an IPN URL carries the signed payment result.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    uvicorn.run(create_app(config), host=args.host, port=args.port, access_log=args.access_log)


if __name__ == "__main__":
    main()
