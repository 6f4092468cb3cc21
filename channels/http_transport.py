"""The HttpTransport adapters send through: requests, with timeouts and no redirects (media GETs excepted)."""

from __future__ import annotations

from collections.abc import Mapping

import requests
import urllib3.exceptions

from channels.base import HttpResponse

MAX_RESPONSE_BYTES = 1024 * 1024


class RequestsTransport:
    def __init__(self, session: requests.Session | None = None) -> None:
        self._session = session or requests.Session()

    def post_form(
        self, url: str, fields: Mapping[str, str], *, auth: tuple[str, str] | None, headers: Mapping[str, str], timeout: float
    ) -> HttpResponse:
        try:
            response = self._session.post(
                url, data=dict(fields), auth=auth, headers=dict(headers), timeout=timeout, allow_redirects=False, stream=True
            )
        except requests.RequestException as exc:
            # Adapters treat OSError as "not reached": a transient failure.
            raise OSError(str(exc)) from exc
        with response:
            body = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
        return HttpResponse(status=response.status_code, body=body[:MAX_RESPONSE_BYTES], headers=dict(response.headers))

    # --- social (issue 3): JSON APIs (Graph, WeChat) take a body the adapter serialised itself ---
    def post_body(self, url: str, body: bytes, *, headers: Mapping[str, str], timeout: float) -> HttpResponse:
        try:
            response = self._session.post(url, data=body, headers=dict(headers), timeout=timeout, allow_redirects=False, stream=True)
        except requests.RequestException as exc:
            raise OSError(str(exc)) from exc
        with response:
            raw = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
        return HttpResponse(status=response.status_code, body=raw[:MAX_RESPONSE_BYTES], headers=dict(response.headers))

    # --- inbound media (issue 3): a streamed GET; providers' media URLs redirect to their CDNs, and
    # requests drops the Authorization header when a redirect leaves the host ---
    def open_get(self, url: str, *, auth: tuple[str, str] | None, headers: Mapping[str, str], timeout: float) -> ResponseStream:
        try:
            response = self._session.get(url, auth=auth, headers=dict(headers), timeout=timeout, allow_redirects=True, stream=True)
        except requests.RequestException as exc:
            raise OSError(str(exc)) from exc
        return ResponseStream(response)


class ResponseStream:
    """A streamed response as channels.base.HttpStream: read() raises OSError on network faults."""

    def __init__(self, response: requests.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers: Mapping[str, str] = dict(response.headers)

    def read(self, size: int = -1) -> bytes:
        try:
            data: bytes = self._response.raw.read(None if size < 0 else size, decode_content=True)
        except (urllib3.exceptions.HTTPError, requests.RequestException) as exc:
            raise OSError(str(exc)) from exc
        return data

    def close(self) -> None:
        self._response.close()
