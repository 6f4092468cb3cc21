"""Every model, imported in one place so Alembic and the tests see the whole schema."""

from service_hub.auth.models import ApiToken
from service_hub.canned.models import CannedResponse  # issue 7: canned responses
from service_hub.casework.models import (
    BusinessCalendarRow,
    CaseRecord,
    CaseTask,
    QueueSettings,
    RoutingRuleRow,
    SlaClock,
    SlaClockEvent,
    SlaPolicyRow,
)
from service_hub.collab.models import Notification
from service_hub.core.outbox import OutboxEvent
from service_hub.customers.models import ContactIdentity, Customer
from service_hub.inbound.call_models import CallRecord  # issue 3: the hotline
from service_hub.inbound.email_models import EmailMessageId, ImapFolderState  # issue 3: the email family
from service_hub.inbound.models import ChannelAccount, ChannelConversation, IdentityOptOut, InboundRecord, OutboundDelivery
from service_hub.org.models import Agent, Department, DepartmentMembership
from service_hub.tickets.models import Attachment, AuditEvent, Counter, Message, Ticket, TicketInvitation, TicketTag
from service_hub.value.models import (
    CustomerScore,
    DirtyCustomer,
    ImportJob,
    MonthlyRevenue,
    TierChange,
    TierSnapshot,
    Transaction,
    ValueModelRow,
    ValueRun,
)

__all__ = [
    "Agent",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "BusinessCalendarRow",
    "CallRecord",
    "CannedResponse",  # issue 7: canned responses
    "CaseRecord",
    "CaseTask",
    "ChannelAccount",
    "ChannelConversation",
    "ContactIdentity",
    "Counter",
    "Customer",
    "CustomerScore",
    "Department",
    "DepartmentMembership",
    "DirtyCustomer",
    "EmailMessageId",  # issue 3: the email family
    "IdentityOptOut",
    "ImapFolderState",  # issue 3: the email family
    "ImportJob",
    "InboundRecord",
    "Message",
    "MonthlyRevenue",
    "Notification",
    "OutboundDelivery",
    "OutboxEvent",
    "QueueSettings",
    "RoutingRuleRow",
    "SlaClock",
    "SlaClockEvent",
    "SlaPolicyRow",
    "Ticket",
    "TicketInvitation",
    "TicketTag",
    "TierChange",
    "TierSnapshot",
    "Transaction",
    "ValueModelRow",
    "ValueRun",
]
