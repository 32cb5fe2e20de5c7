"""A tiny app for tests/test_serving.py: answers with the id of the process that served the request."""

from __future__ import annotations

import os

from litestar import Litestar, get


@get("/pid")
async def pid() -> dict[str, int]:
    return {"pid": os.getpid()}


def create() -> Litestar:
    return Litestar([pid])
