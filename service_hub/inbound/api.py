"""/api/v1/channel-accounts and /api/v1/inbound: admins manage channel accounts and dead letters."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.principal import current_principal, require
from service_hub.inbound import accounts
from service_hub.inbound.models import ChannelAccount, InboundRecord, OutboundDelivery
from service_hub.inbound.schemas import (
    ChannelAccountCreate,
    ChannelAccountSchema,
    ChannelAccountUpdate,
    DeadLetterQuery,
    InboundRecordSchema,
    SendTestMessage,
    SendTestResult,
)
from service_hub.org.models import Role

blp = Blueprint("Channels", __name__, url_prefix="/api/v1", description="Channel accounts, and the inbox's dead letters")

ADMIN_ONLY = (Role.ADMIN,)


@blp.route("/channel-accounts")
class ChannelAccounts(MethodView):
    @require("admin", roles=ADMIN_ONLY)
    @blp.response(200, ChannelAccountSchema(many=True))
    def get(self) -> list[ChannelAccount]:
        """Every channel account; credentials are never returned, only which are set."""
        return accounts.list_accounts()

    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(ChannelAccountCreate)
    @blp.response(201, ChannelAccountSchema)
    def post(self, data: dict[str, Any]) -> ChannelAccount:
        """Connect a provider account (e.g. kind "sms.twilio"); its webhook URLs are in the answer."""
        return accounts.create_account(current_principal(), data)


@blp.route("/channel-accounts/<int:account_id>")
class ChannelAccountItem(MethodView):
    @require("admin", roles=ADMIN_ONLY)
    @blp.response(200, ChannelAccountSchema)
    def get(self, account_id: int) -> ChannelAccount:
        """One channel account."""
        return accounts.get_account(account_id)

    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(ChannelAccountUpdate)
    @blp.response(200, ChannelAccountSchema)
    def patch(self, changes: dict[str, Any], account_id: int) -> ChannelAccount:
        """Rename, re-route, replace settings or some credentials, (de)activate."""
        return accounts.update_account(current_principal(), account_id, changes)

    @require("admin", roles=ADMIN_ONLY)
    @blp.response(204)
    def delete(self, account_id: int) -> None:
        """Deactivate: its webhooks answer 404 and replies through it are refused; history stays."""
        accounts.deactivate_account(current_principal(), account_id)


@blp.route("/channel-accounts/<int:account_id>/test-message")
class ChannelAccountTestMessage(MethodView):
    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(SendTestMessage)
    @blp.response(200, SendTestResult)
    def post(self, data: dict[str, Any], account_id: int) -> OutboundDelivery:
        """Send a message now through the account and report the provider's answer."""
        return accounts.send_test_message(current_principal(), account_id, data["to"], data["text"])


@blp.route("/inbound/dead")
class DeadLetters(MethodView):
    @require("admin", roles=ADMIN_ONLY)
    @blp.arguments(DeadLetterQuery, location="query")
    @blp.response(200, InboundRecordSchema(many=True))
    def get(self, args: dict[str, Any]) -> list[InboundRecord]:
        """Dead-lettered inbound records, newest first, with their raw body and last error."""
        return accounts.dead_letters(args["limit"], args.get("before_id"), args.get("account_id"))


@blp.route("/inbound/<int:record_id>/replay")
class ReplayRecord(MethodView):
    @require("admin", roles=ADMIN_ONLY)
    @blp.response(202, InboundRecordSchema)
    def post(self, record_id: int) -> InboundRecord:
        """Process a dead or failed record again, with a fresh set of attempts."""
        return accounts.replay_record(current_principal(), record_id)
