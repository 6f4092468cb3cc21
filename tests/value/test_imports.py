"""Imports of transactions and monthly revenue: the bad-row report, idempotent re-imports, customer
resolution, encodings, the upload API with progress events, incremental records, permissions, CLI."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from service_hub.auth.operations import create_token
from service_hub.core.errors import Problem
from service_hub.core.extensions import db
from service_hub.core.outbox import OutboxEvent
from service_hub.customers.models import IdentityKind
from service_hub.org.models import Role
from service_hub.value import imports
from service_hub.value.imports import run_import
from service_hub.value.models import DirtyCustomer, ImportJob, MonthlyRevenue, Transaction
from tests.factories import AgentFactory, CustomerFactory, IdentityFactory

URL = "/api/v1/value"

BAD_ROWS = (
    "customer,date,amount,product,category,channel\n"  # 1
    "C-1,2024-03-01,100.00,Plan A,mobile,store\n"  # 2 good
    "C-404,2024-03-02,5,,,\n"  # 3 no such customer
    "C-1,2024-13-01,5,,,\n"  # 4 no such date
    "C-1,2024-03-03,abc,,,\n"  # 5 not a number
    "\n"  # 6 blank: skipped, not counted
    "C-1,2024-03-04,1.234,,,\n"  # 7 three decimals
    'C-1,2024-03-05,12.5,"Plan\nB",mobile,web\n'  # 8-9 good, a quoted field over two lines
    "C-1,2024-03-06,7,a,b,c,extra\n"  # 10 one field too many
    ",2024-03-07,7,,,\n"  # 11 no customer reference
    "C-1,2024/03/08,-20.00,refund,,\n"  # 12 good: a refund, slashed date
    "C-1,2099-01-01,1,,,\n"  # 13 in the future
)


@pytest.fixture
def people(app):
    ann = CustomerFactory(name="Ann", customer_number="C-1")
    IdentityFactory(customer=ann, kind=IdentityKind.PHONE, value="+8613800138000")
    bob = CustomerFactory(name="Bob", customer_number="C-2")
    IdentityFactory(customer=bob, kind=IdentityKind.EMAIL, value="bob.li@mail.test")
    carl = CustomerFactory(name="Carl", customer_number="C-3")
    tomb = CustomerFactory(name="Carl (old)", customer_number="C-3-OLD", merged_into_id=carl.id)
    older = CustomerFactory(name="Carl (older)", customer_number="C-3-OLDER", merged_into_id=tomb.id)
    admin = AgentFactory(role=Role.ADMIN)
    agent = AgentFactory()
    db.session.commit()
    return SimpleNamespace(ann=ann, bob=bob, carl=carl, tomb=tomb, older=older, admin=admin, agent=agent)


def _file(tmp_path: Path, text: str | bytes, name: str = "data.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def _import(path: Path, kind: str = "transactions", on_progress=None) -> ImportJob:
    job = ImportJob(kind=kind, filename=path.name, sha256="0" * 64, status="queued", errors=[])
    db.session.add(job)
    db.session.commit()
    run_import(job, path, on_progress)
    return job


def _transactions(customer_id: int | None = None) -> list[Transaction]:
    query = select(Transaction).order_by(Transaction.occurred_on, Transaction.id)
    if customer_id is not None:
        query = query.where(Transaction.customer_id == customer_id)
    return list(db.session.scalars(query))


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


# --- the report and idempotence -----------------------------------------------------------------


def test_bad_rows_are_reported_by_line_while_good_rows_are_kept(people, tmp_path):
    job = _import(_file(tmp_path, BAD_ROWS))

    assert (job.status, job.total_rows, job.imported_rows, job.duplicate_rows, job.rejected_rows) == ("done", 10, 3, 0, 7)
    report = {e["line"]: e["reason"] for e in job.errors}
    assert sorted(report) == [3, 4, 5, 7, 10, 11, 13]
    assert report[3] == "no customer with number or phone 'C-404'"
    assert "not a calendar date" in report[4]
    assert "'abc' is not a number" in report[5]
    assert "more than 2 decimal places" in report[7]
    assert report[10] == "the row has 7 fields; the header has 6"
    assert report[11].startswith("no customer reference")
    assert "in the future" in report[13]
    assert next(e["raw"] for e in job.errors if e["line"] == 3) == "C-404,2024-03-02,5,,,"
    stored = [(t.occurred_on, t.amount, t.product, t.channel, t.import_job_id) for t in _transactions()]
    assert stored == [
        (date(2024, 3, 1), Decimal("100.00"), "Plan A", "store", job.id),
        (date(2024, 3, 5), Decimal("12.50"), "Plan\nB", "web", job.id),
        (date(2024, 3, 8), Decimal("-20.00"), "refund", None, job.id),
    ]
    assert {t.customer_id for t in _transactions()} == {people.ann.id}


def test_importing_the_same_file_again_creates_no_duplicates(people, tmp_path):
    path = _file(tmp_path, BAD_ROWS)
    _import(path)
    again = _import(path)

    assert (again.status, again.imported_rows, again.duplicate_rows, again.rejected_rows) == ("done", 0, 3, 7)
    assert len(_transactions()) == 3


def test_identical_rows_in_one_file_both_count_and_only_new_occurrences_are_added(people, tmp_path):
    row = "C-1,2024-05-01,9.90,Coffee,drinks,store\n"
    two = _import(_file(tmp_path, "customer,date,amount,product,category,channel\n" + row * 2, "two.csv"))
    assert (two.imported_rows, two.duplicate_rows) == (2, 0)

    three = _import(_file(tmp_path, "customer,date,amount,product,category,channel\n" + row * 3, "three.csv"))
    assert (three.imported_rows, three.duplicate_rows) == (1, 2)
    assert len(_transactions()) == 3


def test_occurrences_are_counted_across_chunks(people, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    rows = "C-1,2024-05-01,9.90,,,\n" * 3 + "C-2,2024-05-02,1,,,\n" * 2
    path = _file(tmp_path, "customer,date,amount,product,category,channel\n" + rows)
    first = _import(path)
    second = _import(path)

    assert (first.imported_rows, second.imported_rows, second.duplicate_rows) == (5, 0, 5)


def test_transaction_id_makes_a_row_unique_whatever_else_changes(people, tmp_path):
    header = "customer,date,amount,transaction_id\n"
    first = _import(_file(tmp_path, header + "C-1,2024-05-01,10,T-1\nC-1,2024-05-02,10,T-2\nC-1,2024-05-02,99,T-2\n", "a.csv"))
    # The source corrected T-1's amount and customer; its id still names the same sale.
    second = _import(_file(tmp_path, header + "C-2,2024-05-01,11,T-1\nC-1,2024-05-03,10,T-3\n", "b.csv"))

    assert (first.imported_rows, first.duplicate_rows) == (2, 1)
    assert (second.imported_rows, second.duplicate_rows) == (1, 1)
    rows = _transactions()
    assert [(t.external_id, t.amount) for t in rows] == [("T-1", Decimal("10.00")), ("T-2", Decimal("10.00")), ("T-3", Decimal("10.00"))]
    assert rows[0].dedupe_key == hashlib.sha256(b"txn:T-1").hexdigest()


def test_the_report_keeps_the_first_rows_and_counts_them_all(people, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "MAX_REPORTED_ERRORS", 3)
    job = _import(_file(tmp_path, "customer,date,amount\n" + "C-1,nope,1\n" * 5))

    assert job.rejected_rows == 5
    assert [e["line"] for e in job.errors] == [2, 3, 4]


# --- customers, encodings, file-level failures --------------------------------------------------


def test_customers_are_found_by_number_phone_and_email_in_any_spelling(people, tmp_path):
    text = (
        "customer,date,amount\n"
        "C-2,2024-01-01,1\n"  # number
        "13800138000,2024-01-02,2\n"  # national phone
        "+86 138 0013 8000,2024-01-03,3\n"  # E.164 with spaces
        "BOB.LI@Mail.Test,2024-01-04,4\n"  # email, other case
        "bob.li@mail.test,2024-01-05,5\n"
        "+86 139 0000 0000,2024-01-06,6\n"  # a phone nobody has
    )
    job = _import(_file(tmp_path, text))

    assert (job.imported_rows, job.rejected_rows) == (5, 1)
    assert job.errors[0]["line"] == 7 and job.errors[0]["reason"] == "no customer with number or phone '+86 139 0000 0000'"
    by_amount = {int(t.amount): t.customer_id for t in _transactions()}
    assert by_amount == {1: people.bob.id, 2: people.ann.id, 3: people.ann.id, 4: people.bob.id, 5: people.bob.id}


def test_separate_reference_columns_are_read_by_their_kind(people, tmp_path):
    text = "customer_number,phone,email,date,amount\nC-1,,,2024-01-01,1\n,138-0013-8000,,2024-01-02,2\n,,Bob.Li@mail.test,2024-01-03,3\n,12,,2024-01-04,4\n"
    job = _import(_file(tmp_path, text))

    assert job.imported_rows == 3
    assert job.errors == [{"line": 5, "reason": "phone '12' is not a phone number", "raw": ",12,,2024-01-04,4"}]
    assert [t.customer_id for t in _transactions()] == [people.ann.id, people.ann.id, people.bob.id]


def test_a_merged_customer_resolves_to_the_survivor(people, tmp_path):
    job = _import(_file(tmp_path, "customer,date,amount\nC-3-OLD,2024-01-01,1\nC-3-OLDER,2024-01-02,2\n"))

    assert job.imported_rows == 2
    assert {t.customer_id for t in _transactions()} == {people.carl.id}


def test_gb18030_and_utf8_with_bom_and_any_header_case(people, tmp_path):
    gb = _import(
        _file(tmp_path, "客户,date,amount,product\n".replace("客户", "customer") + "C-1,2024-01-01,10,宽带套餐\n", "gb.csv", "gb18030")
    )
    bom = _import(_file(tmp_path, "\ufeffCustomer,DATE,Amount,Product Name,PRODUCT\nC-2,2024-01-02,20,x,话费\n", "bom.csv"))

    assert (gb.status, gb.imported_rows, bom.status, bom.imported_rows) == ("done", 1, "done", 1)
    assert [t.product for t in _transactions()] == ["宽带套餐", "话费"]


def test_semicolon_separated_files_are_read(people, tmp_path):
    job = _import(_file(tmp_path, "customer;date;amount\nC-1;2024-01-01;10.5\n"))
    assert (job.status, job.imported_rows) == ("done", 1)


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        (b"customer,date,product\nC-1,2024-01-01,x\n", "Missing column(s): amount. The header has: customer, date, product.", 1),
        (b"date,amount\n2024-01-01,1\n", "Missing column(s): customer (or customer_number, phone, email)", 1),
        (b"", "The file is empty.", None),
        (b"customer,date,amount\n", "The file has a header but no rows.", 1),
        (b"PK\x03\x04\x14\x00\x06\x00", "binary file", None),
        (b"customer,date,amount\nC-1,2024-01-01,\xff\xff\n", "neither UTF-8 nor GB18030", None),
    ],
)
def test_a_file_level_problem_fails_the_job_and_imports_nothing(people, tmp_path, content, message, line):
    job = _import(_file(tmp_path, content))

    assert job.status == "failed" and job.finished_at is not None
    assert message in job.errors[-1]["reason"] and job.errors[-1]["line"] == line
    assert job.imported_rows == 0 and _transactions() == []


# --- revenue ------------------------------------------------------------------------------------


def test_revenue_is_upserted_per_customer_and_month(people, tmp_path):
    header = "customer,month,arpu\n"
    first = _import(_file(tmp_path, header + "C-1,2024-01,88\nC-1,2024/02/15,90.5\nC-2,2024-01,-3\nC-2,2024-14,3\n", "r1.csv"), "revenue")
    again = _import(_file(tmp_path, header + "C-1,2024-01,88.00\nC-1,2024-02,95\n", "r2.csv"), "revenue")

    assert (first.imported_rows, first.rejected_rows) == (2, 2)
    assert [(e["line"], e["reason"]) for e in first.errors] == [
        (4, "arpu '-3' is negative"),
        (5, "month '2024-14' is not a month (YYYY-MM)"),
    ]
    assert (again.imported_rows, again.duplicate_rows) == (1, 1)  # 2024-02 changed: counted as imported (updated)
    rows = db.session.execute(
        select(MonthlyRevenue.month, MonthlyRevenue.arpu, MonthlyRevenue.import_job_id).order_by(MonthlyRevenue.month)
    )
    assert [tuple(r) for r in rows] == [(date(2024, 1, 1), Decimal("88.00"), first.id), (date(2024, 2, 1), Decimal("95.00"), again.id)]


def test_revenue_progress_tells_updates_apart(people, tmp_path):
    seen = []
    _import(_file(tmp_path, "customer,month,arpu\nC-1,2024-01,50\n", "a.csv"), "revenue")
    _import(_file(tmp_path, "customer,month,arpu\nC-1,2024-01,60\nC-1,2024-02,60\n", "b.csv"), "revenue", seen.append)

    assert (seen[-1].status, seen[-1].imported, seen[-1].updated) == ("done", 2, 1)


# --- dirty customers ----------------------------------------------------------------------------


def test_customers_with_new_records_are_marked_dirty(people, tmp_path):
    _import(_file(tmp_path, "customer,date,amount\nC-1,2024-01-01,1\nC-404,2024-01-01,1\n", "t.csv"))
    _import(_file(tmp_path, "customer,month,arpu\nC-3-OLD,2024-01,10\n", "r.csv"), "revenue")

    dirty = set(db.session.scalars(select(DirtyCustomer.customer_id)))
    assert dirty == {people.ann.id, people.carl.id}


def test_a_repeat_mark_moves_marked_at_forward(people, tmp_path):
    _import(_file(tmp_path, "customer,date,amount\nC-1,2024-01-01,1\n", "a.csv"))
    first = db.session.scalars(select(DirtyCustomer.marked_at)).one()
    _import(_file(tmp_path, "customer,date,amount\nC-1,2024-01-02,1\n", "b.csv"))
    db.session.expire_all()
    assert db.session.scalars(select(DirtyCustomer.marked_at)).one() > first


def test_a_reimport_of_duplicates_marks_nobody(people, tmp_path):
    path = _file(tmp_path, "customer,date,amount\nC-1,2024-01-01,1\n")
    _import(path)
    db.session.execute(DirtyCustomer.__table__.delete())
    _import(path)
    assert db.session.scalar(select(func.count()).select_from(DirtyCustomer)) == 0


# --- the upload API -----------------------------------------------------------------------------


def _upload(api, content: bytes, kind: str = "transactions", name: str = "sales.csv", headers=None):
    data = {"kind": kind, "file": (io.BytesIO(content), name)}
    return api.post(f"{URL}/imports", data=data, content_type="multipart/form-data", headers=headers or {})


def test_upload_answers_202_and_the_job_shows_its_report(people, login_as, app, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 4)
    api = login_as(people.admin)
    r = _upload(api, BAD_ROWS.encode())

    assert r.status_code == 202, r.json
    assert r.headers["Location"].endswith(f"{URL}/imports/{r.json['id']}")
    assert (r.json["status"], r.json["imported_rows"], r.json["rejected_rows"]) == ("done", 3, 7)  # eager in tests
    assert r.json["sha256"] == hashlib.sha256(BAD_ROWS.encode()).hexdigest()
    assert (Path(app.instance_path) / "value-imports" / f"{r.json['sha256']}.csv").read_bytes() == BAD_ROWS.encode()
    detail = api.get(r.headers["Location"]).json
    assert [e["line"] for e in detail["errors"]] == [3, 4, 5, 7, 10, 11, 13]
    listed = api.get(f"{URL}/imports?limit=1").json
    assert listed["items"][0]["id"] == r.json["id"] and "errors" not in listed["items"][0]

    events = list(db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type.like("value.import.%")).order_by(OutboxEvent.id)))
    assert [e.event_type for e in events] == ["value.import.progress"] * 3 + ["value.import.finished"]  # 10 rows in chunks of 4
    assert all(e.rooms == [f"agent:{people.admin.id}"] for e in events)
    assert [e.payload["processed"] for e in events[:3]] == [4, 8, 10]
    final = events[-1].payload
    assert (final["job_id"], final["kind"], final["status"], final["total"], final["imported"], final["rejected"]) == (
        r.json["id"],
        "transactions",
        "done",
        10,
        3,
        7,
    )


def test_uploading_the_same_file_twice_adds_nothing(people, login_as):
    api = login_as(people.admin)
    _upload(api, BAD_ROWS.encode())
    r = _upload(api, BAD_ROWS.encode(), name="again.csv")

    assert (r.json["imported_rows"], r.json["duplicate_rows"]) == (0, 3)
    assert len(_transactions()) == 3


def test_a_failed_upload_says_why(people, login_as):
    r = _upload(login_as(people.admin), b"who,when\nx,y\n")
    assert r.status_code == 202 and r.json["status"] == "failed"
    assert "Missing column(s)" in r.json["errors"][-1]["reason"]


def test_upload_validation_and_size_limit(people, login_as, app, monkeypatch):
    api = login_as(people.admin)
    assert _upload(api, b"x", kind="sales").status_code == 422
    r = api.post(f"{URL}/imports", data={"kind": "revenue"}, content_type="multipart/form-data")
    assert r.status_code == 422 and "file" in r.json["errors"]["files"]

    monkeypatch.setitem(app.config, "VALUE_IMPORT_MAX_BYTES", 1000)
    monkeypatch.setattr("service_hub.value.import_api.FORM_OVERHEAD", 0)
    big = _upload(api, b"customer,date,amount\n" + b"C-1,2024-01-01,1\n" * 200)
    assert big.status_code == 413 and big.mimetype == "application/problem+json"
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_the_streamed_size_check_holds_when_the_length_header_does_not(people, app):
    with app.app_context(), pytest.raises(Problem) as refused:
        imports.store_upload(io.BytesIO(b"x" * 2000), "a.csv", "transactions", people.admin.id, 1000)
    assert refused.value.status == 413
    assert list((Path(app.instance_path) / "value-imports").glob("*.part")) == []


def test_unknown_job_is_404(people, login_as):
    assert login_as(people.admin).get(f"{URL}/imports/999999").status_code == 404


# --- incremental records ------------------------------------------------------------------------


def test_incremental_transactions_judge_each_record_on_its_own(people, login_as):
    api = login_as(people.admin)
    records = [
        {"customer": "C-1", "date": "2024-06-01", "amount": 10.5, "transaction_id": "API-1"},
        {"customer": "C-1", "date": "June 2nd", "amount": "1"},
        {"customer": "C-1", "date": "2024-06-03", "amount": 1, "colour": "red"},
        {"customer": "C-1", "date": "2024-06-04", "amount": "7", "transaction_id": "API-1"},
        {"email": "bob.li@MAIL.test", "date": "2024-06-05", "amount": "3.00", "product": "SIM"},
        {"customer": "C-404", "date": "2024-06-05", "amount": "3"},
        {"customer": ["C-1"], "date": "2024-06-05", "amount": "3"},
    ]
    r = api.post(f"{URL}/transactions", json={"records": records})

    assert r.status_code == 200, r.json
    assert [(x["index"], x["status"]) for x in r.json["results"]] == [
        (0, "created"),
        (1, "rejected"),
        (2, "rejected"),
        (3, "duplicate"),
        (4, "created"),
        (5, "rejected"),
        (6, "rejected"),
    ]
    reasons = {x["index"]: x["reason"] for x in r.json["results"] if "reason" in x}
    assert "not a date" in reasons[1] and reasons[2] == "unknown field(s): colour" and "C-404" in reasons[5]
    assert "customer must be a string or a number" in reasons[6]
    assert (r.json["created"], r.json["duplicates"], r.json["rejected"]) == (2, 1, 4)
    assert sorted((t.customer_id, t.amount) for t in _transactions()) == sorted(
        [(people.ann.id, Decimal("10.50")), (people.bob.id, Decimal("3.00"))]
    )

    retry = api.post(f"{URL}/transactions", json={"records": records[:1] + records[4:5]})
    assert [x["status"] for x in retry.json["results"]] == ["duplicate", "duplicate"]


def test_incremental_revenue_creates_updates_and_skips(people, login_as):
    api = login_as(people.admin)
    api.post(f"{URL}/revenue", json={"records": [{"customer": "C-1", "month": "2024-01", "arpu": 50}]})
    r = api.post(
        f"{URL}/revenue",
        json={"records": [{"customer": "C-1", "month": "2024-01", "arpu": "50.00"}, {"customer": "C-1", "month": "2024-01", "arpu": 70}]},
    )
    assert [x["status"] for x in r.json["results"]] == ["duplicate", "updated"]
    assert db.session.scalars(select(MonthlyRevenue.arpu)).one() == Decimal("70.00")


def test_records_body_is_checked_as_a_whole(people, login_as):
    api = login_as(people.admin)
    assert api.post(f"{URL}/transactions", json={"records": [], "extra": 1}).status_code == 422
    assert api.post(f"{URL}/transactions", json={"records": [{}] * 1001}).status_code == 422


# --- permissions --------------------------------------------------------------------------------


def test_only_admins_and_their_scoped_tokens_may_import(people, login_as, client):
    agent_api = login_as(people.agent)
    assert _upload(agent_api, b"customer,date,amount\nC-1,2024-01-01,1\n").status_code == 403
    assert agent_api.get(f"{URL}/imports").status_code == 403
    assert agent_api.post(f"{URL}/transactions", json={"records": [{"customer": "C-1"}]}).status_code == 403

    record = {"records": [{"customer": "C-1", "date": "2024-01-01", "amount": 1}]}
    _, read_only = create_token(people.admin, "bi", ["value:read"], None)
    assert client.get(f"{URL}/imports", headers=_bearer(read_only)).status_code == 200
    refused = client.post(f"{URL}/transactions", json=record, headers=_bearer(read_only))
    assert refused.status_code == 403 and "value:write" in refused.json["detail"]
    _, unscoped = create_token(people.admin, "crm", ["customers:read"], None)
    assert client.get(f"{URL}/imports", headers=_bearer(unscoped)).status_code == 403
    _, agents_token = create_token(people.agent, "own", ["value:write", "value:read"], None)
    assert client.post(f"{URL}/transactions", json=record, headers=_bearer(agents_token)).status_code == 403

    _, writer = create_token(people.admin, "erp", ["value:write"], None)
    assert client.post(f"{URL}/transactions", json=record, headers=_bearer(writer)).status_code == 200
    r = _upload(client, b"customer,date,amount\nC-1,2024-01-02,1\n", headers=_bearer(writer))
    assert r.status_code == 202 and r.json["imported_rows"] == 1
    assert len(_transactions()) == 2


def test_strangers_get_401(app, client):
    for method, path in (("GET", "/imports"), ("POST", "/imports"), ("GET", "/imports/1"), ("POST", "/transactions"), ("POST", "/revenue")):
        assert client.open(f"{URL}{path}", method=method).status_code == 401, path


# --- the CLI ------------------------------------------------------------------------------------


def test_cli_imports_with_a_summary_and_the_bad_lines(people, app, tmp_path):
    path = _file(tmp_path, BAD_ROWS)
    result = app.test_cli_runner().invoke(args=["value", "import", str(path), "--kind", "transactions", "--show", "2"])

    assert result.exit_code == 0, result.output
    assert "done: 10 rows, 3 imported, 0 duplicate, 7 rejected." in result.output
    assert "line 3: no customer with number or phone 'C-404'" in result.output
    assert "line 4:" in result.output and "line 5:" not in result.output and "and 5 more" in result.output
    assert len(_transactions()) == 3

    again = app.test_cli_runner().invoke(args=["value", "import", str(path), "--kind", "transactions"])
    assert "0 imported, 3 duplicate" in again.output and len(_transactions()) == 3


def test_cli_exits_1_when_the_file_cannot_be_imported(people, app, tmp_path):
    path = _file(tmp_path, "customer,month\nC-1,2024-01\n")
    result = app.test_cli_runner().invoke(args=["value", "import", str(path), "--kind", "revenue"])

    assert result.exit_code == 1
    assert "Missing column(s): arpu" in result.output
    assert db.session.scalars(select(ImportJob.status)).one() == "failed"
