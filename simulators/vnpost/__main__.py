"""Run the simulator: `python -m simulators.vnpost --port 8201 [--callback-url URL]`."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from .app import create_app
from .config import DEV_ACCOUNT, SimulatorConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.vnpost", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8201)
    parser.add_argument(
        "--callback-url",
        default="http://127.0.0.1:8000/callbacks/vnpost",
        help="where status pushes go (the gateway's /callbacks/vnpost)",
    )
    parser.add_argument(
        "--push-retry",
        default="3,10,30,60,300",
        help="seconds before each further push while the partner has not answered 200 ('' for none)",
    )
    parser.add_argument("--access-log", action="store_true", help="log requests; off by default")
    args = parser.parse_args(argv)
    config = SimulatorConfig(
        accounts=[DEV_ACCOUNT],
        callback_url=args.callback_url,
        push_retry_intervals=tuple(float(s) for s in args.push_retry.split(",") if s.strip()),
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    uvicorn.run(create_app(config), host=args.host, port=args.port, access_log=args.access_log)


if __name__ == "__main__":
    main()
