"""The inbound SMTP listener (aiosmtpd) for mail forwarded to the desk: stored and committed before the 250.

RCPT TO picks the account (its "address" setting); DATA is stored raw as an InboundRecord keyed
by Message-ID (or the SHA-256 of the bytes) and committed, then processing is enqueued; only
then does the client hear 250. Over the account's size limit: 552. Run with
`python -m service_hub.inbound.smtp_listener` (SMTP_LISTEN_HOST, SMTP_LISTEN_PORT).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from channels.base import HookKind
from channels.email.mailbox import limits_from
from channels.email.parse import provider_id
from service_hub.core.extensions import db
from service_hub.inbound.intake import store_raw
from service_hub.inbound.models import ChannelAccount

log = logging.getLogger(__name__)


class MailboxHandler:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def _account(self, address: str) -> ChannelAccount | None:
        wanted = address.strip().lower()
        for account in db.session.scalars(select(ChannelAccount).where(ChannelAccount.kind == "email.mailbox", ChannelAccount.is_active)):
            if str((account.settings or {}).get("address", "")).lower() == wanted:
                return account
        return None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        with self.app.app_context():
            known = self._account(address) is not None
            db.session.remove()
        if not known:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or envelope.content
        from service_hub.inbound.tasks import process_inbound_task

        new_ids = []
        with self.app.app_context():
            try:
                for address in envelope.rcpt_tos:
                    account = self._account(address)
                    if account is None:
                        continue
                    if len(raw) > limits_from(account.settings or {}).max_bytes:
                        return "552 5.3.4 Message too big"
                    headers = {"X-Envelope-From": str(envelope.mail_from or ""), "X-Envelope-To": address}
                    new_id = store_raw(account.id, HookKind.MESSAGE, provider_id(raw), f"smtp:{address}", headers, raw)
                    if new_id is not None:
                        new_ids.append(new_id)
            except Exception:
                log.exception("inbound mail not stored")
                db.session.rollback()
                return "451 4.3.0 Try again later"
            finally:
                db.session.remove()
            # Committed: the sender may forget the mail now. A lost enqueue is swept later.
            for new_id in new_ids:
                try:
                    process_inbound_task.delay(new_id)
                except Exception:
                    log.exception("inbound record %s stored but not enqueued; the sweeper will pick it up", new_id)
                finally:
                    db.session.remove()
        return "250 2.0.0 Stored"


def controller(app: Flask, host: str = "127.0.0.1", port: int = 2525, data_size_limit: int = 25 * 1024 * 1024) -> Controller:
    return Controller(MailboxHandler(app), hostname=host, port=port, data_size_limit=data_size_limit)


def main() -> None:
    from service_hub import create_app

    app = create_app()
    listener = controller(app, os.environ.get("SMTP_LISTEN_HOST", "127.0.0.1"), int(os.environ.get("SMTP_LISTEN_PORT", "2525")))
    listener.start()
    log.info("SMTP listener on %s:%s", listener.hostname, listener.port)
    try:
        import threading

        threading.Event().wait()
    finally:
        listener.stop()


if __name__ == "__main__":
    main()
