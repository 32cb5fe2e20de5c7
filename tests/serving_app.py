"""A tiny app for tests/test_serving.py: answers with the id of the process that served the request,
and the state of its garbage collector."""

from __future__ import annotations

import gc
import os

from litestar import Litestar, get


@get("/pid")
async def pid() -> dict[str, int]:
    return {"pid": os.getpid(), "gc_frozen": gc.get_freeze_count()}


def create() -> Litestar:
    return Litestar([pid])
