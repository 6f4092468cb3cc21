"""Social channels (issue 3): delivery statuses that arrive inside a message webhook.

Meta posts messages and statuses to one callback URL; a payload of statuses only is stored as a
status record (retried until its send is known), but statuses batched with messages ride on the
message record and are applied best-effort here: a status for a send we do not know is logged,
not retried, so it never holds the customer's message back.
"""

from __future__ import annotations

import logging

from channels.base import ChannelAdapter
from service_hub.inbound import outbound
from service_hub.inbound.models import ChannelAccount

log = logging.getLogger(__name__)


def apply_riding_statuses(adapter: ChannelAdapter, account: ChannelAccount, body: bytes) -> None:
    for update in adapter.parse_status(body):
        if not outbound.apply_status(account, update):
            log.info("status %s for unknown delivery %s of account %s ignored", update.raw_status, update.provider_message_id, account.id)
