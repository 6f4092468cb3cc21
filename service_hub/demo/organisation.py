"""The demo operator's organisation: centres, departments, front-line groups and their agents."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from service_hub.core.extensions import db
from service_hub.demo.content import (
    AGENT_MAIL_DOMAIN,
    CENTRES,
    DEPARTMENTS,
    ENGLISH_FIRST_NAMES,
    FRONTLINE_GROUPS,
    GIVEN_NAMES,
    STAFFING,
    SURNAMES,
    CentreSpec,
    UnitSpec,
)
from service_hub.org.models import Agent, Department, DepartmentKind, DepartmentMembership, Presence, Role

CAPACITY = {"hotline": 6, "online": 10, "vip": 5, "field": 4}  # others: 8; phone work is one call at a time
LOGIN_SHOWCASE = ("admin", "bj.supervisor", "bj.hotline1", "sh.online1", "bj.billing1", "gz.network1", "bj.vip1")


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role
    department: str


@dataclass
class Organisation:
    """Ids the customer and ticket builders need; no ORM objects leak out of this module."""

    centre_ids: dict[str, int] = field(default_factory=dict)  # centre code -> id
    unit_ids: dict[tuple[str, str], int] = field(default_factory=dict)  # (centre code, unit key) -> id
    # department id -> agents who may be assigned its tickets: members of it or of a group below it
    assignable: dict[int, list[int]] = field(default_factory=dict)
    logins: list[DemoLogin] = field(default_factory=list)


def create_organisation(rng: random.Random, password_hash: str) -> Organisation:
    org = Organisation()
    units_by_id: dict[int, Department] = {}
    for centre in CENTRES:
        for key, dept in _create_centre(centre).items():
            org.unit_ids[(centre.code, key)] = dept.id
            units_by_id[dept.id] = dept
        org.centre_ids[centre.code] = org.unit_ids[(centre.code, "centre")]

    agents: list[Agent] = []
    for centre in CENTRES:
        agents.append(_agent(rng, f"{centre.code}.supervisor", Role.SUPERVISOR, _centre_unit(centre), password_hash))
        agents[-1].memberships.append(DepartmentMembership(department_id=org.centre_ids[centre.code], is_lead=True))
        for unit_key, headcount in STAFFING:
            unit = _unit_spec(unit_key)
            role = Role.AGENT if unit_key in {"hotline", "online", "vip"} else Role.BACK_OFFICE
            dept_id = org.unit_ids[(centre.code, unit_key)]
            for n in range(1, headcount + 1):
                agent = _agent(rng, f"{centre.code}.{unit_key}{n}", role, unit, password_hash)
                agent.memberships.append(DepartmentMembership(department_id=dept_id, is_lead=n == 1))
                if centre.code == "gz" or rng.random() < 0.1:
                    agent.languages.append("yue")
                agents.append(agent)
    for local, centre_code in (("admin", "bj"), ("it.admin", "sh")):
        admin = _agent(rng, local, Role.ADMIN, _centre_unit(CENTRES[0]), password_hash, capacity=0)
        admin.memberships.append(DepartmentMembership(department_id=org.centre_ids[centre_code]))
        agents.append(admin)
    db.session.add_all(agents)
    db.session.flush()

    for agent in agents:
        for membership in agent.memberships:
            dept = units_by_id[membership.department_id]
            if dept.kind == DepartmentKind.CENTRE:  # a centre's members (supervisors) are not handlers
                continue
            org.assignable.setdefault(dept.id, []).append(agent.id)
            if dept.kind == DepartmentKind.GROUP and dept.parent_id is not None:  # groups handle their parent's tickets
                org.assignable.setdefault(dept.parent_id, []).append(agent.id)
    by_local = {agent.email.split("@")[0]: agent for agent in agents}
    for local in LOGIN_SHOWCASE:
        agent = by_local[local]
        dept = units_by_id[agent.memberships[0].department_id]
        org.logins.append(DemoLogin(agent.email, agent.role, f"{dept.code} ({dept.name})"))
    return org


def _create_centre(centre: CentreSpec) -> dict[str, Department]:
    """One centre with its departments and the front line's groups, flushed so ids exist."""
    root = Department(code=centre.code, name=f"{centre.zh}服务中心 {centre.en} Centre", kind=DepartmentKind.CENTRE)
    units = {"centre": root}
    for spec in DEPARTMENTS:
        units[spec.key] = Department(
            code=f"{centre.code}-{spec.key}",
            name=f"{centre.zh}{spec.zh} {centre.en} {spec.en}",
            kind=DepartmentKind.DEPARTMENT,
            parent=root,
            functions=list(spec.functions),
        )
    for spec in FRONTLINE_GROUPS:
        units[spec.key] = Department(
            code=f"{centre.code}-frontline-{spec.key}",
            name=f"{centre.zh}{spec.zh} {centre.en} {spec.en}",
            kind=DepartmentKind.GROUP,
            parent=units["frontline"],
        )
    db.session.add_all(units.values())
    db.session.flush()
    return units


def _agent(rng: random.Random, local: str, role: Role, unit: UnitSpec, password_hash: str, capacity: int | None = None) -> Agent:
    name, speaks_english = _person_name(rng)
    skills = set(rng.sample(unit.skills, k=min(len(unit.skills), rng.randint(1, 3))))
    if unit.key in {"hotline", "online"}:
        skills |= set(rng.sample(_unit_spec("frontline").skills, k=2))
    languages = ["zh"] + (["en"] if speaks_english or unit.key == "vip" or rng.random() < 0.35 else [])
    return Agent(
        email=f"{local}@{AGENT_MAIL_DOMAIN}",
        name=name,
        password_hash=password_hash,
        role=role,
        skills=sorted(skills),
        languages=languages,
        capacity=capacity if capacity is not None else CAPACITY.get(unit.key, 8 if role != Role.SUPERVISOR else 3),
        presence=rng.choices(list(Presence), weights=(55, 15, 30))[0],
        senior=unit.key == "vip",  # VIP service serves diamond and gold customers first
    )


def _person_name(rng: random.Random) -> tuple[str, bool]:
    """A Chinese name, or for about a quarter an English given name with a Chinese surname."""
    surname, surname_pinyin = rng.choice(SURNAMES)
    if rng.random() < 0.25:
        return f"{rng.choice(ENGLISH_FIRST_NAMES)} {surname_pinyin.capitalize()}", True
    return surname + rng.choice(GIVEN_NAMES)[0], False


def _unit_spec(key: str) -> UnitSpec:
    return next(spec for spec in DEPARTMENTS + FRONTLINE_GROUPS if spec.key == key)


def _centre_unit(centre: CentreSpec) -> UnitSpec:
    return UnitSpec("centre", centre.zh, centre.en, ("escalation", "quality", "reporting"))
