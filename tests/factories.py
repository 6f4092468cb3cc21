"""factory-boy factories for every model; they write through the test's db.session."""

from __future__ import annotations

import itertools

import factory
from factory.alchemy import SQLAlchemyModelFactory

from service_hub.auth.passwords import hash_password
from service_hub.core.extensions import db
from service_hub.customers.models import ContactIdentity, Customer, IdentityKind, Tier
from service_hub.org.models import Agent, Department, DepartmentKind, DepartmentMembership, Presence, Role
from service_hub.tickets.models import Attachment, Channel, Direction, Message, Priority, Ticket, TicketStatus

PASSWORD = "correct horse battery"
# Hashing with Argon2 once, not per agent, keeps the suite fast.
_PASSWORD_HASH = hash_password(PASSWORD)
_numbers = itertools.count(900000)


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731  (the per-test session, looked up late)
        sqlalchemy_session_persistence = "flush"


class DepartmentFactory(_Base):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.Sequence(lambda n: f"Department {n}")
    kind = DepartmentKind.DEPARTMENT
    parent = None


class AgentFactory(_Base):
    class Meta:
        model = Agent

    email = factory.Sequence(lambda n: f"agent{n}@example.test")
    name = factory.Sequence(lambda n: f"Agent {n}")
    password_hash = _PASSWORD_HASH
    role = Role.AGENT
    presence = Presence.ONLINE
    skills = factory.LazyFunction(list)
    languages = factory.LazyFunction(lambda: ["zh", "en"])

    @factory.post_generation
    def departments(self, create: bool, extracted: list[Department] | None, **kwargs: object) -> None:
        for dept in extracted or []:
            self.memberships.append(DepartmentMembership(department_id=dept.id))
        if extracted:
            db.session.flush()


class CustomerFactory(_Base):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    tier = Tier.NORMAL


class IdentityFactory(_Base):
    class Meta:
        model = ContactIdentity

    customer = factory.SubFactory(CustomerFactory)
    kind = IdentityKind.EMAIL
    account = ""
    value = factory.Sequence(lambda n: f"person{n}@mail.test")


class TicketFactory(_Base):
    class Meta:
        model = Ticket

    number = factory.LazyFunction(lambda: next(_numbers))
    subject = factory.Sequence(lambda n: f"Ticket subject {n}")
    status = TicketStatus.OPEN
    priority = Priority.NORMAL
    channel = Channel.EMAIL
    customer = factory.SubFactory(CustomerFactory)
    department = factory.SubFactory(DepartmentFactory)


class MessageFactory(_Base):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    direction = Direction.INBOUND
    channel = Channel.EMAIL
    body_text = factory.Sequence(lambda n: f"Message body {n}")


class AttachmentFactory(_Base):
    class Meta:
        model = Attachment

    filename = "evidence.txt"
    media_type = "text/plain"
    size = 5
    sha256 = "0" * 64
