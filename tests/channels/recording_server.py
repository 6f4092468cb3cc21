"""A local HTTP server that records every request and answers like a provider's REST API."""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class RecordingServer:
    requests: list[Recorded] = field(default_factory=list)
    # Answers to give, in order; when empty, a Twilio-like 201 with a fresh SID.
    answers: deque[tuple[int, dict[str, object]]] = field(default_factory=deque)
    url: str = ""

    def answer(self, path: str, body: bytes) -> tuple[int, dict[str, object]]:
        """The queued answers first; subclasses answer by path (tests/channels/social/provider_api.py)."""
        if self.answers:
            return self.answers.popleft()
        return 201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued"}


def start(state: RecordingServer | None = None) -> tuple[RecordingServer, ThreadingHTTPServer]:
    state = state or RecordingServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append(Recorded("POST", self.path, dict(self.headers.items()), body))
            status, payload = state.answer(self.path, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server
