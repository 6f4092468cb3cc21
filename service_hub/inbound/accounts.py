"""Channel-account use cases for admins: create, change, deactivate, send a test message; dead letters."""

from __future__ import annotations

import ipaddress
import secrets
import socket
from typing import Any
from urllib.parse import urlparse

from flask import current_app
from sqlalchemy import select

from channels import registry
from service_hub.auth.principal import Principal
from service_hub.core.errors import NotFound, Problem, ValidationProblem
from service_hub.core.extensions import db
from service_hub.inbound import credential_vault, outbound, processing
from service_hub.inbound.models import ChannelAccount, InboundRecord, OutboundDelivery, RecordStatus
from service_hub.org.models import Department
from service_hub.tickets.audit import audit

URL_SETTINGS = ("api_base_url", "webhook_base_url")


def _with_credential_names(account: ChannelAccount) -> ChannelAccount:
    account.credential_names = sorted(credential_vault.decrypt(account.credentials_encrypted))  # type: ignore[attr-defined]
    return account


def list_accounts() -> list[ChannelAccount]:
    return [_with_credential_names(a) for a in db.session.scalars(select(ChannelAccount).order_by(ChannelAccount.id))]


def get_account(account_id: int) -> ChannelAccount:
    account = db.session.get(ChannelAccount, account_id)
    if account is None:
        raise NotFound(f"Channel account {account_id} does not exist.")
    return _with_credential_names(account)


def _department(department_id: int) -> int:
    department = db.session.get(Department, department_id)
    if department is None or not department.is_active:
        raise ValidationProblem("No such active department.", errors={"default_department_id": ["No such active department."]})
    return department.id


def _check_url(name: str, url: str) -> None:
    """Admin-configured provider URLs: http(s) only, and no loopback or private hosts unless allowed."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValidationProblem(f"{name} must be an http(s) URL.", errors={"settings": {name: ["Must be an http(s) URL."]}})
    if current_app.config["SERVICE_HUB"].channels.allow_private_urls:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parsed.hostname, parsed.port or 443, proto=socket.IPPROTO_TCP)}
    except OSError:
        raise ValidationProblem(f"{name}: the host does not resolve.", errors={"settings": {name: ["Host does not resolve."]}}) from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise ValidationProblem(
                f"{name} points at a private, loopback or link-local address; set CHANNEL_ALLOW_PRIVATE_URLS to allow it.",
                errors={"settings": {name: ["Private address refused."]}},
            )


def _checked(kind: str, credentials: dict[str, str] | None, settings: dict[str, str] | None) -> None:
    adapter = registry.adapter_for(kind)
    unknown = sorted(set(credentials or {}) - set(adapter.credential_fields))
    if unknown:
        raise ValidationProblem(
            f"Unknown credentials for {kind}: {unknown}.", errors={"credentials": {k: ["Unknown field."] for k in unknown}}
        )
    unknown = sorted(set(settings or {}) - set(adapter.setting_fields))
    if unknown:
        raise ValidationProblem(f"Unknown settings for {kind}: {unknown}.", errors={"settings": {k: ["Unknown field."] for k in unknown}})
    # Issue 3: an adapter may check its own settings' values (email: ports, IMAP security, folders).
    invalid = adapter.check_settings(settings) if settings and hasattr(adapter, "check_settings") else {}
    if invalid:
        raise ValidationProblem(f"Invalid settings for {kind}: {sorted(invalid)}.", errors={"settings": invalid})
    for name in URL_SETTINGS:
        if (settings or {}).get(name):
            _check_url(name, settings[name])  # type: ignore[index]


def create_account(actor: Principal, data: dict[str, Any]) -> ChannelAccount:
    adapter = registry.adapter_for(data["kind"])
    _checked(data["kind"], data["credentials"], data["settings"])
    missing = sorted(set(adapter.credential_fields) - {k for k, v in data["credentials"].items() if v})
    if missing:
        raise ValidationProblem(f"Missing credentials: {missing}.", errors={"credentials": {k: ["Required."] for k in missing}})
    account = ChannelAccount(
        kind=data["kind"],
        name=data["name"].strip(),
        slug=secrets.token_urlsafe(12),
        credentials_encrypted=credential_vault.encrypt(data["credentials"]),
        settings=data["settings"],
        default_department_id=_department(data["default_department_id"]),
        is_active=data["is_active"],
    )
    db.session.add(account)
    db.session.flush()
    audit(
        actor,
        "channel_account.created",
        after={"account_id": account.id, "kind": account.kind, "name": account.name, "credentials": sorted(data["credentials"])},
    )
    db.session.commit()
    return _with_credential_names(account)


def update_account(actor: Principal, account_id: int, changes: dict[str, Any]) -> ChannelAccount:
    account = get_account(account_id)
    _checked(account.kind, changes.get("credentials"), changes.get("settings"))
    after: dict[str, Any] = {}
    if "name" in changes:
        account.name = after["name"] = changes["name"].strip()
    if "default_department_id" in changes:
        account.default_department_id = after["default_department_id"] = _department(changes["default_department_id"])
    if "settings" in changes:
        account.settings = after["settings"] = changes["settings"]
    if "is_active" in changes:
        account.is_active = after["is_active"] = changes["is_active"]
    if changes.get("credentials"):
        merged = credential_vault.decrypt(account.credentials_encrypted) | changes["credentials"]
        account.credentials_encrypted = credential_vault.encrypt(merged)
        after["credentials_changed"] = sorted(changes["credentials"])
    if after:
        audit(actor, "channel_account.updated", after={"account_id": account.id, **after})
    db.session.commit()
    return _with_credential_names(account)


def deactivate_account(actor: Principal, account_id: int) -> None:
    update_account(actor, account_id, {"is_active": False})


def send_test_message(actor: Principal, account_id: int, to: str, text: str) -> OutboundDelivery:
    account = get_account(account_id)
    if not account.is_active:
        raise Problem("The channel account is deactivated.", status=409, code="channel-inactive", title="Channel inactive")
    delivery = outbound.send_test(account, to.strip(), text)
    audit(
        actor, "channel_account.test_message", after={"account_id": account.id, "delivery_id": delivery.id, "status": delivery.status.value}
    )
    db.session.commit()
    return delivery


# --- dead letters -------------------------------------------------------------------------------


def dead_letters(limit: int, before_id: int | None = None, account_id: int | None = None) -> list[InboundRecord]:
    query = select(InboundRecord).where(InboundRecord.status == RecordStatus.DEAD).order_by(InboundRecord.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(InboundRecord.id < before_id)
    if account_id is not None:
        query = query.where(InboundRecord.account_id == account_id)
    return list(db.session.scalars(query))


def replay_record(actor: Principal, record_id: int) -> InboundRecord:
    record = db.session.get(InboundRecord, record_id)
    if record is None:
        raise NotFound(f"Inbound record {record_id} does not exist.")
    if record.status not in (RecordStatus.DEAD, RecordStatus.FAILED):
        raise Problem(
            f"Inbound record {record_id} is {record.status.value}; only dead or failed records are replayed.",
            status=409,
            code="conflict",
            title="Conflict",
        )
    audit(actor, "inbound.replayed", after={"record_id": record.id, "previous_error": (record.last_error or "")[:500]})
    db.session.flush()
    replayed = processing.replay(record_id)
    assert replayed is not None
    from service_hub.inbound.tasks import process_inbound_task

    process_inbound_task.delay(record_id)
    db.session.refresh(replayed)
    return replayed
