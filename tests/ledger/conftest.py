from tests.gateway.conftest import settings, world

__all__ = ["settings", "world"]
