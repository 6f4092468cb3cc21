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

Call-backs (click-to-call), ``place_call``: an agent calls a customer back through the hotline.
POST {api_base_url}/2010-04-01/Accounts/{AccountSid}/Calls.json (form, Basic auth SID:token)
places a call to the AGENT's phone (E.164 or ``client:<identity>`` for a Twilio Client softphone)
from the hotline's number, with inline TwiML: when the agent answers, Twilio runs
``<Dial callerId="{hotline}"><Number>{customer}</Number></Dial>`` and rings the customer, who sees
the hotline's number. Both legs report progress: the agent's leg through StatusCallback on the
request (``?leg=agent``), the customer's leg through the <Number>'s statusCallback
(``?leg=customer``; Twilio adds ParentCallSid, the agent leg's CallSid). ``parse_call_status``
reads either into a CallProgress; the customer's leg says whether the call-back reached them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import ClassVar
from urllib.parse import parse_qs, quote, urlencode, urlsplit, urlunsplit

from twilio.twiml.voice_response import Dial, Enqueue, Gather, VoiceResponse

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
from channels.sms.twilio_sms import DEFAULT_API_BASE_URL, TwilioSms, parse_form
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
    # from_number: the hotline's number, the caller id of call-backs; api_base_url: Twilio or a compatible API.
    setting_fields: ClassVar[tuple[str, ...]] = ("ivr_departments", "workflow_sid", "webhook_base_url", "from_number", "api_base_url")

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

    def place_call(
        self,
        to: str,
        from_: str,
        agent: str,
        status_callback_url: str | None,
        credentials: Mapping[str, str],
        settings: Mapping[str, str],
        transport: HttpTransport,
    ) -> PlacedCall:
        return place_call(to, from_, agent, status_callback_url, credentials, settings, transport)


# --- call-backs (click-to-call) -------------------------------------------------------------------

CALL_STATUS_EVENTS = "initiated ringing answered completed"
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_CLIENT = re.compile(r"^client:[A-Za-z0-9_.@-]{1,64}$")
_CALL_STATUSES = ("queued", "initiated", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled")
ENDED_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


@dataclass(frozen=True)
class PlacedCall:
    call_sid: str
    status: str  # Twilio's first status, usually "queued"


@dataclass(frozen=True)
class CallProgress:
    """One status callback of a call-back's leg."""

    call_sid: str
    parent_call_sid: str | None  # set on the customer's leg (the <Dial>ed <Number>)
    status: str  # queued, initiated, ringing, in-progress, completed, busy, no-answer, failed, canceled
    duration: int | None  # CallDuration, on the final callback: seconds of this leg once answered
    occurred_at: datetime | None  # Timestamp, if Twilio sent it
    sequence: int | None
    error_code: str | None = None

    @property
    def call_back_sid(self) -> str:
        """The CallSid Calls.json answered with: the agent leg's, whichever leg this reports."""
        return self.parent_call_sid or self.call_sid

    @property
    def customer_leg(self) -> bool:
        return self.parent_call_sid is not None

    @property
    def ended(self) -> bool:
        return self.status in ENDED_STATUSES


def is_dialable(number: str) -> bool:
    """An E.164 number, or a Twilio Client identity (``client:alice``) for a softphone agent."""
    return bool(_E164.match(number) or _CLIENT.match(number))


def with_leg(url: str, leg: str) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qs(parts.query).items(), ("leg", [leg])], doseq=True)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def click_to_call_twiml(customer: str, caller_id: str, customer_status_url: str | None) -> str:
    """What runs once the agent answered: ring the customer with the hotline as caller id."""
    response = VoiceResponse()
    dial = Dial(caller_id=caller_id)
    if customer_status_url:
        dial.number(customer, status_callback=customer_status_url, status_callback_event=CALL_STATUS_EVENTS, status_callback_method="POST")
    else:
        dial.number(customer)
    response.append(dial)
    return str(response)


def place_call(
    to: str,
    from_: str,
    agent: str,
    status_callback_url: str | None,
    credentials: Mapping[str, str],
    settings: Mapping[str, str],
    transport: HttpTransport,
) -> PlacedCall:
    """Call the agent at ``agent`` from the hotline ``from_``; once answered, dial the customer ``to``.

    Returns Twilio's CallSid (of the agent's leg). SendError: permanent for a 4xx (the provider's
    message in it), transient for 429, 5xx or an unreachable API."""
    sid, token = credentials.get("account_sid", ""), credentials.get("auth_token", "")
    if not sid or not token:
        raise SendError("The account has no Account SID or auth token.", permanent=True)
    if not _E164.match(to):
        raise SendError(f"The customer's number {to[:32]!r} is not in E.164.", permanent=True)
    if not _E164.match(from_):
        raise SendError(f"The hotline's number {from_[:32]!r} is not in E.164.", permanent=True)
    if not is_dialable(agent):
        raise SendError(f"The agent's number {agent[:32]!r} is neither E.164 nor client:<identity>.", permanent=True)
    base = (settings.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")
    url = f"{base}/2010-04-01/Accounts/{quote(sid, safe='')}/Calls.json"
    customer_url = with_leg(status_callback_url, "customer") if status_callback_url else None
    fields = {"To": agent, "From": from_, "Twiml": click_to_call_twiml(to, from_, customer_url)}
    if status_callback_url:
        fields |= {
            "StatusCallback": with_leg(status_callback_url, "agent"),
            "StatusCallbackEvent": CALL_STATUS_EVENTS,
            "StatusCallbackMethod": "POST",
        }
    try:
        response = transport.post_form(url, fields, auth=(sid, token), headers={"Accept": "application/json"}, timeout=15.0)
    except OSError as exc:
        raise SendError(f"Twilio could not be reached: {exc}", permanent=False) from None
    payload = _json(response.body)
    if response.status in (200, 201):
        call_sid = single_line(str(payload.get("sid") or ""), 64)
        if not call_sid:
            raise SendError("Twilio answered without a CallSid.", permanent=False)
        return PlacedCall(call_sid=call_sid, status=single_line(str(payload.get("status") or "queued"), 16).lower())
    code = single_line(str(payload.get("code") or ""), 16) or None
    message = single_line(str(payload.get("message") or ""), 300)
    detail = f"Twilio answered {response.status}" + (f" (error {code}: {message})" if code else f": {message}" if message else "")
    transient = response.status == 429 or response.status >= 500
    raise SendError(detail, permanent=not transient, code=code)


def parse_call_status(fields: Mapping[str, str]) -> CallProgress:
    """A call status callback's form fields; PayloadError without a CallSid or with an unknown CallStatus."""
    sid = single_line(fields.get("CallSid", ""), 64)
    if not sid:
        raise PayloadError("The call status callback has no CallSid.")
    status = single_line(fields.get("CallStatus", ""), 24).strip().lower()
    if status not in _CALL_STATUSES:
        raise PayloadError(f"Unknown CallStatus {status!r}.")
    occurred = None
    if fields.get("Timestamp"):
        try:
            occurred = parsedate_to_datetime(fields["Timestamp"]).astimezone(UTC)
        except (TypeError, ValueError):
            occurred = None
    duration = _int(fields.get("CallDuration"))
    return CallProgress(
        call_sid=sid,
        parent_call_sid=single_line(fields.get("ParentCallSid", ""), 64) or None,
        status=status,
        duration=max(duration, 0) if duration is not None else None,
        occurred_at=occurred,
        sequence=_int(fields.get("SequenceNumber")),
        error_code=single_line(fields.get("ErrorCode", ""), 16) or None,
    )


def _json(body: bytes) -> dict[str, object]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
