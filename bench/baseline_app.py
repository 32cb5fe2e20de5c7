"""The framework's own limit: a bare Litestar app with one JSON POST endpoint validating a small pydantic body.

Served exactly like the gateway (`uvicorn bench.baseline_app:create --factory --workers N`), so the ratio
gateway/baseline isolates what the gateway adds: middleware, auth, idempotency, the database, logging.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Litestar, get, post
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w.\-/]+$")]


class EchoIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dossier_code: Code
    amount: int = Field(gt=0, le=10_000_000_000)
    payer_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class EchoOut(BaseModel):
    dossier_code: str
    amount: int
    accepted: bool


# The body the load tools send to the baseline (bench/scenarios.py reuses it).
BODY = {"dossier_code": "000.00.12.H29-241123-0001", "amount": 35000, "payer_name": "Nguyễn Văn An"}


@post("/echo", status_code=201)
async def echo(data: EchoIn) -> EchoOut:
    return EchoOut(dossier_code=data.dossier_code, amount=data.amount, accepted=True)


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def create() -> Litestar:
    return Litestar(route_handlers=[echo, health])
