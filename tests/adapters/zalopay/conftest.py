from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.zalopay.config import ZaloPayConfig
from adapters.zalopay.settings import SIMULATOR_KEY1, SIMULATOR_KEY2

FIXTURES = Path(__file__).parent / "fixtures"
HOST = "https://sb-openapi.zalopay.vn"


@pytest.fixture
def config() -> ZaloPayConfig:
    # ZaloPay's public sandbox app, the one its published callback example is signed for.
    return ZaloPayConfig(app_id=2553, key1=SIMULATOR_KEY1, key2=SIMULATOR_KEY2, api_url=HOST, timeout_seconds=5)


def fixture(name: str) -> dict[str, Any]:
    data = json.loads((FIXTURES / name).read_text())
    data.pop("_source", None)
    return data
