"""Opt-outs per identity and channel family: STOP records one, START removes it, sends check it."""

from __future__ import annotations

from sqlalchemy import delete, select

from service_hub.core.extensions import db
from service_hub.core.outbox import record_event
from service_hub.customers.models import ContactIdentity
from service_hub.inbound.models import IdentityOptOut


def is_opted_out(identity_id: int, family: str) -> bool:
    query = select(IdentityOptOut.identity_id).where(IdentityOptOut.identity_id == identity_id, IdentityOptOut.family == family)
    return db.session.scalar(query) is not None


def opt_out(identity: ContactIdentity, family: str, keyword: str, source_record_id: int | None = None) -> None:
    if is_opted_out(identity.id, family):
        return
    db.session.add(IdentityOptOut(identity_id=identity.id, family=family, keyword=keyword[:32], source_record_id=source_record_id))
    record_event(
        "customer.opted_out",
        {"customer_id": identity.customer_id, "identity_id": identity.id, "family": family},
        [f"customer:{identity.customer_id}"],
    )


def opt_in(identity: ContactIdentity, family: str) -> None:
    removed = db.session.execute(
        delete(IdentityOptOut).where(IdentityOptOut.identity_id == identity.id, IdentityOptOut.family == family)
    ).rowcount
    if removed:
        record_event(
            "customer.opted_in",
            {"customer_id": identity.customer_id, "identity_id": identity.id, "family": family},
            [f"customer:{identity.customer_id}"],
        )
