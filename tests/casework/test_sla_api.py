"""/api/v1/sla: admins keep SLA policies (always with an active default) and business calendars; the
preview and the due-time preview answer as the clocks would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service_hub.casework import sla_clocks
from service_hub.casework.models import BusinessCalendarRow, SlaPolicyRow
from service_hub.core.extensions import db
from service_hub.customers.models import Tier
from service_hub.tickets.models import Channel
from tests.factories import CustomerFactory, DepartmentFactory, TicketFactory

URL = "/api/v1/sla"
POLICIES = f"{URL}/policies"
CALENDARS = f"{URL}/calendars"
SEEDED = ["Urgent", "Diamond", "Gold", "High", "Default"]  # migration 0003, positions 0..4
OFFICE_HOURS = {str(d): [["09:00", "12:00"], ["13:00", "18:00"]] for d in range(5)}


def _ids(api: Any) -> dict[str, int]:
    return {p["name"]: p["id"] for p in api.get(POLICIES).json}


def _policy(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "first_response_seconds": 600, "resolution_seconds": 7200, **fields}


# --- policies: CRUD ------------------------------------------------------------------------------


def test_supervisors_read_the_seeded_policies_by_position(supervisor_api):
    listed = supervisor_api.get(POLICIES).json
    assert [p["name"] for p in listed] == SEEDED
    default = listed[-1]
    assert default == {
        "id": default["id"],
        "name": "Default",
        "position": 4,
        "tier": None,
        "priority": None,
        "channel": None,
        "category": None,
        "first_response_seconds": 4 * 3600,
        "next_response_seconds": 8 * 3600,
        "resolution_seconds": 5 * 8 * 3600,
        "calendar_key": "office-cn",
        "warning_share": 0.75,
        "supervise_after_seconds": 3600,
        "is_active": True,
        "is_default": True,
    }
    assert [p["is_default"] for p in listed] == [False, False, False, False, True]
    assert supervisor_api.get(f"{POLICIES}/{default['id']}").json == default


def test_admin_creates_patches_and_deletes_a_policy(admin_api):
    r = admin_api.post(POLICIES, json=_policy("Gold email", tier="gold", channel="email"))
    assert r.status_code == 201, r.json
    created = r.json
    assert created["position"] == 5  # after the others
    assert (created["calendar_key"], created["warning_share"], created["supervise_after_seconds"]) == ("24x7", 0.75, 3600)
    assert created["next_response_seconds"] is None and created["is_active"] is True and created["is_default"] is False

    r = admin_api.patch(
        f"{POLICIES}/{created['id']}",
        json={"channel": None, "category": "  billing ", "calendar_key": "office-cn", "warning_share": 0.5, "position": 1},
    )
    assert r.status_code == 200, r.json
    assert (r.json["tier"], r.json["channel"], r.json["category"]) == ("gold", None, "billing")
    assert (r.json["calendar_key"], r.json["warning_share"], r.json["position"]) == ("office-cn", 0.5, 1)
    stored = db.session.get(SlaPolicyRow, created["id"])
    db.session.refresh(stored)
    assert stored.category == "billing" and stored.channel is None

    assert admin_api.delete(f"{POLICIES}/{created['id']}").status_code == 204
    assert admin_api.get(f"{POLICIES}/{created['id']}").status_code == 404
    assert [p["name"] for p in admin_api.get(POLICIES).json] == SEEDED
    assert admin_api.patch(f"{POLICIES}/999999", json={"name": "x"}).status_code == 404
    assert admin_api.delete(f"{POLICIES}/999999").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_policy("X", tier="platinum"), "tier"),
        (_policy("X", priority="asap"), "priority"),
        (_policy("X", channel="fax"), "channel"),
        (_policy("X", first_response_seconds=0), "first_response_seconds"),
        (_policy("X", resolution_seconds=-60), "resolution_seconds"),
        (_policy("X", next_response_seconds="600"), "next_response_seconds"),
        (_policy("X", warning_share=0), "warning_share"),
        (_policy("X", warning_share=1.5), "warning_share"),
        (_policy("X", supervise_after_seconds=-1), "supervise_after_seconds"),
        (_policy("X", category=""), "category"),
        (_policy("  "), "name"),
        (_policy("X", colour="red"), "colour"),
        (_policy("X", calendar_key="mars-base"), "calendar_key"),  # checked against business_calendars
        ({"tier": "gold"}, "name"),
    ],
)
def test_invalid_policies_are_422_with_field_errors(admin_api, body, field):
    r = admin_api.post(POLICIES, json=body)
    assert r.status_code == 422, r.json
    assert field in r.json["errors"]["json"]
    assert [p["name"] for p in admin_api.get(POLICIES).json] == SEEDED


def test_names_are_unique_and_patch_validates_like_create(admin_api):
    ids = _ids(admin_api)
    assert admin_api.post(POLICIES, json=_policy("Gold", tier="silver")).status_code == 409
    r = admin_api.patch(f"{POLICIES}/{ids['High']}", json={"name": "Gold"})
    assert r.status_code == 409 and "already used" in r.json["detail"]
    assert admin_api.patch(f"{POLICIES}/{ids['High']}", json={"name": "High"}).status_code == 200  # its own name
    r = admin_api.patch(f"{POLICIES}/{ids['High']}", json={"calendar_key": "nowhere"})
    assert r.status_code == 422 and "24x7" in r.json["errors"]["json"]["calendar_key"][0]
    assert admin_api.patch(f"{POLICIES}/{ids['High']}", json={"resolution_seconds": 0}).status_code == 422
    assert admin_api.patch(f"{POLICIES}/{ids['High']}", json={"id": 7}).status_code == 422
    assert admin_api.get(f"{POLICIES}/{ids['High']}").json["calendar_key"] == "24x7"


def test_the_last_active_default_policy_cannot_go(admin_api):
    default = _ids(admin_api)["Default"]
    for change in ({"tier": "normal"}, {"category": "complaint"}, {"is_active": False}):
        r = admin_api.patch(f"{POLICIES}/{default}", json=change)
        assert r.status_code == 409, change
        assert "default" in r.json["detail"]
    assert admin_api.delete(f"{POLICIES}/{default}").status_code == 409
    # An inactive default does not count.
    spare = admin_api.post(POLICIES, json=_policy("Spare", is_active=False)).json
    assert spare["is_default"] is True
    assert admin_api.delete(f"{POLICIES}/{default}").status_code == 409
    # Once another default is active, the old one may go; then the new one is the last.
    assert admin_api.patch(f"{POLICIES}/{spare['id']}", json={"is_active": True}).status_code == 200
    assert admin_api.delete(f"{POLICIES}/{default}").status_code == 204
    assert admin_api.patch(f"{POLICIES}/{spare['id']}", json={"is_active": False}).status_code == 409
    assert admin_api.patch(f"{POLICIES}/{spare['id']}", json={"first_response_seconds": 60}).status_code == 200
    assert db.session.scalars(select(SlaPolicyRow.name).where(SlaPolicyRow.id == default)).first() is None


# --- policies: preview ---------------------------------------------------------------------------


def test_preview_follows_choose_policys_precedence(supervisor_api):
    def chosen(**ticket: Any) -> str | None:
        r = supervisor_api.post(f"{POLICIES}/preview", json=ticket)
        assert r.status_code == 200, r.json
        return r.json["policy"]["name"] if r.json["policy"] else None

    # Diamond (tier) and Urgent (priority) each fix one criterion; the tier weighs more.
    assert chosen(tier="diamond", priority="urgent") == "Diamond"
    assert chosen(tier="normal", priority="urgent") == "Urgent"
    assert chosen(tier="gold", priority="high") == "Gold"
    assert chosen(tier="silver", priority="normal", channel="email", category="billing") == "Default"
    assert chosen() == "Default"


def test_preview_prefers_more_criteria_ignores_inactive_and_shows_targets(admin_api, supervisor_api):
    r = admin_api.post(POLICIES, json=_policy("Urgent SMS", priority="urgent", channel="sms", first_response_seconds=300))
    assert r.status_code == 201, r.json
    preview = supervisor_api.post(f"{POLICIES}/preview", json={"tier": "diamond", "priority": "urgent", "channel": "sms"}).json
    assert preview["policy"]["name"] == "Urgent SMS"  # two criteria beat one, even the tier
    start = "2026-11-24T10:00:00+08:00"
    preview = supervisor_api.post(f"{POLICIES}/preview", json={"priority": "urgent", "channel": "sms", "start": start}).json
    assert preview["targets"] == [
        {"clock": "first_response", "seconds": 300, "due_at": "2026-11-24T02:05:00+00:00"},
        {"clock": "resolution", "seconds": 7200, "due_at": "2026-11-24T04:00:00+00:00"},
    ]
    admin_api.patch(f"{POLICIES}/{r.json['id']}", json={"is_active": False})
    preview = supervisor_api.post(f"{POLICIES}/preview", json={"priority": "urgent", "channel": "sms"}).json
    assert preview["policy"]["name"] == "Urgent" and [t["due_at"] for t in preview["targets"]] == [None, None, None]
    # The preview and intake choose alike.
    ticket = TicketFactory(department=DepartmentFactory(), tier=Tier.DIAMOND)
    assert sla_clocks.policy_for(ticket).name == supervisor_api.post(f"{POLICIES}/preview", json={"tier": "diamond"}).json["policy"]["name"]
    assert supervisor_api.post(f"{POLICIES}/preview", json={"tier": "platinum"}).status_code == 422


# --- calendars -----------------------------------------------------------------------------------


def test_calendars_are_listed_with_the_policies_using_them(supervisor_api):
    listed = {c["key"]: c for c in supervisor_api.get(CALENDARS).json}
    assert set(listed) == {"24x7", "office-cn"}
    office = listed["office-cn"]
    assert office["hours"] == OFFICE_HOURS and office["china_holidays"] is True and office["timezone"] == "Asia/Shanghai"
    assert office["policies"] == ["Default"]
    assert listed["24x7"]["hours"] == {} and listed["24x7"]["policies"] == ["Urgent", "Diamond", "Gold", "High"]
    assert supervisor_api.get(f"{CALENDARS}/office-cn").json == office
    assert supervisor_api.get(f"{CALENDARS}/nowhere").status_code == 404


def test_admin_creates_patches_and_deletes_a_calendar(admin_api):
    body = {
        "key": "weekend-desk",
        "name": "Weekend desk",
        "timezone": "Europe/Berlin",
        "hours": {"6": [["10:00", "16:00"]], "5": [["13:00", "18:00"], ["08:00", "12:00"]]},
        "closures": [["2026-12-26T00:00:00+01:00", "2026-12-27T00:00:00+01:00"]],
    }
    r = admin_api.post(CALENDARS, json=body)
    assert r.status_code == 201, r.json
    created = r.json
    assert created["hours"] == {"5": [["08:00", "12:00"], ["13:00", "18:00"]], "6": [["10:00", "16:00"]]}  # sorted
    assert created["closures"] == [["2026-12-26T00:00:00+01:00", "2026-12-27T00:00:00+01:00"]]
    assert created["china_holidays"] is False and created["policies"] == []
    assert admin_api.post(CALENDARS, json=body).status_code == 409

    r = admin_api.patch(f"{CALENDARS}/weekend-desk", json={"name": "Weekends", "closures": [], "china_holidays": True})
    assert r.status_code == 200, r.json
    assert (r.json["name"], r.json["closures"], r.json["china_holidays"]) == ("Weekends", [], True)
    assert r.json["updated_at"] > created["updated_at"]
    assert admin_api.patch(f"{CALENDARS}/weekend-desk", json={"key": "other"}).status_code == 422  # the key stays

    assert admin_api.delete(f"{CALENDARS}/weekend-desk").status_code == 204
    assert admin_api.get(f"{CALENDARS}/weekend-desk").status_code == 404
    assert admin_api.delete(f"{CALENDARS}/weekend-desk").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../etc/passwd"}, "timezone"),
        ({"hours": {"0": [["09:00", "12:00"], ["11:00", "14:00"]]}}, "hours"),  # overlapping
        ({"hours": {"0": [["18:00", "09:00"]]}}, "hours"),  # ends before it starts
        ({"hours": {"7": [["09:00", "18:00"]]}}, "hours"),
        ({"hours": {"mon": [["09:00", "18:00"]]}}, "hours"),
        ({"hours": {"0": [["9:00", "18:00"]]}}, "hours"),
        ({"hours": {"0": [["09:00", "24:00"]]}}, "hours"),
        ({"hours": {"0": [["09:00"]]}}, "hours"),
        ({"hours": {"0": [], "1": []}}, "hours"),  # never open
        ({"closures": [["2026-12-01T10:00:00+08:00", "2026-12-01T09:00:00+08:00"]]}, "closures"),
        ({"closures": [["2026-12-01T10:00:00", "2026-12-01T12:00:00"]]}, "closures"),  # no offset
        ({"name": " "}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_calendars_are_422(admin_api, changes, field):
    r = admin_api.patch(f"{CALENDARS}/office-cn", json=changes)
    assert r.status_code == 422, r.json
    assert field in r.json["errors"]["json"]
    r = admin_api.post(CALENDARS, json={"key": "new-cal", "name": "New", "timezone": "Asia/Shanghai", **changes})
    assert r.status_code == 422, r.json
    assert admin_api.get(f"{CALENDARS}/office-cn").json["hours"] == OFFICE_HOURS
    assert admin_api.get(f"{CALENDARS}/new-cal").status_code == 404


def test_calendar_keys_are_slugs_and_required_fields_are_required(admin_api):
    for key in ("Office CN", "-office", "office/cn", ""):
        assert admin_api.post(CALENDARS, json={"key": key, "name": "x", "timezone": "UTC"}).status_code == 422, key
    r = admin_api.post(CALENDARS, json={"key": "x"})
    assert r.status_code == 422 and {"name", "timezone"} <= set(r.json["errors"]["json"])
    r = admin_api.post(CALENDARS, json={"key": "always", "name": "Always", "timezone": "UTC"})
    assert r.status_code == 201 and r.json["hours"] == {}  # always open


def test_a_calendar_in_use_cannot_be_deleted(admin_api, world):
    r = admin_api.delete(f"{CALENDARS}/office-cn")
    assert r.status_code == 409 and "Default" in r.json["detail"]
    admin_api.post(CALENDARS, json={"key": "night", "name": "Night", "timezone": "Asia/Shanghai", "hours": {"0": [["20:00", "00:00"]]}})
    policy = admin_api.post(POLICIES, json=_policy("Night shift", channel="phone", calendar_key="night")).json
    assert admin_api.delete(f"{CALENDARS}/night").status_code == 409
    # A running clock still counts by it after its policy moved away.
    ticket = TicketFactory(department=world.dept_a, channel=Channel.PHONE)
    sla_clocks.start_ticket_clocks(ticket, datetime(2026, 11, 24, 2, tzinfo=UTC))
    db.session.commit()
    assert admin_api.patch(f"{POLICIES}/{policy['id']}", json={"calendar_key": "24x7"}).status_code == 200
    r = admin_api.delete(f"{CALENDARS}/night")
    assert r.status_code == 409 and "2 running or paused clock(s)" in r.json["detail"]


def test_a_calendar_change_reaches_the_next_ticket(admin_api, world, login_as):
    """The Default policy (normal tier and priority) counts 4 business hours by office-cn."""
    customer = CustomerFactory(tier=Tier.NORMAL)
    agent_api = login_as(world.agent_a)

    def first_response_due() -> datetime:
        r = agent_api.post("/api/v1/tickets", json={"subject": "Bill", "department_id": world.dept_a.id, "customer_id": customer.id})
        assert r.status_code == 201, r.json
        return datetime.fromisoformat(r.json["first_response_due_at"])

    before = first_response_due()  # office-cn is now built and cached in this process
    # Always open but closed for the next day: the clock starts counting when the closure ends.
    now = datetime.now(UTC).replace(microsecond=0)
    reopen = now + timedelta(days=1)
    closure = [(now - timedelta(hours=1)).isoformat(), reopen.isoformat()]
    r = admin_api.patch(f"{CALENDARS}/office-cn", json={"hours": {}, "china_holidays": False, "closures": [closure]})
    assert r.status_code == 200, r.json
    after = first_response_due()
    assert after == reopen + timedelta(hours=4)
    assert after != before


# --- due-time preview ----------------------------------------------------------------------------


def test_due_preview_rolls_a_friday_evening_start_to_monday(supervisor_api):
    friday_evening = "2026-11-27T19:00:00+08:00"
    r = supervisor_api.get(f"{CALENDARS}/office-cn/due", query_string={"start": friday_evening, "seconds": 2 * 3600})
    assert r.status_code == 200, r.json
    assert r.json == {
        "calendar_key": "office-cn",
        "start": "2026-11-27T11:00:00+00:00",
        "counting_from": "2026-11-30T01:00:00+00:00",  # Monday 09:00 in Shanghai
        "seconds": 7200,
        "due_at": "2026-11-30T03:00:00+00:00",  # Monday 11:00
        "business_seconds": 7200.0,
        "elapsed_seconds": (datetime(2026, 11, 30, 3, tzinfo=UTC) - datetime(2026, 11, 27, 11, tzinfo=UTC)).total_seconds(),
    }
    # The lunch break does not count: 4 h from Monday 10:00 is 15:00.
    r = supervisor_api.get(f"{CALENDARS}/office-cn/due", query_string={"start": "2026-11-30T10:00:00+08:00", "seconds": 4 * 3600})
    assert r.json["due_at"] == "2026-11-30T07:00:00+00:00"
    r = supervisor_api.get(f"{CALENDARS}/24x7/due", query_string={"start": friday_evening, "seconds": 7200})
    assert r.json["due_at"] == "2026-11-27T13:00:00+00:00"


def test_due_preview_checks_its_query(supervisor_api):
    assert supervisor_api.get(f"{CALENDARS}/nowhere/due", query_string={"seconds": 60}).status_code == 404
    assert supervisor_api.get(f"{CALENDARS}/office-cn/due").status_code == 400
    assert supervisor_api.get(f"{CALENDARS}/office-cn/due", query_string={"seconds": -1}).status_code == 400
    naive = {"start": "2026-11-27T19:00:00", "seconds": 60}
    assert supervisor_api.get(f"{CALENDARS}/office-cn/due", query_string=naive).status_code == 400
    r = supervisor_api.get(f"{CALENDARS}/office-cn/due", query_string={"seconds": 0})
    assert r.status_code == 200 and r.json["due_at"] == r.json["counting_from"]


def test_due_preview_beyond_the_calendars_horizon_is_422(admin_api):
    admin_api.post(CALENDARS, json={"key": "rare", "name": "A minute a week", "timezone": "UTC", "hours": {"0": [["09:00", "09:01"]]}})
    r = admin_api.get(f"{CALENDARS}/rare/due", query_string={"seconds": 365 * 86400})
    assert r.status_code == 422 and "not open long enough" in r.json["detail"]


# --- who may -------------------------------------------------------------------------------------


def test_agents_may_not_read_supervisors_read_admins_write(login_as, supervisor_api, world):
    default = _ids(supervisor_api)["Default"]
    agent_api = login_as(world.agent_a)
    for url in (POLICIES, f"{POLICIES}/{default}", CALENDARS, f"{CALENDARS}/office-cn", f"{CALENDARS}/office-cn/due?seconds=60"):
        assert agent_api.get(url).status_code == 403, url
    assert agent_api.post(f"{POLICIES}/preview", json={}).status_code == 403
    assert agent_api.post(POLICIES, json=_policy("X")).status_code == 403

    assert supervisor_api.post(f"{POLICIES}/preview", json={}).status_code == 200
    assert supervisor_api.post(POLICIES, json=_policy("X")).status_code == 403
    assert supervisor_api.patch(f"{POLICIES}/{default}", json={"name": "x"}).status_code == 403
    assert supervisor_api.delete(f"{POLICIES}/{default}").status_code == 403
    assert supervisor_api.post(CALENDARS, json={"key": "x", "name": "x", "timezone": "UTC"}).status_code == 403
    assert supervisor_api.patch(f"{CALENDARS}/office-cn", json={"name": "x"}).status_code == 403
    assert supervisor_api.delete(f"{CALENDARS}/24x7").status_code == 403
    assert db.session.scalars(select(BusinessCalendarRow.key).order_by(BusinessCalendarRow.key)).all() == ["24x7", "office-cn"]


def test_the_endpoints_are_in_the_openapi_document(supervisor_api):
    paths = set(supervisor_api.get("/api/v1/openapi.json").json["paths"])
    assert {
        "/api/v1/sla/policies",
        "/api/v1/sla/policies/{policy_id}",
        "/api/v1/sla/policies/preview",
        "/api/v1/sla/calendars",
        "/api/v1/sla/calendars/{key}",
        "/api/v1/sla/calendars/{key}/due",
    } <= paths
