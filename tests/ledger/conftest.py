import pytest

from gateway.settings import Settings
from tests.gateway.conftest import settings as gateway_settings
from tests.gateway.conftest import world

__all__ = ["gateway_settings", "settings", "world"]


@pytest.fixture
def settings(gateway_settings: Settings) -> Settings:
    """The gateway tests' settings, with the receipt.* webhooks these tests are about."""
    return gateway_settings.model_copy(update={"receipt_webhooks_enabled": True})
