"""The yardstick: a bare Litestar app, served the way `dvc-gateway serve` serves the gateway.

python -m bench.bare_app --port P [--workers N]
"""

from __future__ import annotations

import argparse
import sys

from litestar import Litestar, get

from gateway.serving import serve


@get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


def create() -> Litestar:
    return Litestar(route_handlers=[hello])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.bare_app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    sys.exit(serve("bench.bare_app:create", "127.0.0.1", args.port, args.workers, "warning"))
