"""Business calendars from their rows, built once per process and rebuilt when a row changes."""

from __future__ import annotations

import threading
from datetime import datetime, time

from sqlalchemy import select

from service_hub.casework.models import BusinessCalendarRow
from service_hub.core.extensions import db
from workflows.business_time import BusinessCalendar, china_days

ALWAYS_OPEN = "24x7"
_cache: dict[str, tuple[datetime, BusinessCalendar]] = {}
_lock = threading.Lock()


def _hours(raw: dict[str, list[list[str]]]) -> dict[int, list[tuple[time, time]]]:
    return {int(day): [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in spans] for day, spans in raw.items()}


def build_calendar(row: BusinessCalendarRow, years: range) -> BusinessCalendar:
    closures = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in row.closures]
    if not row.hours:
        return BusinessCalendar.always_open(row.timezone, closures=closures)
    days = china_days(years) if row.china_holidays else None
    return BusinessCalendar(
        row.timezone,
        _hours(row.hours),
        holidays=days.closed if days else (),
        extra_working_days=days.working if days else (),
        closures=closures,
    )


def calendar_for(key: str, now: datetime) -> BusinessCalendar:
    """The calendar of that key (24x7 in Asia/Shanghai when no such row exists)."""
    row = db.session.scalars(select(BusinessCalendarRow).where(BusinessCalendarRow.key == key)).first()
    if row is None:
        return BusinessCalendar.always_open("Asia/Shanghai")
    cached = _cache.get(key)
    if cached is not None and cached[0] == row.updated_at:
        return cached[1]
    calendar = build_calendar(row, range(now.year - 1, now.year + 3))
    with _lock:
        _cache[key] = (row.updated_at, calendar)
    return calendar
