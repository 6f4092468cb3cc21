"""What the social adapters need beyond channels.base: a transport that posts a raw JSON body.

channels.http_transport.RequestsTransport has post_body; a transport without it (an SMS-only
fake) makes the send fail permanently with a clear error instead of an AttributeError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from channels.base import HttpResponse, HttpTransport, SendError


@runtime_checkable
class BodyTransport(Protocol):
    def post_body(self, url: str, body: bytes, *, headers: Mapping[str, str], timeout: float) -> HttpResponse: ...


def body_transport(transport: HttpTransport) -> BodyTransport:
    if not isinstance(transport, BodyTransport):
        raise SendError("The transport cannot post JSON bodies (it has no post_body).", permanent=True)
    return transport


def dumps(payload: Mapping[str, object]) -> bytes:
    # Unescaped UTF-8: WeChat shows \uXXXX escapes literally, and Graph takes either.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads_object(body: bytes) -> dict[str, object]:
    """A JSON object or {}: providers' error pages are not JSON."""
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
