"""Twilio Voice: the IVR answered in TwiML, and call status, recording and transcription callbacks.

Twilio calls /hooks/phone/twilio/<slug>/voice when a call comes in and again with each <Gather>
result; each answer is a pure function of that request (step and language in the query string,
Digits in the form) and of the account's settings:
  1. no step          -> language menu (1 中文 / 2 English)
  2. step=language    -> department menu in that language, from the ``ivr_departments`` setting
  3. step=department  -> <Enqueue workflowSid><Task priority> to TaskRouter, priority by tier
A wrong key repeats the menu. Status, recording and transcription callbacks come to the generic
/hooks/phone/twilio/<slug>/status and are parsed into CallEvents like any other record.
Signatures are X-Twilio-Signature, checked by the twilio package's RequestValidator.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.twiml.voice_response import Enqueue, Gather, VoiceResponse

from channels.base import (
    DeliveryUpdate,
    HookAck,
    HookKind,
    HttpTransport,
    InboundMessage,
    OutboundMessage,
    PayloadError,
    SendError,
    SendResult,
    WebhookRequest,
)
from channels.sanitize import clean_text, single_line
from channels.sms.twilio_sms import TwilioSms, parse_form
from channels.voice.events import CallEvent, CallEventType

# TaskRouter serves higher priorities first: diamond and gold callers jump the queue.
TIER_PRIORITY = {"diamond": 100, "gold": 80, "silver": 60, "vip": 40, "normal": 10}
LANGUAGES = {"1": "zh", "2": "en"}
SAY_LANGUAGE = {"zh": "zh-CN", "en": "en-US"}
TASK_TIMEOUT_SECONDS = 600
_ENDED = {"completed": "normal", "busy": "busy", "no-answer": "no-answer", "failed": "failed", "canceled": "abandoned"}


@dataclass(frozen=True)
class IvrDepartment:
    digit: str
    queue: str
    zh: str
    en: str

    def label(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


DEFAULT_DEPARTMENTS = (
    IvrDepartment("1", "billing", "话费账单", "billing"),
    IvrDepartment("2", "technical", "网络故障", "technical support"),
)


def ivr_departments(settings: Mapping[str, str]) -> tuple[IvrDepartment, ...]:
    """The department menu: the ``ivr_departments`` setting, a JSON list of {digit, queue, zh, en}."""
    raw = settings.get("ivr_departments")
    if not raw:
        return DEFAULT_DEPARTMENTS
    try:
        items = json.loads(raw)
        return tuple(IvrDepartment(str(i["digit"])[:1], str(i["queue"])[:64], str(i["zh"])[:80], str(i["en"])[:80]) for i in items)
    except (ValueError, TypeError, KeyError):
        return DEFAULT_DEPARTMENTS


def _action(path: str, **query: str) -> str:
    return f"{path}?{urlencode(query)}"


def language_menu(path: str) -> str:
    gather = Gather(num_digits=1, action=_action(path, step="language"), timeout=6)
    gather.say("普通话服务请按1。", language="zh-CN")
    gather.say("For English, press 2.", language="en-US")
    response = VoiceResponse()
    response.append(gather)
    response.redirect(path)  # no key pressed: the menu again
    return str(response)


def department_menu(path: str, language: str, departments: tuple[IvrDepartment, ...]) -> str:
    gather = Gather(num_digits=1, action=_action(path, step="department", lang=language), timeout=6)
    for option in departments:
        text = f"{option.label('zh')}请按{option.digit}。" if language == "zh" else f"For {option.label('en')}, press {option.digit}."
        gather.say(text, language=SAY_LANGUAGE[language])
    response = VoiceResponse()
    response.append(gather)
    response.redirect(_action(path, step="language") + f"&Digits={'1' if language == 'zh' else '2'}")
    return str(response)


def queue_priority(tier: str | None) -> int:
    return TIER_PRIORITY.get((tier or "normal").lower(), TIER_PRIORITY["normal"])


def enqueue(language: str, department: IvrDepartment, tier: str | None, settings: Mapping[str, str]) -> str:
    """Hand the call to TaskRouter (its workflow picks the agent) with the caller's tier as priority."""
    response = VoiceResponse()
    attributes = json.dumps({"language": language, "department": department.queue, "tier": tier or "normal"}, ensure_ascii=False)
    workflow = settings.get("workflow_sid")
    if workflow:
        element = Enqueue(workflow_sid=workflow)
        element.task(attributes, priority=queue_priority(tier), timeout=TASK_TIMEOUT_SECONDS)
    else:  # a plain named queue: first come, first served
        element = Enqueue(department.queue)
    response.append(element)
    return str(response)


def ivr_step(url: str) -> tuple[str, str | None]:
    query = parse_qs(urlsplit(url).query)
    step = (query.get("step") or [""])[0]
    language = (query.get("lang") or [""])[0]
    return step, language if language in SAY_LANGUAGE else None


def answer(path: str, url: str, fields: Mapping[str, str], settings: Mapping[str, str], tier: str | None) -> str:
    """The TwiML for one IVR request: a pure function of the request, the settings and the tier."""
    step, language = ivr_step(url)
    digits = (fields.get("Digits") or "").strip()
    if step == "language":
        chosen = LANGUAGES.get(digits)
        return department_menu(path, chosen, ivr_departments(settings)) if chosen else language_menu(path)
    if step == "department" and language:
        department = next((d for d in ivr_departments(settings) if d.digit == digits), None)
        if department is None:
            return department_menu(path, language, ivr_departments(settings))
        return enqueue(language, department, tier, settings)
    return language_menu(path)


def _when(fields: Mapping[str, str], received_at: datetime) -> datetime:
    try:
        return parsedate_to_datetime(fields["Timestamp"]).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return received_at.astimezone(UTC)


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _url(raw: str | None) -> str | None:
    return single_line(raw, 2000) if raw and raw.startswith(("https://", "http://")) else None


class TwilioVoice:
    kind: ClassVar[str] = "phone.twilio"
    family: ClassVar[str] = "phone"
    credential_fields: ClassVar[tuple[str, ...]] = ("account_sid", "auth_token")
    setting_fields: ClassVar[tuple[str, ...]] = ("ivr_departments", "workflow_sid", "webhook_base_url")

    def verify(self, request: WebhookRequest, credentials: Mapping[str, str], settings: Mapping[str, str]) -> None:
        TwilioSms().verify(request, credentials, settings)  # the same X-Twilio-Signature scheme

    def provider_event_id(self, hook: HookKind, request: WebhookRequest) -> str:
        fields = parse_form(request.body)
        sid = single_line(fields.get("CallSid", ""), 64)
        if not sid:
            return "sha256:" + hashlib.sha256(request.body).hexdigest()
        if hook == HookKind.CALL_EVENT:
            step, language = ivr_step(request.url)
            return f"{sid}:voice:{step or 'start'}:{language or ''}:{single_line(fields.get('Digits', ''), 8)}"
        what = (
            f"recording:{fields.get('RecordingSid', '')}"
            if fields.get("RecordingUrl")
            else f"transcript:{fields.get('TranscriptionSid', '')}"
            if fields.get("TranscriptionText") is not None
            else fields.get("CallStatus", "")
        )
        return f"{sid}:{single_line(what, 60)}:{single_line(fields.get('SequenceNumber', ''), 10)}"

    def ack(self, hook: HookKind) -> HookAck:
        if hook == HookKind.STATUS:
            return HookAck(body=b"", content_type="text/plain", status=204)
        return HookAck(body=str(VoiceResponse()).encode(), content_type="text/xml")

    def parse_call_events(
        self, hook: HookKind, body: bytes, *, url: str, settings: Mapping[str, str], received_at: datetime
    ) -> list[CallEvent]:
        fields = parse_form(body)
        sid = single_line(fields.get("CallSid", ""), 64)
        if not sid:
            raise PayloadError("The callback has no CallSid.")
        at = _when(fields, received_at)
        caller, callee = single_line(fields.get("From", ""), 64) or None, single_line(fields.get("To", ""), 64) or None
        base = CallEvent(sid, CallEventType.RINGING, at, sequence=_int(fields.get("SequenceNumber")), caller=caller, callee=callee)
        if hook == HookKind.CALL_EVENT:
            return self._ivr_events(url, fields, settings, base)
        if fields.get("RecordingUrl"):
            kind = CallEventType.VOICEMAIL if ivr_step(url)[0] == "voicemail" else CallEventType.RECORDING
            media = _url(fields["RecordingUrl"])
            if kind == CallEventType.VOICEMAIL:
                return [replace(base, type=kind, voicemail_url=media)]
            return [replace(base, type=kind, recording_url=media)]
        if fields.get("TranscriptionText") is not None:
            return [replace(base, type=CallEventType.TRANSCRIPT, transcript=clean_text(fields["TranscriptionText"], 20_000))]
        status = (fields.get("CallStatus") or "").strip().lower()
        if status in ("ringing", "queued", "initiated"):
            return [replace(base, type=CallEventType.RINGING)]
        if status == "in-progress":
            return [replace(base, type=CallEventType.ANSWERED)]
        if status in _ENDED:
            return [replace(base, type=CallEventType.ENDED, cause=_ENDED[status])]
        raise PayloadError(f"Unknown CallStatus {status[:24]!r}.")

    def _ivr_events(self, url: str, fields: Mapping[str, str], settings: Mapping[str, str], base: CallEvent) -> list[CallEvent]:
        step, language = ivr_step(url)
        digits = (fields.get("Digits") or "").strip()
        if not step:
            if not base.caller:
                raise PayloadError("An incoming call has no From number.")
            return [replace(base, type=CallEventType.RINGING)]
        if step == "language" and digits in LANGUAGES:
            return [replace(base, type=CallEventType.IVR, ivr_choice=f"language:{LANGUAGES[digits]}")]
        if step == "department" and language:
            department = next((d for d in ivr_departments(settings) if d.digit == digits), None)
            if department is not None:
                return [
                    replace(base, type=CallEventType.IVR, ivr_choice=f"department:{department.queue}"),
                    replace(base, type=CallEventType.QUEUED, queue=department.queue),
                ]
        return []  # a wrong key: the menu repeats, nothing happened to the call

    def parse_inbound(self, body: bytes, *, account: str, raw_ref: str, received_at: datetime) -> list[InboundMessage]:
        raise PayloadError("Twilio Voice carries call events, not messages.")

    def parse_status(self, body: bytes) -> list[DeliveryUpdate]:
        raise PayloadError("Twilio Voice carries call events, not delivery statuses.")

    def send(
        self, message: OutboundMessage, credentials: Mapping[str, str], settings: Mapping[str, str], transport: HttpTransport
    ) -> SendResult:
        raise SendError("The hotline does not send text messages; reply on another channel.", permanent=True)
