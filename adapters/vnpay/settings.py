"""VNPay's settings (environment prefix DVCGW_VNPAY_); the defaults point at the simulator of `make run`."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.vnpay.config import VNPayConfig

# The simulator's published terminal and secret: fine on a laptop, never in production (the gateway
# refuses to start with them outside development).
SIMULATOR_HASH_SECRET = "DVCGWSANDBOXSECRETVNPAY000000001"  # noqa: S105 - published on purpose


class VNPaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DVCGW_VNPAY_", env_file=".env", extra="ignore")

    enabled: bool = True
    tmn_code: str = Field(default="DVCGW001", min_length=1, max_length=8)
    hash_secret: SecretStr = SecretStr(SIMULATOR_HASH_SECRET)
    payment_url: str = "http://127.0.0.1:8101/paymentv2/vpcpay.html"
    api_url: str = "http://127.0.0.1:8101/merchant_webapi/api/transaction"
    # The IP VNPay sees for querydr/refund requests (vnp_IpAddr of the merchant server).
    server_ip: str = "127.0.0.1"
    timeout_seconds: float = Field(default=30.0, gt=0)

    def config(self) -> VNPayConfig:
        return VNPayConfig(
            tmn_code=self.tmn_code,
            hash_secret=self.hash_secret.get_secret_value(),
            payment_url=self.payment_url,
            api_url=self.api_url,
            server_ip=self.server_ip,
            timeout_seconds=self.timeout_seconds,
        )

    def uses_simulator_secret(self) -> bool:
        return self.hash_secret.get_secret_value() == SIMULATOR_HASH_SECRET
