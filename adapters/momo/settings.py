"""MoMo's settings (environment prefix DVCGW_MOMO_); the defaults point at the simulator of `make run`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.momo.config import MoMoConfig

# MoMo's own public test merchant (its samples publish it), which the simulator serves too: fine on a
# laptop, never in production (the gateway refuses to start with it outside development).
SIMULATOR_PARTNER_CODE = "MOMO"
SIMULATOR_ACCESS_KEY = "F8BBA842ECF85"
SIMULATOR_SECRET_KEY = "K951B6PE1waDMi640xX08PD3vg6EkVlz"  # noqa: S105 - published on purpose


class MoMoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DVCGW_MOMO_", env_file=".env", extra="ignore")

    enabled: bool = True
    partner_code: str = Field(default=SIMULATOR_PARTNER_CODE, min_length=1, max_length=20)
    access_key: str = Field(default=SIMULATOR_ACCESS_KEY, min_length=1, max_length=64)
    secret_key: SecretStr = SecretStr(SIMULATOR_SECRET_KEY)
    api_url: str = "http://127.0.0.1:8102"
    request_type: Literal["captureWallet", "payWithATM"] = "captureWallet"
    lang: Literal["vi", "en"] = "vi"
    # MoMo asks for at least 30 s on query and refund.
    timeout_seconds: float = Field(default=30.0, gt=0)

    def config(self) -> MoMoConfig:
        return MoMoConfig(
            partner_code=self.partner_code,
            access_key=self.access_key,
            secret_key=self.secret_key.get_secret_value(),
            api_url=self.api_url.rstrip("/"),
            request_type=self.request_type,
            lang=self.lang,
            timeout_seconds=self.timeout_seconds,
        )

    def uses_simulator_secret(self) -> bool:
        return self.secret_key.get_secret_value() == SIMULATOR_SECRET_KEY
