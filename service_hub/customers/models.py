"""Customer and ContactIdentity: one person, many ways to reach them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service_hub.core.extensions import db
from service_hub.core.types import JSONDocument, UTCDateTime, str_enum, utcnow


class Tier(enum.StrEnum):
    """Customer-value tiers, best first; the tier sets priority, routing and SLA."""

    DIAMOND = "diamond"
    GOLD = "gold"
    SILVER = "silver"
    VIP = "vip"
    NORMAL = "normal"


class IdentityKind(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    WECHAT = "wechat"
    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    EXTERNAL = "external"


class Customer(db.Model):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    language: Mapped[str | None] = mapped_column(String(16))
    tier: Mapped[Tier] = mapped_column(str_enum(Tier), default=Tier.NORMAL)
    notes: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, object]] = mapped_column(JSONDocument, default=dict)
    # A merged customer stays as a tombstone pointing at the survivor, so old references resolve.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    identities: Mapped[list[ContactIdentity]] = relationship(back_populates="customer", lazy="selectin", order_by="ContactIdentity.id")


class ContactIdentity(db.Model):
    __tablename__ = "contact_identities"
    # account: which channel account the id belongs to (a WeChat openid is per official account);
    # "" for global kinds such as phone and email.
    __table_args__ = (UniqueConstraint("kind", "account", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[IdentityKind] = mapped_column(str_enum(IdentityKind))
    account: Mapped[str] = mapped_column(String(120), default="")
    value: Mapped[str] = mapped_column(String(320), index=True)
    display_value: Mapped[str | None] = mapped_column(String(320))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="identities")
