"""Departments (a tree of centre > department > group) and agents with roles and memberships."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service_hub.core.extensions import db
from service_hub.core.types import JSONDocument, UTCDateTime, str_enum, utcnow


class DepartmentKind(enum.StrEnum):
    CENTRE = "centre"
    DEPARTMENT = "department"
    GROUP = "group"


class Role(enum.StrEnum):
    AGENT = "agent"
    BACK_OFFICE = "back_office"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Presence(enum.StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Department(db.Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[DepartmentKind] = mapped_column(str_enum(DepartmentKind))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    # What the department does in a workflow (front_line, dispatcher, billing, finance, ...):
    # a definition names functions; a case resolves them to the departments of its centre.
    functions: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Department | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Department]] = relationship(back_populates="parent")


class DepartmentMembership(db.Model):
    __tablename__ = "department_memberships"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True, index=True)
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)

    department: Mapped[Department] = relationship(lazy="joined")


class Agent(UserMixin, db.Model):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.AGENT)
    skills: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    languages: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    capacity: Mapped[int] = mapped_column(Integer, default=5)
    # Senior agents serve diamond and gold customers first (assignment's tier matching).
    senior: Mapped[bool] = mapped_column(Boolean, default=False)
    presence: Mapped[Presence] = mapped_column(str_enum(Presence), default=Presence.OFFLINE)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change or deactivation: every existing browser session stops working.
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[DepartmentMembership]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_generation}"

    @property
    def department_ids(self) -> list[int]:
        return [m.department_id for m in self.memberships]
