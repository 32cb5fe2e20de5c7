from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VNPostConfig:
    username: str
    password: str
    customer_code: str  # the partner's CRM code at VNPost (customerCode)
    api_url: str  # MyVNPost's host and base path, e.g. https://my.vnpost.vn/MYVNP_API; /customer-partner/* is added
    push_public_key_pem: str  # the key VNPost signs its status pushes with
    timeout_seconds: float = 30.0
    # How long a token is used before a new one is asked for; a 401 renews it sooner. MyVNPost publishes
    # no lifetime (UNVERIFIED), so the adapter renews well within the simulator's hour.
    token_ttl_seconds: float = 50 * 60

    def __repr__(self) -> str:  # the password must never reach a log line
        return f"VNPostConfig(customer_code={self.customer_code!r}, api_url={self.api_url!r})"
