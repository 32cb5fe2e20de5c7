"""VNPost's settings (environment prefix DVCGW_VNPOST_); the defaults point at the simulator of `make run`."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.vnpost.config import VNPostConfig

# The simulator's published dev account (docs/simulators.md): fine on a laptop, never in production.
SIMULATOR_USERNAME = "dvcgw-dev"
SIMULATOR_PASSWORD = "dvcgw-dev-password"  # noqa: S105 - published on purpose
SIMULATOR_CUSTOMER_CODE = "DVCGW0001"
# The public half of the simulator's published dev key pair: pushes signed with its private half verify.
SIMULATOR_PUSH_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsayBANFYSpkXrq/ye2IR
M0hygJdn4eg/qt4+ki5Zaaf/GE0qGDE2u1xKf5nqBYhj7EcpgIb5BKQ/IEm0d04g
8WG088+cOSR21xkhvoLfJTVkLeAvW+kSQ67yT2S3F289Ejmq6h5TWoPreuDFs7wg
6sC1UvJKSNq5XEFe1XkvH6FNMXoOLiC6omkZms4gA08xgxyxOYJIqnEdvq5EWMLQ
1oh4F9Dy+xyJEpxa0E2aO10cUxjE11Ohs+9LuzqZjz1oD4/gTZMaLUSYYO+H+K6g
LZzu/k7LJ9xCbWxzVEKvcKQ3TZS7cEgHi8rJP4WrKeGSbxjDv5aX3qceBkLcGhk4
4QIDAQAB
-----END PUBLIC KEY-----
"""


class VNPostSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DVCGW_VNPOST_", env_file=".env", extra="ignore")

    enabled: bool = True
    username: str = Field(default=SIMULATOR_USERNAME, min_length=1, max_length=100)
    password: SecretStr = SecretStr(SIMULATOR_PASSWORD)
    customer_code: str = Field(default=SIMULATOR_CUSTOMER_CODE, min_length=1, max_length=50)
    api_url: str = "http://127.0.0.1:8201"
    push_public_key: str = Field(default=SIMULATOR_PUSH_PUBLIC_KEY, min_length=1, max_length=8192)
    timeout_seconds: float = Field(default=30.0, gt=0)
    token_ttl_seconds: float = Field(default=50 * 60, gt=0)

    def config(self) -> VNPostConfig:
        return VNPostConfig(
            username=self.username,
            password=self.password.get_secret_value(),
            customer_code=self.customer_code,
            api_url=self.api_url.rstrip("/"),
            push_public_key_pem=self.push_public_key,
            timeout_seconds=self.timeout_seconds,
            token_ttl_seconds=self.token_ttl_seconds,
        )

    def uses_simulator_secret(self) -> bool:
        """True while the password or the push key is the simulator's: the gateway must not run so outside
        development (a forged push would verify with a key whose private half is published)."""
        return (
            self.password.get_secret_value() == SIMULATOR_PASSWORD
            or self.push_public_key.strip() == SIMULATOR_PUSH_PUBLIC_KEY.strip()
        )
