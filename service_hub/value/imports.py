"""Import transactions and monthly ARPU from CSV files and API records: idempotent, in chunks.

Columns (header names are case-insensitive, spaces and hyphens read as underscores, other
columns are ignored):
  transactions  customer | customer_number | phone | email (one is enough), date, amount,
                and optionally product, category, channel, transaction_id
  revenue       customer | customer_number | phone | email, month, arpu
`customer` is an email when it holds an @, else a customer number, else a phone. Phones without
a country code are read as the operator's region (identities.DEFAULT_REGION); a reference to a
merged customer lands on the survivor. Dates are YYYY-MM-DD or YYYY/MM/DD (a time after the date
is ignored); a month is YYYY-MM, YYYY/MM or any date in it. Money is a plain decimal with at most
two places: a negative amount is a refund (the scorer counts amount > 0 as a purchase and nets
refunds into monetary); ARPU is never negative.

Idempotence: a transaction's dedupe_key is sha256("txn:" + transaction_id) when the source gives
one, else sha256 of the resolved customer, date, amount, product, category and channel plus the
row's occurrence among identical rows of the same file (or request), so two identical purchases in
one file both count and importing the file again adds nothing. Revenue is unique per customer and
month: the same ARPU again is a duplicate, a different one replaces the stored one ("updated").
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from service_hub.core.errors import Problem, ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.outbox import record_event
from service_hub.core.types import utcnow
from service_hub.customers.identities import normalise_identity
from service_hub.customers.models import ContactIdentity, Customer, IdentityKind
from service_hub.value.import_csv import CsvRow, ImportFileError, open_csv
from service_hub.value.models import DirtyCustomer, ImportJob, MonthlyRevenue, Transaction

log = logging.getLogger(__name__)

KINDS = ("transactions", "revenue")
CHUNK_ROWS = 2000
MAX_REPORTED_ERRORS = 1000  # job.errors keeps this many; rejected_rows has the true count
MAX_RECORDS = 1000  # per API request
FINISHED = ("done", "failed")

CUSTOMER_COLUMNS = ("customer", "customer_number", "phone", "email")
REQUIRED = {"transactions": ("date", "amount"), "revenue": ("month", "arpu")}
OPTIONAL = {"transactions": ("product", "category", "channel", "transaction_id"), "revenue": ()}
TEXT_LIMITS = {"product": 120, "category": 64, "channel": 32, "transaction_id": 120, "customer_number": 64}

CENT = Decimal("0.01")
AMOUNT_LIMIT = Decimal(10) ** 12  # Numeric(14, 2)
ARPU_LIMIT = Decimal(10) ** 10  # Numeric(12, 2)
EARLIEST = date(1900, 1, 1)
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T].*)?$")
_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")
_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")


class RowError(ValueError):
    """One row or record cannot be imported; the message is the reason shown in the report."""


# --- one row ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerRef:
    kind: str  # number, phone, email, or any (the `customer` column: a number, else a phone)
    value: str  # as written for number and any; E.164 for phone; normalised for email

    def describe(self) -> str:
        what = {"number": "number", "phone": "phone", "email": "email", "any": "number or phone"}[self.kind]
        return f"no customer with {what} {self.value!r}"


@dataclass
class TransactionRow:
    position: int  # line in the file, or index in the request
    raw: str
    ref: CustomerRef
    occurred_on: date
    amount: Decimal
    product: str | None
    category: str | None
    channel: str | None
    external_id: str | None


@dataclass
class RevenueRow:
    position: int
    raw: str
    ref: CustomerRef
    month: date
    arpu: Decimal


@dataclass
class Outcome:
    position: int
    status: str  # created, updated (revenue), duplicate, rejected
    reason: str | None = None
    raw: str = ""


def _text(values: Mapping[str, str], column: str) -> str | None:
    text = (values.get(column) or "").strip()
    if len(text) > TEXT_LIMITS.get(column, 320):
        raise RowError(f"{column} is longer than {TEXT_LIMITS.get(column, 320)} characters")
    return text or None


def _required(values: Mapping[str, str], column: str) -> str:
    text = (values.get(column) or "").strip()
    if not text:
        raise RowError(f"{column} is empty")
    return text


def parse_date(text: str, column: str = "date") -> date:
    match = _DATE.match(text)
    if match is None:
        raise RowError(f"{column} {text!r} is not a date (YYYY-MM-DD)")
    try:
        value = date(*map(int, match.groups()))
    except ValueError:
        raise RowError(f"{column} {text!r} is not a calendar date") from None
    # A day of slack: the source may be a time zone ahead of the server.
    if not EARLIEST <= value <= date.today() + timedelta(days=1):
        raise RowError(f"{column} {text!r} is in the future or before 1900")
    return value


def parse_month(text: str) -> date:
    match = _MONTH.match(text)
    if match is None:
        return parse_date(text, "month").replace(day=1)
    year, month = map(int, match.groups())
    if not 1 <= month <= 12:
        raise RowError(f"month {text!r} is not a month (YYYY-MM)")
    return parse_date(f"{year:04d}-{month:02d}-01", "month")


def parse_money(text: str, column: str, limit: Decimal, negative: bool) -> Decimal:
    if not _DECIMAL.match(text):
        raise RowError(f"{column} {text!r} is not a number (digits and a dot, e.g. 12.50)")
    value = Decimal(text)
    if value != value.quantize(CENT):
        raise RowError(f"{column} {text!r} has more than 2 decimal places")
    if value < 0 and not negative:
        raise RowError(f"{column} {text!r} is negative")
    if abs(value) >= limit:
        raise RowError(f"{column} {text!r} is too large")
    return value.quantize(CENT)


def _phone(text: str) -> str | None:
    try:
        return normalise_identity(IdentityKind.PHONE, text)
    except Problem:
        return None


def parse_ref(values: Mapping[str, str]) -> CustomerRef:
    for column in CUSTOMER_COLUMNS:
        text = _text(values, column)
        if text:
            break
    else:
        raise RowError("no customer reference (customer, customer_number, phone or email)")
    if column == "customer_number":
        return CustomerRef("number", text)
    if column == "phone":
        phone = _phone(text)
        if phone is None:
            raise RowError(f"phone {text!r} is not a phone number")
        return CustomerRef("phone", phone)
    if column == "email" or "@" in text:
        try:
            return CustomerRef("email", normalise_identity(IdentityKind.EMAIL, text))
        except Problem:
            raise RowError(f"{column} {text!r} is not an email address") from None
    return CustomerRef("any", text)  # read as a phone only if no customer has this number


def parse_transaction(values: Mapping[str, str], position: int, raw: str) -> TransactionRow:
    return TransactionRow(
        position=position,
        raw=raw,
        ref=parse_ref(values),
        occurred_on=parse_date(_required(values, "date")),
        amount=parse_money(_required(values, "amount"), "amount", AMOUNT_LIMIT, negative=True),
        product=_text(values, "product"),
        category=_text(values, "category"),
        channel=_text(values, "channel"),
        external_id=_text(values, "transaction_id"),
    )


def parse_revenue(values: Mapping[str, str], position: int, raw: str) -> RevenueRow:
    return RevenueRow(
        position=position,
        raw=raw,
        ref=parse_ref(values),
        month=parse_month(_required(values, "month")),
        arpu=parse_money(_required(values, "arpu"), "arpu", ARPU_LIMIT, negative=False),
    )


PARSERS: dict[str, Callable[[Mapping[str, str], int, str], TransactionRow | RevenueRow]] = {
    "transactions": parse_transaction,
    "revenue": parse_revenue,
}


# --- customers ----------------------------------------------------------------------------------


def resolve_customers(refs: Collection[CustomerRef]) -> dict[CustomerRef, int]:
    """The surviving customer's id for each reference that names one: one query per kind."""
    merged: dict[int, int | None] = {}
    numbers = {r.value for r in refs if r.kind in ("number", "any")}
    by_number: dict[str, int] = {}
    if numbers:
        query = select(Customer.id, Customer.customer_number, Customer.merged_into_id).where(Customer.customer_number.in_(numbers))
        for customer_id, number, merged_into in db.session.execute(query):
            by_number[str(number)] = customer_id
            merged[customer_id] = merged_into
    # Parsing a phone costs more than the rest of a row: only for references no number matched.
    as_phone = {r: _phone(r.value) for r in refs if r.kind == "any" and r.value not in by_number}
    phones = {r.value for r in refs if r.kind == "phone"} | {p for p in as_phone.values() if p}
    by_phone = _by_identity(IdentityKind.PHONE, phones, merged)
    by_email = _by_identity(IdentityKind.EMAIL, {r.value for r in refs if r.kind == "email"}, merged)
    found: dict[CustomerRef, int] = {}
    for ref in refs:
        match: int | None
        if ref.kind == "any":
            phone = as_phone.get(ref)
            match = by_number.get(ref.value) or (by_phone.get(phone) if phone else None)
        else:
            match = {"number": by_number, "phone": by_phone, "email": by_email}[ref.kind].get(ref.value)
        if match is not None:
            found[ref] = match
    survivors = _survivors({c: into for c, into in merged.items() if into is not None})
    return {ref: survivors.get(customer_id, customer_id) for ref, customer_id in found.items()}


def _by_identity(kind: IdentityKind, values: set[str], merged: dict[int, int | None]) -> dict[str, int]:
    if not values:
        return {}
    query = (
        select(ContactIdentity.value, ContactIdentity.customer_id, Customer.merged_into_id)
        .join(Customer, Customer.id == ContactIdentity.customer_id)
        .where(ContactIdentity.kind == kind, ContactIdentity.value.in_(values))
    )
    found = {}
    for value, customer_id, merged_into in db.session.execute(query):
        found[value] = customer_id
        merged[customer_id] = merged_into
    return found


def _survivors(targets: dict[int, int]) -> dict[int, int]:
    """Follow merged_into_id to the end of each chain (a merged survivor merged again)."""
    if not targets:
        return targets
    for _ in range(10):  # chains are short; the bound stops a corrupt cycle
        query = select(Customer.id, Customer.merged_into_id).where(
            Customer.id.in_(set(targets.values())), Customer.merged_into_id.is_not(None)
        )
        hops = {customer_id: into for customer_id, into in db.session.execute(query) if into is not None}
        if not hops:
            break
        targets = {c: hops.get(t, t) for c, t in targets.items()}
    return targets


# --- writing ------------------------------------------------------------------------------------


def _insert(model: type[db.Model]) -> Any:  # type: ignore[name-defined]
    """The dialect's INSERT (it has ON CONFLICT) on the model's table. Executed with a list of
    parameter sets it compiles once and sends batches (insertmanyvalues); a multi-row VALUES
    built in Python costs more to compile than the database takes to write it."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model.__table__)


def mark_dirty(customer_ids: Iterable[int]) -> None:
    """Queue customers for the next incremental run. marked_at moves forward on a repeat mark:
    the scorer keeps a customer dirty when its mark changed while the run was computing."""
    now = utcnow()
    rows = [{"customer_id": c, "marked_at": now} for c in sorted(set(customer_ids))]
    if rows:
        stmt = _insert(DirtyCustomer)
        db.session.execute(stmt.on_conflict_do_update(index_elements=["customer_id"], set_={"marked_at": stmt.excluded.marked_at}), rows)


def _rejected_unresolved(rows: list[Any], resolved: dict[CustomerRef, int]) -> list[Outcome]:
    return [Outcome(r.position, "rejected", r.ref.describe(), r.raw) for r in rows if r.ref not in resolved]


def write_transactions(rows: list[TransactionRow], job_id: int | None, occurrences: Counter[bytes]) -> list[Outcome]:
    """Insert what is new; `occurrences` counts identical rows across the whole file or request."""
    resolved = resolve_customers({r.ref for r in rows})
    outcomes = _rejected_unresolved(rows, resolved)
    now = utcnow()
    keyed: list[tuple[TransactionRow, str]] = []
    pending: dict[str, dict[str, Any]] = {}
    for row in rows:
        customer_id = resolved.get(row.ref)
        if customer_id is None:
            continue
        if row.external_id:
            key = hashlib.sha256(f"txn:{row.external_id}".encode()).hexdigest()
        else:
            fields = (customer_id, row.occurred_on.isoformat(), row.amount, row.product, row.category, row.channel)
            base = hashlib.sha256("\x1f".join("" if f is None else str(f) for f in fields).encode()).digest()
            occurrences[base] += 1
            key = hashlib.sha256(b"row:" + base + str(occurrences[base]).encode()).hexdigest()
        keyed.append((row, key))
        pending.setdefault(
            key,
            {
                "customer_id": customer_id,
                "dedupe_key": key,
                "external_id": row.external_id,
                "occurred_on": row.occurred_on,
                "amount": row.amount,
                "product": row.product,
                "category": row.category,
                "channel": row.channel,
                "import_job_id": job_id,
                "created_at": now,
            },
        )
    inserted: dict[str, int] = {}
    if pending:
        stmt = _insert(Transaction).on_conflict_do_nothing(index_elements=["dedupe_key"])
        returned = db.session.execute(stmt.returning(stmt.table.c.dedupe_key, stmt.table.c.customer_id), list(pending.values()))
        inserted = {key: customer for key, customer in returned}
        mark_dirty(inserted.values())
    seen: set[str] = set()
    for row, key in keyed:
        outcomes.append(Outcome(row.position, "created" if key in inserted and key not in seen else "duplicate"))
        seen.add(key)
    return outcomes


def write_revenue(rows: list[RevenueRow], job_id: int | None) -> list[Outcome]:
    """Upsert ARPU per (customer, month); a later row for the same month in one file wins."""
    resolved = resolve_customers({r.ref for r in rows})
    outcomes = _rejected_unresolved(rows, resolved)
    good = [(row, resolved[row.ref]) for row in rows if row.ref in resolved]
    stored: dict[tuple[int, date], tuple[int, Decimal]] = {}
    if good:
        query = select(MonthlyRevenue.id, MonthlyRevenue.customer_id, MonthlyRevenue.month, MonthlyRevenue.arpu).where(
            MonthlyRevenue.customer_id.in_({c for _, c in good}), MonthlyRevenue.month.in_({r.month for r, _ in good})
        )
        stored = {(c, m): (i, Decimal(a).quantize(CENT)) for i, c, m, a in db.session.execute(query)}
    current = {key: arpu for key, (_, arpu) in stored.items()}
    changed: dict[tuple[int, date], Decimal] = {}
    for row, customer_id in good:
        key = (customer_id, row.month)
        before = current.get(key)
        status = "created" if before is None else "duplicate" if before == row.arpu else "updated"
        outcomes.append(Outcome(row.position, status))
        if status != "duplicate":
            current[key] = changed[key] = row.arpu
    now = utcnow()
    inserts = [
        {"customer_id": c, "month": m, "arpu": arpu, "import_job_id": job_id, "created_at": now}
        for (c, m), arpu in changed.items()
        if (c, m) not in stored
    ]
    updates = [
        {"id": stored[key][0], "arpu": arpu, "import_job_id": job_id}
        for key, arpu in changed.items()
        if key in stored and stored[key][1] != arpu
    ]
    if inserts:
        stmt = _insert(MonthlyRevenue)
        # A concurrent import of the same month may have got there first: the later value wins.
        excluded = {"arpu": stmt.excluded.arpu, "import_job_id": stmt.excluded.import_job_id}
        db.session.execute(stmt.on_conflict_do_update(index_elements=["customer_id", "month"], set_=excluded), inserts)
    if updates:
        db.session.execute(update(MonthlyRevenue), updates)
    mark_dirty(c for c, _ in changed)
    return outcomes


def write_chunk(
    kind: str, items: list[TransactionRow | RevenueRow | Outcome], job_id: int | None, occurrences: Counter[bytes]
) -> list[Outcome]:
    """Write the parsed rows of one chunk; outcomes of all items, in their order."""
    rejected = [i for i in items if isinstance(i, Outcome)]
    parsed = [i for i in items if not isinstance(i, Outcome)]
    transactions = kind == "transactions"
    written = write_transactions(parsed, job_id, occurrences) if transactions else write_revenue(parsed, job_id)  # type: ignore[arg-type]
    return sorted(rejected + written, key=lambda o: o.position)


def _parse(kind: str, values: Mapping[str, str], position: int, raw: str) -> TransactionRow | RevenueRow | Outcome:
    try:
        return PARSERS[kind](values, position, raw)
    except RowError as exc:
        return Outcome(position, "rejected", str(exc), raw)


def _from_csv(kind: str, row: CsvRow) -> TransactionRow | RevenueRow | Outcome:
    if row.problem:
        return Outcome(row.line, "rejected", row.problem, row.raw)
    return _parse(kind, row.values, row.line, row.raw)


# --- jobs ---------------------------------------------------------------------------------------


@dataclass
class ImportProgress:
    job_id: int
    kind: str
    processed: int = 0
    total: int = 0
    imported: int = 0  # created, and for revenue also updated (ImportJob.imported_rows)
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    status: str = "running"

    def payload(self) -> dict[str, Any]:
        return asdict(self)


# Called inside each chunk's transaction just before it commits, so an event the callback
# records commits with the rows; once more when the job is done or failed.
ProgressCallback = Callable[[ImportProgress], None]


class OutboxProgress:
    """Progress as outbox events to the uploader's room: one per chunk and one at the end."""

    def __init__(self, agent_id: int) -> None:
        self.rooms = [f"agent:{agent_id}"]

    def __call__(self, progress: ImportProgress) -> None:
        event = "value.import.finished" if progress.status in FINISHED else "value.import.progress"
        record_event(event, progress.payload(), self.rooms)


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _sync(job: ImportJob, progress: ImportProgress) -> None:
    job.total_rows = progress.total
    job.imported_rows = progress.imported
    job.updated_rows = progress.updated
    job.duplicate_rows = progress.duplicates
    job.rejected_rows = progress.rejected


def _tally(progress: ImportProgress, outcomes: list[Outcome]) -> None:
    counts = Counter(o.status for o in outcomes)
    progress.processed += len(outcomes)
    progress.imported += counts["created"] + counts["updated"]
    progress.updated += counts["updated"]
    progress.duplicates += counts["duplicate"]
    progress.rejected += counts["rejected"]


def finish_failed(job: ImportJob, reason: str, line: int | None = None, on_progress: ProgressCallback | None = None) -> None:
    """Mark the job failed, its reason last in the report; counts keep what finished chunks did."""
    job.status = "failed"
    job.finished_at = utcnow()
    job.errors = [*(job.errors or [])[: MAX_REPORTED_ERRORS - 1], {"line": line, "reason": reason, "raw": ""}]
    if on_progress is not None:
        counts = {"imported": job.imported_rows, "duplicates": job.duplicate_rows, "rejected": job.rejected_rows}
        on_progress(ImportProgress(job.id, job.kind, total=job.total_rows, status="failed", **counts))
    db.session.commit()


def run_import(job: ImportJob, path: Path, on_progress: ProgressCallback | None = None) -> ImportProgress:
    """Import the file into the job's kind, one committed chunk at a time: a crash keeps the
    finished chunks, and running the same file again only adds what is missing."""
    notify = on_progress or (lambda _: None)
    progress = ImportProgress(job.id, job.kind)
    job.status, job.errors, job.finished_at = "running", [], None
    _sync(job, progress)
    db.session.commit()
    try:
        source = open_csv(path, REQUIRED[job.kind], CUSTOMER_COLUMNS)
    except ImportFileError as exc:
        finish_failed(job, str(exc), exc.line, on_progress)
        progress.status = "failed"
        return progress
    progress.total = source.total
    occurrences: Counter[bytes] = Counter()
    errors: list[dict[str, Any]] = []
    for chunk in _chunks((_from_csv(job.kind, row) for row in source.rows()), CHUNK_ROWS):
        outcomes = write_chunk(job.kind, chunk, job.id, occurrences)
        _tally(progress, outcomes)
        room = MAX_REPORTED_ERRORS - len(errors)
        errors += [{"line": o.position, "reason": o.reason, "raw": o.raw} for o in outcomes if o.status == "rejected"][:room]
        _sync(job, progress)
        job.errors = list(errors)  # a new list: JSON columns do not notice in-place changes
        notify(progress)
        db.session.commit()
    progress.status = job.status = "done"
    job.finished_at = utcnow()
    notify(progress)
    db.session.commit()
    return progress


def import_records(kind: str, records: list[dict[str, Any]]) -> list[Outcome]:
    """Incremental records from the API, in one transaction: a refused record never blocks the rest."""
    items: list[TransactionRow | RevenueRow | Outcome] = []
    known = set(CUSTOMER_COLUMNS) | set(REQUIRED[kind]) | set(OPTIONAL[kind])
    for index, record in enumerate(records):
        unknown = sorted(set(record) - known)
        odd = sorted(k for k, v in record.items() if v is not None and (isinstance(v, bool) or not isinstance(v, str | int | float)))
        if unknown:
            items.append(Outcome(index, "rejected", f"unknown field(s): {', '.join(unknown)}"))
        elif odd:
            items.append(Outcome(index, "rejected", f"{', '.join(odd)} must be a string or a number"))
        else:
            values = {k: "" if v is None else str(v) for k, v in record.items()}
            items.append(_parse(kind, values, index, ""))
    outcomes = write_chunk(kind, items, None, Counter())
    db.session.commit()
    return outcomes


# --- uploads ------------------------------------------------------------------------------------


def upload_path(sha256: str) -> Path:
    """Where an uploaded file is kept: the instance folder, never served; named by its content."""
    return Path(current_app.instance_path) / "value-imports" / f"{sha256}.csv"


def _display_name(filename: str | None) -> str:
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:255] or "upload.csv"


def store_upload(stream: IO[bytes], filename: str | None, kind: str, agent_id: int | None, max_bytes: int) -> ImportJob:
    """Keep the file (streamed, hashed, size-checked), then create its queued job and commit."""
    if kind not in KINDS:
        raise ValidationProblem(f"kind is one of {', '.join(KINDS)}.", errors={"form": {"kind": ["Unknown kind."]}})
    directory = upload_path("x").parent
    directory.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, temporary = tempfile.mkstemp(dir=directory, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            while block := stream.read(1 << 16):
                size += len(block)
                if size > max_bytes:
                    raise Problem(
                        f"An import file may be at most {max_bytes // (1024 * 1024)} MB.",
                        status=413,
                        code="content-too-large",
                        title="Content too large",
                    )
                digest.update(block)
                out.write(block)
        os.replace(temporary, upload_path(digest.hexdigest()))
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    job = ImportJob(kind=kind, filename=_display_name(filename), sha256=digest.hexdigest(), status="queued", created_by_id=agent_id)
    job.errors = []
    db.session.add(job)
    db.session.commit()
    return job


def run_uploaded_job(job_id: int) -> str | None:
    """The task's work: import a stored upload, with progress events to the uploader. A job
    already finished (a redelivered task) is left alone; one interrupted mid-way runs again."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status in FINISHED:
        return None if job is None else job.status
    sink = OutboxProgress(job.created_by_id) if job.created_by_id is not None else None
    try:
        return run_import(job, upload_path(job.sha256), sink).status
    except Exception:
        log.exception("value import %s stopped", job_id)
        db.session.rollback()
        job = db.session.get(ImportJob, job_id)
        if job is None:
            return None
        reason = "The import stopped on an internal error. Rows of finished chunks are kept; importing the file again is safe."
        finish_failed(job, reason, None, sink)
        return job.status
