"""`python -m bench.serve APP --port P [--workers N] [--log-level L]`: the bench serves both apps, baseline
and gateway, exactly as `dvc-gateway serve` does (gateway/serving.py: one SO_REUSEPORT socket per
worker). `--as-served` in bench.run serves them with plain `uvicorn --workers N` instead."""

from __future__ import annotations

import argparse
import sys

from gateway.serving import serve


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.serve")
    p.add_argument("app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--log-level", default="warning")
    a = p.parse_args(argv)
    sys.exit(serve(a.app, a.host, a.port, a.workers, a.log_level))


if __name__ == "__main__":
    main()
