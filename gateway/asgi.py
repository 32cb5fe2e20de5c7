from __future__ import annotations

from litestar import Litestar


def create() -> Litestar:
    """Entry point for ASGI servers (`uvicorn gateway.asgi:create --factory`); settings from env."""
    from gateway.app import create_app

    return create_app()
