"""Twilio Voice's call webhook: /hooks/phone/twilio/<slug>/voice answers each IVR step in TwiML.

Unlike other webhooks the answer depends on the request (the step, the key pressed) and on the
caller's tier (the queue priority), so it has its own endpoint; the order of work is the generic
one (size, account, signature, store raw and commit, enqueue), and only then the TwiML.
Status, recording and transcription callbacks use the generic /hooks/phone/twilio/<slug>/status.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import OperationalError

from channels import registry
from channels.base import HookKind, PayloadError, ReplayError, SignatureError, TooLarge
from channels.sms.twilio_sms import parse_form
from channels.voice import twilio_voice
from service_hub.core.errors import problem_response
from service_hub.core.extensions import csrf, db
from service_hub.inbound import credential_vault, voice
from service_hub.inbound.intake import store_raw
from service_hub.inbound.webhooks import _enqueue, read_request

log = logging.getLogger(__name__)

voice_hooks = Blueprint("voice_hooks", __name__, url_prefix="/hooks/phone/twilio")
PUBLIC_VOICE_ENDPOINTS = frozenset({"voice_hooks.call"})


@voice_hooks.post("/<slug>/voice")
@csrf.exempt
def call(slug: str) -> Response:
    read = read_request(twilio_voice.TwilioVoice.kind, slug)
    if isinstance(read, Response):
        return read
    account, webhook = read
    body = webhook.body
    adapter = registry.adapter_for(account.kind)
    try:
        adapter.verify(webhook, credential_vault.decrypt(account.credentials_encrypted), account.settings or {})
        event_id = adapter.provider_event_id(HookKind.CALL_EVENT, webhook)
        fields = parse_form(body)
    except (SignatureError, ReplayError) as exc:
        log.warning("voice webhook for channel account %s refused: %s", account.id, exc)
        return problem_response(403, "signature-invalid", "Signature check failed", str(exc))
    except TooLarge as exc:
        return problem_response(413, "too-large", "Request too large", str(exc))
    except PayloadError as exc:
        return problem_response(400, "malformed-payload", "Malformed payload", str(exc))
    try:
        record_id = store_raw(account.id, HookKind.CALL_EVENT, event_id, webhook.url, webhook.headers, body)
    except OperationalError:
        db.session.rollback()
        log.exception("the inbox could not store a voice webhook for channel account %s", account.id)
        response = problem_response(503, "unavailable", "Service unavailable", "The call event could not be stored; retry later.")
        response.headers["Retry-After"] = "5"
        return response
    if record_id is not None:
        _enqueue(record_id)
    region = current_app.config["SERVICE_HUB"].channels.default_phone_region
    tier = voice.caller_tier(fields.get("From", ""), region)
    twiml = twilio_voice.answer(request.path, webhook.url, fields, account.settings or {}, tier)
    return Response(twiml, status=200, content_type="text/xml")
