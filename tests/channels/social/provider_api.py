"""A local server standing in for WeChat's and Meta's APIs: records every request, answers by path."""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.channels.recording_server import Recorded


@dataclass
class SocialApi:
    requests: list[Recorded] = field(default_factory=list)
    # Answers to give first, in order, whatever the path.
    answers: deque[tuple[int, dict[str, object]]] = field(default_factory=deque)
    url: str = ""

    def json(self, index: int) -> Any:
        return json.loads(self.requests[index].body)

    def sends(self) -> list[Recorded]:
        return [r for r in self.requests if "token" not in r.path.split("?")[0]]

    def answer(self, path: str, body: bytes) -> tuple[int, dict[str, object]]:
        if self.answers:
            return self.answers.popleft()
        if path.startswith("/cgi-bin/stable_token"):
            return 200, {"access_token": "ACCESS_" + uuid.uuid4().hex[:8], "expires_in": 7200}
        if path.startswith("/cgi-bin/message/custom/send"):
            return 200, {"errcode": 0, "errmsg": "ok"}
        if path.endswith("/me/messages"):
            return 200, {"recipient_id": json.loads(body)["recipient"]["id"], "message_id": "m_" + uuid.uuid4().hex}
        if path.endswith("/messages"):
            to = json.loads(body)["to"]
            return 200, {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": "wamid." + uuid.uuid4().hex}],
            }
        return 404, {"error": {"message": "unknown path", "code": 100}}


def start() -> tuple[SocialApi, ThreadingHTTPServer]:
    state = SocialApi()

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
