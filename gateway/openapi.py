"""What the OpenAPI document (/schema/openapi.json) says beyond what Litestar reads off the handlers' types.

The problem responses every operation can give, the portal's API key as a security scheme, and the request
bodies' schemas as pydantic validates them. Litestar's own schemas for pydantic models drop what pydantic
enforces on an optional field (a phone's pattern, a refund amount's range) and that unknown fields are
refused; the schema plugin below hands out pydantic's own validation schema for the request models instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from litestar.enums import MediaType
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Operation, Parameter, Reference, Schema, SecurityRequirement, SecurityScheme
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.plugins import OpenAPISchemaPlugin
from litestar.types import Message, Scope
from litestar.typing import FieldDefinition
from pydantic import BaseModel, ConfigDict, Field

from adapters.registry import REGISTRY
from contracts.payments import PaymentCreate, RefundCreate
from contracts.shipments import QuoteCreate, ShipmentCreate, ShipmentEventIn
from contracts.webhooks import WebhookEndpointIn
from gateway.idempotency import MAX_KEY_LENGTH
from gateway.reconciliation.views import ResolveIn

PROBLEM_MEDIA_TYPE = "application/problem+json"

SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    "portalBearer": SecurityScheme(
        type="http", scheme="bearer", description="The portal's API key as 'Authorization: Bearer <key>'"
    ),
    "portalApiKey": SecurityScheme(
        type="apiKey", name="X-API-Key", security_scheme_in="header", description="The portal's API key"
    ),
}
# Either header: gateway/auth.py reads the bearer token first, X-API-Key otherwise.
PORTAL_KEY: list[SecurityRequirement] = [{"portalBearer": []}, {"portalApiKey": []}]

# Ids, codes and filters never hold a NUL (gateway/request_text.py refuses one in a path or a query).
NO_NUL = r"^[^\u0000]*$"
IDEMPOTENCY_KEY = "Idempotency-Key"
# gateway/idempotency.py refuses a missing or empty key (400) and a longer one (422) with its own problems, so
# the handlers take the header as optional and these state what that code enforces.
IDEMPOTENCY_KEY_SCHEMA = {"oneOf": None, "type": OpenAPIType.STRING, "minLength": 1, "maxLength": MAX_KEY_LENGTH}


@dataclasses.dataclass
class IdempotentOperation(Operation):
    """An operation that requires the Idempotency-Key header (see IDEMPOTENCY_KEY_SCHEMA)."""

    def __post_init__(self) -> None:
        for parameter in self.parameters or ():
            if isinstance(parameter, Parameter) and parameter.name == IDEMPOTENCY_KEY:
                parameter.required = True


class FieldError(BaseModel):
    key: str | None = Field(default=None, description="The field, parameter or header at fault")
    message: str
    source: str | None = Field(default=None, description="Where it was: body, query, path or header")


class ProblemDetails(BaseModel):
    """An RFC 9457 problem. `errors` lists the fields at fault in a 400; other members may follow."""

    model_config = ConfigDict(extra="allow", title="ProblemDetails")

    type: str = Field(description="A URI naming the kind of problem")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    errors: list[FieldError] | None = None


_WHY = {
    400: "The request is malformed or a field is invalid (see errors), or it holds a NUL character",
    401: "No API key, or one that is not valid",
    403: "This caller may not do this (finance endpoints: a finance staff session, or a finance client's key)",
    404: "No such resource for this portal",
    409: "The resource's state does not allow this, or the same Idempotency-Key is still being processed",
    413: "The request body is too large",
    415: "The request body is not JSON",
    422: "Well-formed but refused: see detail",
    429: "Too many requests; retry after the time Retry-After says",
    500: "The gateway failed; nothing was changed by this request",
    502: "The payment provider refused the request",
    503: "The gateway cannot serve now (a provider paused after repeated failures: see Retry-After)",
    504: "The payment provider did not answer",
}
# Any request can be malformed (a NUL in its query), and any can fail.
_EVERY = (400, 500)
# What every operation that needs the portal's key can answer besides.
_PORTAL = (401, 429)
# What an operation that reads a JSON body can answer besides.
BODY = (413, 415)


def problems(*statuses: int, portal: bool = True) -> dict[int, ResponseSpec]:
    """The problem responses of an operation: those every operation (and, with `portal`, every operation
    needing an API key) can give, and `statuses`."""
    codes = sorted({*_EVERY, *(_PORTAL if portal else ()), *statuses})
    return {
        code: ResponseSpec(
            data_container=ProblemDetails,
            description=_WHY[code],
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for code in codes
    }


def ok(data_container: Any, description: str, status: int = 200) -> dict[int, ResponseSpec]:
    """A success response other than the handler's own, such as /ready's 503."""
    return {status: ResponseSpec(data_container=data_container, description=description, media_type=MediaType.JSON)}


REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    PaymentCreate,
    RefundCreate,
    WebhookEndpointIn,
    QuoteCreate,
    ShipmentCreate,
    ShipmentEventIn,
    ResolveIn,
)
_ALIASES = {f.metadata.get("alias", f.name): f.name for f in dataclasses.fields(Schema)}
_SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
_SCHEMA_VALUES = {"items", "not", "additionalProperties", "contains"}


class RequestModelSchemas(OpenAPISchemaPlugin):
    """The request models' schemas as pydantic validates them; nested models are written in place."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value in REQUEST_MODELS

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        model: type[BaseModel] = field_definition.annotation
        document = model.model_json_schema(mode="validation")
        provider = document.get("properties", {}).get("provider")
        if provider is not None:
            # The names the registry knows (one not enabled here is a 422 provider-disabled).
            provider["enum"] = list(REGISTRY)
        defs = document.pop("$defs", {})
        # Registered as a component: the operation refers to it by name, as to Litestar's own.
        schema: Schema = schema_creator.schema_registry.get_schema_for_field_definition(field_definition)
        built = _to_schema(document, defs)
        for field in dataclasses.fields(Schema):
            setattr(schema, field.name, getattr(built, field.name))
        return schema


def _to_schema(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Schema:
    if "$ref" in node:
        return _to_schema(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    node = dict(node)
    # pydantic leaves a range it cannot place on the type (VND's, behind a BeforeValidator) as ge/le.
    if "ge" in node:
        node["minimum"] = node.pop("ge")
    if "le" in node:
        node["maximum"] = node.pop("le")
    if node.get("format") == "ipvanyaddress":
        del node["format"]
        node["anyOf"] = [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"}]
    values: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_LISTS:
            values[_ALIASES[key]] = [_to_schema(v, defs) for v in value]
        elif key in _SCHEMA_VALUES and isinstance(value, Mapping):
            values[_ALIASES[key]] = _to_schema(value, defs)
        elif key == "properties":
            values["properties"] = {k: _to_schema(v, defs) for k, v in value.items()}
        elif key == "type":
            values["type"] = OpenAPIType(value)
        elif key == "format":
            values["format"] = OpenAPIFormat(value)
        else:
            values[_ALIASES[key]] = value
    return Schema(**values)


def allow_every_method(message: Message, scope: Scope) -> None:
    """The Allow header of Litestar's own answer to OPTIONS, listing every method of the path.

    Litestar 2 lists only the methods of the first handler registered for a path (litestar-org/litestar#4169,
    fixed in 3): OPTIONS /v1/payments said "OPTIONS, POST" where the document lists GET and POST.
    """
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    headers = message.get("headers") or []
    if not any(name.lower() == b"allow" for name, _ in headers):
        return
    routes = scope["litestar_app"].route_handler_method_map
    methods = {method for path in scope["route_handler"].paths for method in routes.get(path, ())}
    allow = ", ".join(sorted(methods)).encode()
    message["headers"] = [(n, v) for n, v in headers if n.lower() != b"allow"] + [(b"allow", allow)]
