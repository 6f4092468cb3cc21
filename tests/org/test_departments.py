"""Admin CRUD of the department tree: kinds and parents, cycles, deletes that would lose history."""

from __future__ import annotations

from typing import Any

import pytest

from service_hub.core.extensions import db
from service_hub.org.models import Department, DepartmentKind, Role
from tests.factories import AgentFactory, DepartmentFactory, TicketFactory

URL = "/api/v1/departments"


@pytest.fixture
def admin_api(login_as):  # type: ignore[no-untyped-def]
    return login_as(AgentFactory(role=Role.ADMIN))


def _tree() -> dict[str, Department]:
    centre = DepartmentFactory(kind=DepartmentKind.CENTRE, code="hq")
    dept = DepartmentFactory(kind=DepartmentKind.DEPARTMENT, parent=centre, code="billing")
    group = DepartmentFactory(kind=DepartmentKind.GROUP, parent=dept, code="refunds")
    subgroup = DepartmentFactory(kind=DepartmentKind.GROUP, parent=group, code="refunds-vip")
    return {"centre": centre, "dept": dept, "group": group, "subgroup": subgroup}


def _create(api: Any, **body: Any) -> Any:
    return api.post(URL, json={"code": body.pop("code", "x"), "name": body.pop("name", "X"), **body})


def test_admin_builds_lists_renames_and_deletes_a_tree(app, admin_api):
    r = _create(admin_api, code="north", name="  North centre ", kind="centre")
    assert r.status_code == 201, r.json
    centre = r.json
    assert centre["name"] == "North centre" and centre["parent_id"] is None and centre["is_active"] is True
    dept = _create(admin_api, code="north-sales", name="Sales", kind="department", parent_id=centre["id"]).json
    group = _create(admin_api, code="north-sales-a", name="Team A", kind="group", parent_id=dept["id"])
    assert group.status_code == 201, group.json
    nested = _create(admin_api, code="north-sales-a1", name="Team A1", kind="group", parent_id=group.json["id"])
    assert nested.status_code == 201, nested.json

    listed = admin_api.get(URL).json
    assert [d["code"] for d in listed] == ["north", "north-sales", "north-sales-a", "north-sales-a1"]
    children = admin_api.get(URL, query_string={"parent_id": dept["id"]}).json
    assert [d["code"] for d in children] == ["north-sales-a"]
    assert [d["code"] for d in admin_api.get(URL, query_string={"kind": "centre"}).json] == ["north"]

    r = admin_api.patch(f"{URL}/{dept['id']}", json={"name": "Sales & Renewals"})
    assert r.status_code == 200, r.json
    assert r.json["name"] == "Sales & Renewals" and r.json["code"] == "north-sales"
    assert admin_api.get(f"{URL}/{dept['id']}").json["name"] == "Sales & Renewals"

    assert admin_api.delete(f"{URL}/{nested.json['id']}").status_code == 204
    assert admin_api.get(f"{URL}/{nested.json['id']}").status_code == 404
    assert db.session.get(Department, nested.json["id"]) is None


@pytest.mark.parametrize(
    ("kind", "parent"),
    [
        ("centre", "centre"),  # a centre is a root
        ("department", None),  # a department needs a centre
        ("department", "dept"),
        ("department", "group"),
        ("group", None),
        ("group", "centre"),  # a group sits in a department or group, not directly in a centre
    ],
)
def test_tree_rules_are_422_on_parent_id(app, admin_api, kind, parent):
    tree = _tree()
    parent_id = tree[parent].id if parent else None
    r = _create(admin_api, code="new", kind=kind, parent_id=parent_id)
    assert r.status_code == 422, r.json
    assert "parent_id" in r.json["errors"]
    assert db.session.query(Department).filter_by(code="new").first() is None


def test_unknown_parent_and_bad_code_are_422(app, admin_api):
    r = _create(admin_api, code="new", kind="department", parent_id=999999)
    assert r.status_code == 422 and "parent_id" in r.json["errors"]
    r = _create(admin_api, code="has space", kind="centre")
    assert r.status_code == 422 and "code" in r.json["errors"]["json"]
    r = _create(admin_api, code="x", kind="region")
    assert r.status_code == 422 and "kind" in r.json["errors"]["json"]


def test_duplicate_code_is_409(app, admin_api):
    DepartmentFactory(code="taken", kind=DepartmentKind.CENTRE)
    assert _create(admin_api, code="taken", kind="centre").status_code == 409
    other = DepartmentFactory(code="other", kind=DepartmentKind.CENTRE)
    db.session.commit()
    r = admin_api.patch(f"{URL}/{other.id}", json={"code": "taken"})
    assert r.status_code == 409
    db.session.refresh(other)
    assert other.code == "other"


def test_moving_a_group_below_itself_is_refused(app, admin_api):
    tree = _tree()
    group, subgroup = tree["group"], tree["subgroup"]
    for target in (subgroup.id, group.id):
        r = admin_api.patch(f"{URL}/{group.id}", json={"parent_id": target, "name": "Renamed"})
        assert r.status_code == 422, r.json
        assert "parent_id" in r.json["errors"]
    db.session.refresh(group)
    assert group.parent_id == tree["dept"].id and group.name != "Renamed"


def test_moving_within_the_rules_works(app, admin_api):
    tree = _tree()
    other_dept = DepartmentFactory(kind=DepartmentKind.DEPARTMENT, parent=tree["centre"])
    db.session.commit()
    r = admin_api.patch(f"{URL}/{tree['subgroup'].id}", json={"parent_id": other_dept.id})
    assert r.status_code == 200, r.json
    assert r.json["parent_id"] == other_dept.id
    # A department cannot be moved out of its centre to the root.
    r = admin_api.patch(f"{URL}/{tree['dept'].id}", json={"parent_id": None})
    assert r.status_code == 422


def test_kind_is_fixed_and_server_fields_are_not_loadable(app, admin_api):
    dept = _tree()["dept"]
    for body in ({"kind": "group"}, {"id": 5}, {"created_at": "2020-01-01T00:00:00Z"}):
        r = admin_api.patch(f"{URL}/{dept.id}", json=body)
        assert r.status_code == 422, body
    assert _create(admin_api, code="c", kind="centre", id=424242).status_code == 422
    db.session.refresh(dept)
    assert dept.kind == DepartmentKind.DEPARTMENT


def test_delete_refused_while_referenced_and_deactivation_offered(app, admin_api):
    tree = _tree()
    r = admin_api.delete(f"{URL}/{tree['group'].id}")
    assert r.status_code == 409 and "sub-department" in r.json["detail"]

    AgentFactory(departments=[tree["subgroup"]])
    db.session.commit()
    r = admin_api.delete(f"{URL}/{tree['subgroup'].id}")
    assert r.status_code == 409 and "member" in r.json["detail"]

    with_ticket = DepartmentFactory(kind=DepartmentKind.DEPARTMENT, parent=tree["centre"])
    TicketFactory(department=with_ticket)
    db.session.commit()
    r = admin_api.delete(f"{URL}/{with_ticket.id}")
    assert r.status_code == 409 and "tickets" in r.json["detail"]
    assert db.session.get(Department, with_ticket.id) is not None

    r = admin_api.patch(f"{URL}/{with_ticket.id}", json={"is_active": False})
    assert r.status_code == 200 and r.json["is_active"] is False
    assert [d["id"] for d in admin_api.get(URL, query_string={"is_active": "false"}).json] == [with_ticket.id]


def test_missing_department_is_404(app, admin_api):
    assert admin_api.get(f"{URL}/999999").status_code == 404
    assert admin_api.patch(f"{URL}/999999", json={"name": "x"}).status_code == 404
    assert admin_api.delete(f"{URL}/999999").status_code == 404
