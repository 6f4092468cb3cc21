"""Shared set-up of the casework tests: a centre whose departments carry workflow functions, the
routing rules the tests start from, and logged-in admin and supervisor clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from service_hub.org.models import DepartmentKind, Role
from tests.factories import AgentFactory, DepartmentFactory

URL = "/api/v1/routing-rules"


@dataclass
class Centre:
    centre: Any
    front_line: Any
    hotline_group: Any
    network: Any
    vip: Any
    billing: Any


def build_centre(code: str) -> Centre:
    """A centre whose departments carry the functions routing rules name."""
    centre = DepartmentFactory(kind=DepartmentKind.CENTRE, code=code, name=f"Centre {code}")
    front_line = DepartmentFactory(parent=centre, code=f"{code}-front", name="Front line", functions=["front_line"])
    group = DepartmentFactory(parent=front_line, kind=DepartmentKind.GROUP, code=f"{code}-hotline", name="Hotline group")
    network = DepartmentFactory(parent=centre, code=f"{code}-noc", name="Network operations", functions=["network_operations"])
    vip = DepartmentFactory(parent=centre, code=f"{code}-vip", name="VIP desk", functions=["vip_service"])
    billing = DepartmentFactory(parent=centre, code=f"{code}-billing", name="Billing", functions=["billing", "finance"])
    return Centre(centre, front_line, group, network, vip, billing)


def rule(name: str, conditions: dict[str, Any] | None = None, **outcome: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "outcome": {"workflow": "general_enquiry", **outcome}}
    if conditions is not None:
        body["conditions"] = conditions
    return body


def standard_rules(api: Any) -> dict[str, int]:
    """Default first (a valid set at every step), then rules inserted before it: VIP, Broadband, Night."""
    ids = {}
    for body in (
        rule("Default", department_function="front_line"),
        rule("VIP", {"tiers": ["diamond", "gold"]}, department_function="vip_service", priority="high", tags=["vip"]),
        rule(
            "Broadband",
            {"keywords_any": ["宽带", "broadband"]},
            workflow="fault_repair",
            department_function="network_operations",
            priority="high",
            tags=["broadband", "fault"],
        ),
        rule(
            "Night", {"time_windows": [{"timezone": "Asia/Shanghai", "start": "22:00", "end": "08:00"}]}, department_function="front_line"
        ),
    ):
        r = api.post(URL, json=body)
        assert r.status_code == 201, r.json
        ids[body["name"]] = r.json["id"]
    return ids


@pytest.fixture
def shanghai(app) -> Centre:  # type: ignore[no-untyped-def]
    return build_centre("sh")


@pytest.fixture
def admin_api(login_as):  # type: ignore[no-untyped-def]
    return login_as(AgentFactory(role=Role.ADMIN))


@pytest.fixture
def supervisor_api(login_as, shanghai):  # type: ignore[no-untyped-def]
    return login_as(AgentFactory(role=Role.SUPERVISOR, departments=[shanghai.centre]))
