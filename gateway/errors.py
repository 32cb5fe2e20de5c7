"""Domain errors. Services raise these; gateway/problems.py alone turns them into HTTP."""

from __future__ import annotations

from typing import Any

# RFC 9457's own members: an extension by one of these names would overwrite them in the problem body.
_PROBLEM_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})


class DomainError(Exception):
    status = 400
    type_slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        if clash := _PROBLEM_MEMBERS & extra.keys():
            raise TypeError(f"a problem's extension may not be named {sorted(clash)}")
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status = 404
    type_slug = "not-found"
    title = "Not found"


class Unauthorized(DomainError):
    status = 401
    type_slug = "unauthorized"
    title = "Missing or invalid API key"


class UnsupportedMediaType(DomainError):
    status = 415
    type_slug = "unsupported-media-type"
    title = "The body is not in a media type this endpoint takes"


class Conflict(DomainError):
    status = 409
    type_slug = "conflict"
    title = "Conflict with the current state"


class InvalidTransition(Conflict):
    type_slug = "invalid-transition"
    title = "The payment is not in a state that allows this"


class Unprocessable(DomainError):
    status = 422
    type_slug = "unprocessable"
    title = "The request cannot be processed"


class RefundExceedsPaid(Unprocessable):
    type_slug = "refund-exceeds-paid"
    title = "Refunds cannot exceed what was paid"


class RefundNotOffered(Unprocessable):
    """The payment's provider has no refund through its API: the money has to go back another way."""

    type_slug = "refund-not-offered"
    title = "This payment's provider cannot refund through its API"


class PartialRefundNotOffered(Unprocessable):
    type_slug = "partial-refund-not-offered"
    title = "This payment's provider refunds only the whole payment"


class RefundBelowMinimum(Unprocessable):
    type_slug = "refund-below-minimum"
    title = "The refund is less than the provider's least refund"


class RefundWindowClosed(Unprocessable):
    type_slug = "refund-window-closed"
    title = "The provider's time for refunding this payment has passed"


class IdempotencyKeyMissing(DomainError):
    type_slug = "idempotency-key-missing"
    title = "Idempotency-Key header is required"


class IdempotencyKeyReused(Unprocessable):
    type_slug = "idempotency-key-reused"
    title = "Idempotency-Key was already used with a different request"


class IdempotencyKeyInFlight(Conflict):
    type_slug = "idempotency-key-in-flight"
    title = "A request with this Idempotency-Key is still being processed"


class UnknownProvider(DomainError):
    """A provider name the gateway does not know: invalid input, answered as a validation error."""

    type_slug = "validation"
    title = "The request is not valid"


class ProviderDisabled(Unprocessable):
    type_slug = "provider-disabled"
    title = "This payment provider is not enabled"


class ProviderDown(DomainError):
    """A provider's circuit breaker is open: new payments through it are refused for a while."""

    status = 503
    type_slug = "provider-down"
    title = "The payment provider is not taking payments now"
