"""Errors an adapter raises; the gateway maps them to HTTP in one place (gateway/problems.py)."""

from __future__ import annotations


class ProviderError(Exception):
    """A provider call did not give a usable answer."""

    def __init__(self, provider: str, message: str, *, codes: dict[str, str] | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message
        self.codes = codes or {}


class ProviderUnavailable(ProviderError):
    """Timeout, connection failure or 5xx: the outcome of the call is unknown and must be queried later."""


class ProviderRejected(ProviderError):
    """The provider answered and refused the request; retrying the same request will not help."""


class InvalidSignature(ProviderError):
    """A message claiming to come from the provider does not carry a valid signature."""
