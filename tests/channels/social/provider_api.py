"""A local server standing in for WeChat's and Meta's APIs: the recording server, answering by path."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any

from tests.channels import recording_server
from tests.channels.recording_server import Recorded, RecordingServer


@dataclass
class SocialApi(RecordingServer):
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
    _, server = recording_server.start(state)
    return state, server
