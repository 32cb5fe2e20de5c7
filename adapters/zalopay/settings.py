"""ZaloPay's settings (environment prefix DVCGW_ZALOPAY_); the defaults point at the simulator of `make run`."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.zalopay.config import ZaloPayConfig

# ZaloPay's public sandbox app (docs and samples publish it); the simulator serves the same. Fine on a laptop,
# never in production (the gateway refuses to start with them outside development).
SIMULATOR_APP_ID = 2553
SIMULATOR_KEY1 = "PcY4iZIKFCIdgZvA6ueMcMHHUbRLYjPL"
SIMULATOR_KEY2 = "kLtgPl8HHhfvMuDHPwKfgfsY4Ydm9eIz"


class ZaloPaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DVCGW_ZALOPAY_", env_file=".env", extra="ignore")

    enabled: bool = True
    app_id: int = Field(default=SIMULATOR_APP_ID, gt=0)
    key1: SecretStr = SecretStr(SIMULATOR_KEY1)
    key2: SecretStr = SecretStr(SIMULATOR_KEY2)
    # ZaloPay's host (sandbox https://sb-openapi.zalopay.vn, production https://openapi.zalopay.vn).
    api_url: str = "http://127.0.0.1:8103"
    app_user: str = Field(default="dvc-gateway", min_length=1, max_length=50)
    timeout_seconds: float = Field(default=30.0, gt=0)

    def config(self) -> ZaloPayConfig:
        return ZaloPayConfig(
            app_id=self.app_id,
            key1=self.key1.get_secret_value(),
            key2=self.key2.get_secret_value(),
            api_url=self.api_url.rstrip("/"),
            app_user=self.app_user,
            timeout_seconds=self.timeout_seconds,
        )

    def uses_simulator_secret(self) -> bool:
        return self.key1.get_secret_value() == SIMULATOR_KEY1 or self.key2.get_secret_value() == SIMULATOR_KEY2
