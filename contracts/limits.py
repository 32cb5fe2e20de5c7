"""Lengths as the gateway stores values: what a column cannot hold is refused as bad input, never sent to it.

PostgreSQL refuses a string longer than its varchar column (a 500 had it got there); SQLite would keep it.
Most fields are stored as sent and `max_length` bounds them. A URL or an IP address is stored in its
normalised form (`str(value)`), which can be longer than what was sent: a URL's non-ASCII characters are
percent-encoded (one "ế" becomes nine characters), its host written in Punycode, a "/" added to an empty
path; an IPv6 address may carry a zone ("%eth0") of any length. Those are measured once normalised.
tests/gateway/test_api_edges.py walks every string of every input model against its column.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, AnyHttpUrl, IPvAnyAddress, UrlConstraints
from pydantic_core import PydanticCustomError

URL_MAX_LENGTH = 2000
IP_MAX_LENGTH = 45  # payments.client_ip: room for the longest IPv6 text, one with an IPv4 tail


def stored_at_most(limit: int) -> AfterValidator:
    """Refuses a value whose stored form, str(value), is longer than `limit` characters."""

    def check(value: Any) -> Any:
        if len(str(value)) > limit:
            raise PydanticCustomError(
                "string_too_long",
                "should have at most {max_length} characters as stored (normalised)",
                {"max_length": limit},
            )
        return value

    return AfterValidator(check)


# UrlConstraints puts the bound in the OpenAPI schema and refuses an over-long input before it is parsed.
# It is one less than the column: an ASCII URL (what the schema's "uri" format allows) grows by at most
# the "/" of an empty path when normalised, so every URL the schema allows is stored whole.
URL_MAX_SENT = URL_MAX_LENGTH - 1
HttpUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=URL_MAX_SENT), stored_at_most(URL_MAX_LENGTH)]
IPAddress = Annotated[IPvAnyAddress, stored_at_most(IP_MAX_LENGTH)]
