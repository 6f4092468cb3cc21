"""Provider webhooks: /hooks/<family>/<provider>/<account slug>[/status]. Public, signed by the provider.

Order of work, cheapest refusal first: size (413) -> account (404) -> signature (403, nothing
stored) -> provider id (400) -> store raw and commit -> enqueue -> acknowledge. A redelivery of
a stored request is acknowledged the same way and creates nothing. Any adapter registered in
channels.registry gets these endpoints: "sms.twilio" answers /hooks/sms/twilio/<slug>.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from channels import registry
from channels.base import ChannelAdapter, HookKind, PayloadError, ReplayError, SignatureError, TooLarge, WebhookRequest
from service_hub.core.errors import problem_response
from service_hub.core.extensions import csrf, db
from service_hub.inbound import credential_vault
from service_hub.inbound.intake import store_raw
from service_hub.inbound.models import ChannelAccount

log = logging.getLogger(__name__)

hooks = Blueprint("channel_hooks", __name__, url_prefix="/hooks")
# The endpoints auth.principal lets through without credentials: the provider's signature is the check.
PUBLIC_HOOK_ENDPOINTS = frozenset({"channel_hooks.message", "channel_hooks.status"})


# GET: issue 3, social: the subscription handshakes (WeChat's echostr, Meta's hub.challenge) on the
# same URL and endpoint as the messages. It reads and echoes, and changes nothing.
@hooks.route("/<family>/<provider>/<slug>", methods=["GET", "POST"])
@csrf.exempt
def message(family: str, provider: str, slug: str) -> Response:
    if request.method == "GET":
        return _handshake(f"{family}.{provider}", slug)
    return _receive(f"{family}.{provider}", slug, HookKind.MESSAGE)


def _handshake(kind: str, slug: str) -> Response:
    """Issue 3, social: answer a provider's URL verification if the account's adapter has one."""
    account = db.session.scalars(select(ChannelAccount).where(ChannelAccount.slug == slug[:64])).first()
    if account is None or account.kind != kind or not account.is_active:
        return problem_response(404, "not-found", "Not found", "No active channel account answers at this address.")
    handshake = getattr(registry.adapter_for(account.kind), "handshake", None)
    if handshake is None:
        return problem_response(405, "method-not-allowed", "Method not allowed", "This channel has no verification handshake.")
    query = {key: value for key, value in request.args.items()}
    try:
        body = handshake(query, credential_vault.decrypt(account.credentials_encrypted), account.settings or {})
    except (SignatureError, ReplayError) as exc:
        log.warning("verification handshake for channel account %s refused: %s", account.id, exc)
        return problem_response(403, "signature-invalid", "Verification failed", str(exc))
    except PayloadError as exc:
        return problem_response(400, "malformed-payload", "Malformed request", str(exc))
    return Response(body, status=200, content_type="text/plain")


@hooks.post("/<family>/<provider>/<slug>/status")
@csrf.exempt
def status(family: str, provider: str, slug: str) -> Response:
    return _receive(f"{family}.{provider}", slug, HookKind.STATUS)


def read_request(kind: str, slug: str) -> tuple[ChannelAccount, WebhookRequest] | Response:
    """The first checks of every webhook, cheapest refusal first: the body's size (413), then an
    active account of this kind at this address (404). The signature is the caller's next step."""
    limit = current_app.config["SERVICE_HUB"].channels.webhook_max_bytes
    if request.content_length is not None and request.content_length > limit:
        return _too_large(limit)
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        return _too_large(limit)
    account = db.session.scalars(select(ChannelAccount).where(ChannelAccount.slug == slug[:64])).first()
    if account is None or account.kind != kind or not account.is_active:
        return problem_response(404, "not-found", "Not found", "No active channel account answers at this address.")
    webhook = WebhookRequest(
        url=_signed_url(account),
        method=request.method,
        headers=dict(request.headers.items()),
        body=body,
        content_type=request.content_type or "",
    )
    return account, webhook


def _receive(kind: str, slug: str, hook: HookKind) -> Response:
    read = read_request(kind, slug)
    if isinstance(read, Response):
        return read
    account, webhook = read
    body = webhook.body
    adapter = registry.adapter_for(account.kind)
    try:
        credentials = credential_vault.decrypt(account.credentials_encrypted)
        adapter.verify(webhook, credentials, account.settings or {})
        # issue 3, social: WeChat's safe mode is opened here (the decrypted XML is stored), and
        # Meta's one callback URL carries messages and statuses (the adapter says which this is).
        if (open_envelope := getattr(adapter, "open_envelope", None)) is not None:
            webhook = open_envelope(webhook, credentials, account.settings or {})
            body = webhook.body
        if (hook_kind := getattr(adapter, "hook_kind", None)) is not None:
            hook = hook_kind(hook, webhook)
        event_id = adapter.provider_event_id(hook, webhook)
    except (SignatureError, ReplayError) as exc:
        log.warning("webhook for channel account %s refused: %s", account.id, exc)
        return problem_response(403, "signature-invalid", "Signature check failed", str(exc))
    except TooLarge as exc:
        return problem_response(413, "too-large", "Request too large", str(exc))
    except PayloadError as exc:
        return problem_response(400, "malformed-payload", "Malformed payload", str(exc))

    try:
        record_id = store_raw(account.id, hook, event_id, webhook.url, webhook.headers, body)
    except OperationalError:
        db.session.rollback()
        log.exception("the inbox could not store a webhook for channel account %s", account.id)
        # Not stored, so not acknowledged: the provider retries.
        response = problem_response(503, "unavailable", "Service unavailable", "The message could not be stored; retry later.")
        response.headers["Retry-After"] = "30"
        return response
    if record_id is None:
        log.info("duplicate webhook %s for channel account %s acknowledged", event_id, account.id)
    else:
        _enqueue(record_id)
    return _ack(adapter, hook)


def _enqueue(record_id: int) -> None:
    from service_hub.inbound.tasks import process_inbound_task

    try:
        process_inbound_task.delay(record_id)
    except Exception:
        # The record is committed; the sweeper enqueues it again. The provider still gets its 2xx.
        log.exception("inbound record %s stored but not enqueued; the sweeper will pick it up", record_id)


def _signed_url(account: ChannelAccount) -> str:
    """The URL the provider called, as it signed it: behind a TLS-terminating proxy, the configured one."""
    base = (account.settings or {}).get("webhook_base_url") or current_app.config["SERVICE_HUB"].channels.public_base_url
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return base.rstrip("/") + request.path + (f"?{query}" if query else "")


def _ack(adapter: ChannelAdapter, hook: HookKind) -> Response:
    ack = adapter.ack(hook)
    return Response(ack.body, status=ack.status, content_type=ack.content_type)


def _too_large(limit: int) -> Response:
    return problem_response(413, "too-large", "Request too large", f"Webhook bodies are limited to {limit} bytes.")
