"""Where webhooks may go: https to public internet addresses, so a portal cannot aim them into our network.

A portal's URL is checked when it is registered and again before every delivery, after resolving its name
to every address it has: a name may resolve elsewhere later (DNS rebinding). The delivery then connects to
the address that was checked, not to whatever the name resolves to a moment later.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import httpx

from gateway.errors import Unprocessable
from gateway.settings import Settings

IPAddress = IPv4Address | IPv6Address
# (host, port) -> the addresses the name has, as text; raises OSError when it has none.
NameResolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = IPv6Network("64:ff9b::/96")
_MUST_USE_HTTPS = "The webhook URL must use https."
_MUST_BE_PUBLIC = "The webhook URL's host must resolve, and only to public internet addresses."


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class TargetRefused(Unprocessable):
    type_slug = "webhook-target-refused"
    title = "The webhook URL is not allowed"

    def __init__(self, reason: str) -> None:
        # One message for a name that does not resolve and one that resolves inside: telling them apart
        # would let a portal ask which internal names exist.
        message = _MUST_USE_HTTPS if reason == "scheme" else _MUST_BE_PUBLIC
        super().__init__(message, errors=[{"key": "url", "source": "body", "message": message}])
        self.reason = reason  # "scheme", "address" or "unresolved"


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast; an IPv4 address carried inside IPv6 is judged as itself."""
    if isinstance(address, IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
        if address.is_site_local:
            return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


@dataclass(frozen=True)
class Target:
    """What to send a delivery to: `url` names the checked address; the name goes in Host and TLS SNI."""

    url: httpx.URL
    extensions: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class Targets:
    def __init__(self, settings: Settings, resolver: NameResolver | None = None) -> None:
        self.allow_http = settings.webhook_allow_http
        # Development is the default environment, so it allows no more than it must: the gateway's own
        # origin, where the demo portal receives its webhooks (http://127.0.0.1:8000 under `make run`).
        development = settings.environment == "development"
        self.own_origin = _origin(httpx.URL(settings.public_base_url)) if development else None
        self.networks: list[IPv4Network | IPv6Network] = []
        self.names: set[str] = set()
        for entry in settings.webhook_allowed_hosts:
            try:
                self.networks.append(ip_network(entry, strict=False))
            except ValueError:
                self.names.add(_name(entry))
        self.resolver = resolver or system_resolver
        self.resolve_seconds = settings.webhook_timeout_seconds

    async def check(self, url: str) -> Target:
        """The target to deliver `url` to, or TargetRefused."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise TargetRefused("scheme") from None
        if parsed.scheme not in ("https", "http") or not parsed.host:
            raise TargetRefused("scheme")
        if _origin(parsed) == self.own_origin:
            return Target(parsed)
        if parsed.scheme == "http" and not self.allow_http:
            raise TargetRefused("scheme")
        host = parsed.raw_host.decode("ascii")
        if _name(host) in self.names:
            return Target(parsed)  # allowed by name: wherever it resolves
        try:
            literal: IPAddress | None = ip_address(host)
        except ValueError:
            literal = None
        port = parsed.port or _PORTS[parsed.scheme]
        addresses = [literal] if literal is not None else await self._resolve(host, port)
        if not all(self._allowed(address) for address in addresses):
            raise TargetRefused("address")
        if literal is not None:
            return Target(parsed)
        return Target(
            parsed.copy_with(host=str(addresses[0])),
            extensions={"sni_hostname": host},
            headers={"host": parsed.netloc.decode("ascii")},
        )

    async def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            async with asyncio.timeout(self.resolve_seconds):
                found = await self.resolver(host, port)
            # A link-local IPv6 address comes with its interface ("fe80::1%eth0"): judged without it.
            addresses = [ip_address(text.partition("%")[0]) for text in found]
        except (OSError, TimeoutError, ValueError):
            raise TargetRefused("unresolved") from None
        if not addresses:
            raise TargetRefused("unresolved")
        return addresses

    def _allowed(self, address: IPAddress) -> bool:
        return is_public(address) or any(address in network for network in self.networks)


_PORTS = {"https": 443, "http": 80}


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    return url.scheme, _name(url.raw_host.decode("ascii")), url.port or _PORTS.get(url.scheme, 0)


def _name(host: str) -> str:
    return host.lower().rstrip(".")
