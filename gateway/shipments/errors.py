"""The shipments' own domain errors; gateway/problems.py maps every DomainError to HTTP."""

from __future__ import annotations

from gateway.errors import Conflict, DomainError, Unprocessable


class ShipmentTransition(Conflict):
    type_slug = "invalid-shipment-transition"
    title = "The shipment is not in a state that allows this"


class InvalidAddress(Unprocessable):
    type_slug = "invalid-address"
    title = "An address is not on today's list of provinces and wards"


class CarrierNotConfigured(DomainError):
    status = 503
    type_slug = "carrier-not-configured"
    title = "No postal carrier is configured on this gateway"
