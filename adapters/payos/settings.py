"""payOS's settings (environment prefix DVCGW_PAYOS_); the defaults point at the simulator of `make run`."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.payos.config import PayOSConfig

# The simulator's published dev merchant: fine on a laptop, never in production (the gateway refuses to
# start with them outside development).
SIMULATOR_CLIENT_ID = "f0267014-6a8d-54b6-8dc9-927344eb98f0"
SIMULATOR_API_KEY = "7a14f3e7-69c5-5600-8c4d-8b9414bac196"
SIMULATOR_CHECKSUM_KEY = "a1dfd1fd7a02e56a50155b3419250535818d7e79defbab1128bfd78c28d75a38"


class PayOSSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DVCGW_PAYOS_", env_file=".env", extra="ignore")

    enabled: bool = True
    client_id: str = Field(default=SIMULATOR_CLIENT_ID, min_length=1, max_length=64)
    api_key: SecretStr = SecretStr(SIMULATOR_API_KEY)
    checksum_key: SecretStr = SecretStr(SIMULATOR_CHECKSUM_KEY)
    api_url: str = "http://127.0.0.1:8104"
    timeout_seconds: float = Field(default=30.0, gt=0)

    def config(self) -> PayOSConfig:
        return PayOSConfig(
            client_id=self.client_id,
            api_key=self.api_key.get_secret_value(),
            checksum_key=self.checksum_key.get_secret_value(),
            api_url=self.api_url,
            timeout_seconds=self.timeout_seconds,
        )

    def uses_simulator_secret(self) -> bool:
        return self.checksum_key.get_secret_value() == SIMULATOR_CHECKSUM_KEY
