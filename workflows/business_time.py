"""Business calendars (hours, holidays, adjusted working days, closures) and business-time arithmetic."""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

Interval = tuple[time, time]
"""Local wall-clock opening (start, end); an end of time(0) means midnight at the end of the day."""
WeeklyHours = Mapping[int, Sequence[Interval]]
"""Weekday (Monday 0 .. Sunday 6) -> that day's opening intervals."""
Closure = tuple[datetime, datetime]
"""An aware [start, end) range during which the desk is closed (a typhoon, an outage)."""

MON_FRI = (0, 1, 2, 3, 4)
ALL_WEEK = (0, 1, 2, 3, 4, 5, 6)
MIDNIGHT = time(0)
# add() and next_open() give up (ValueError) rather than search a calendar without working time forever.
HORIZON_YEARS = 50
_ONE_DAY = timedelta(days=1)


def weekly_hours(*intervals: Interval, weekdays: Iterable[int] = MON_FRI) -> dict[int, tuple[Interval, ...]]:
    """The same opening intervals on each of `weekdays`: weekly_hours((time(9), time(18)))."""
    return {weekday: tuple(intervals) for weekday in weekdays}


class DayOverrides(NamedTuple):
    """Dates that break the weekly pattern: closed (public holidays) and working (adjusted working days)."""

    closed: frozenset[date]
    working: frozenset[date]


@dataclass(frozen=True, slots=True)
class _Table:
    """Working intervals of the local years first..last in UTC epoch seconds, with running totals.

    cum[k] is the business time before interval k (cum[n] the total), cum_end[k] == cum[k + 1].
    The arrays are never mutated: an extension builds a new table, so readers need no lock.
    """

    first_year: int
    last_year: int
    lo: float
    hi: float
    starts: list[float]
    ends: list[float]
    cum: list[float]
    cum_end: list[float]


_EMPTY = _Table(0, -1, float("inf"), float("-inf"), [], [], [0.0], [])


class BusinessCalendar:
    """Working hours in a time zone minus holidays and closures, plus adjusted working days.

    Hours are local wall-clock times, so 09:00-18:00 stays nine hours on a daylight-saving change
    day. A wall time the change skips is read with the offset before it (02:30 on a spring-forward
    night at 02:00 is 03:30), a repeated one as its first occurrence (zoneinfo's fold=0).
    Internally each local year is expanded, on first use, into a sorted array of UTC intervals with
    cumulative business seconds; add() and between() are then two bisections each. Results are
    aware datetimes in UTC.
    """

    def __init__(
        self,
        timezone: str,
        hours: WeeklyHours,
        *,
        holidays: Collection[date] = (),
        extra_working_days: Collection[date] = (),
        extra_day_hours: Sequence[Interval] | None = None,
        closures: Iterable[Closure] = (),
    ) -> None:
        self.timezone = timezone
        self.zone = ZoneInfo(timezone)
        self._hours = {weekday: _checked_day(weekday, intervals) for weekday, intervals in hours.items()}
        if any(not 0 <= weekday <= 6 for weekday in self._hours):
            raise ValueError("weekdays run from 0 (Monday) to 6 (Sunday)")
        self.holidays = frozenset(holidays)
        self.extra_working_days = frozenset(extra_working_days)
        if both := self.holidays & self.extra_working_days:
            raise ValueError(f"dates both closed and working: {sorted(both)}")
        # China's adjusted working days follow Monday's hours unless said otherwise.
        self._extra_hours = _checked_day(-1, extra_day_hours) if extra_day_hours is not None else self._hours.get(0, ())
        self.closures = tuple(_checked_closure(closure) for closure in closures)
        self._closed_spans = _merge(sorted((a.timestamp(), b.timestamp()) for a, b in self.closures))
        self._years: dict[int, list[tuple[float, float]]] = {}
        self._table = _EMPTY
        self._lock = threading.Lock()

    @classmethod
    def always_open(cls, timezone: str = "UTC", *, holidays: Collection[date] = (), closures: Iterable[Closure] = ()) -> BusinessCalendar:
        """A 24x7 calendar (holidays and closures still apply if given)."""
        return cls(timezone, weekly_hours((MIDNIGHT, MIDNIGHT), weekdays=ALL_WEEK), holidays=holidays, closures=closures)

    @property
    def standard_day_seconds(self) -> float:
        """The length of a usual working day (the most common weekday length, the longer on a tie).

        It turns "13 business days" into the seconds a clock counts: 13 standard days from 10:00
        on a working day fall due at 10:00 on the 13th working day after it.
        """
        lengths = [_day_length(intervals) for intervals in self._hours.values() if intervals]
        return max(lengths, key=lambda length: (lengths.count(length), length), default=0.0)

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.timezone!r}, {len(self.holidays)} holidays, {len(self.extra_working_days)} extra working days)"

    # -- the arithmetic, on aware datetimes ---------------------------------------------------

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant (UTC) when `seconds` of business time have passed since `start`.

        Counting starts at the next opening if `start` is outside hours; add(t, 0) is t when open.
        """
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        return datetime.fromtimestamp(self.add_epoch(start.timestamp(), seconds), UTC)

    def between(self, a: datetime, b: datetime) -> float:
        """Business seconds in [a, b); 0 when b <= a."""
        if a.tzinfo is None or b.tzinfo is None:
            raise ValueError("a and b must be aware datetimes")
        return self.between_epoch(a.timestamp(), b.timestamp())

    def is_open(self, t: datetime) -> bool:
        if t.tzinfo is None:
            raise ValueError("t must be an aware datetime")
        ts = t.timestamp()
        table = self._covering(ts, ts)
        i = bisect_right(table.starts, ts) - 1
        return i >= 0 and ts < table.ends[i]

    def next_open(self, t: datetime) -> datetime:
        """`t` itself when open, else the next opening (UTC)."""
        return self.add(t, 0.0)

    # -- the same on UTC epoch seconds (the hot path for bulk recomputation) --------------------

    def add_epoch(self, ts: float, seconds: float) -> float:
        if seconds < 0 or seconds != seconds:  # the second test catches NaN
            raise ValueError(f"seconds must be a non-negative number, not {seconds}")
        table = self._table
        if not table.lo <= ts < table.hi:
            table = self._covering(ts, ts)
        starts = table.starts
        i = bisect_right(starts, ts) - 1
        inside = i >= 0 and ts < table.ends[i]
        if seconds == 0:
            if inside:
                return ts
            if i + 1 < len(starts):
                return starts[i + 1]
            self._extend_forward(table, ts)
            return self.add_epoch(ts, seconds)
        cum = table.cum
        target = (cum[i] + (ts - starts[i]) if inside else cum[i + 1]) + seconds
        cum_end = table.cum_end
        # lo= keeps the answer at or after the start when a tiny duration is absorbed by the float sum.
        j = bisect_left(cum_end, target, i if inside else i + 1)
        if j < len(cum_end):
            due = table.ends[j] - (cum_end[j] - target)
            return due if due > ts else ts
        self._extend_forward(table, ts)
        return self.add_epoch(ts, seconds)

    def between_epoch(self, a: float, b: float) -> float:
        if b <= a:
            return 0.0
        table = self._table
        if not (table.lo <= a and b < table.hi):
            table = self._covering(a, b)
        starts, ends, cum = table.starts, table.ends, table.cum
        i = bisect_right(starts, a) - 1
        pos_a = cum[i] + (a - starts[i]) if i >= 0 and a < ends[i] else cum[i + 1]
        k = bisect_right(starts, b) - 1
        pos_b = cum[k] + (b - starts[k]) if k >= 0 and b < ends[k] else cum[k + 1]
        return pos_b - pos_a

    # -- building the tables ------------------------------------------------------------------

    def day_hours(self, day: date) -> Sequence[Interval]:
        """The local opening intervals of one date (empty when closed all day)."""
        if day in self.holidays:
            return ()
        if day in self.extra_working_days:
            return self._extra_hours
        return self._hours.get(day.weekday(), ())

    def _covering(self, a: float, b: float) -> _Table:
        """A table whose years include the instants a <= b, extending the current one if needed."""
        table = self._table
        if table.lo <= a and b < table.hi:
            return table
        first, last = self._local_year(a), self._local_year(b)
        if table.last_year >= table.first_year:
            first, last = min(first, table.first_year), max(last, table.last_year)
        return self._build(first, last)

    def _extend_forward(self, table: _Table, ts: float) -> None:
        if table.last_year >= self._local_year(ts) + HORIZON_YEARS:
            raise ValueError(f"no business time within {HORIZON_YEARS} years")
        self._build(table.first_year, table.last_year + 1)

    def _local_year(self, ts: float) -> int:
        year = datetime.fromtimestamp(ts, self.zone).year
        if not 1 < year < 9999:
            raise ValueError(f"year {year} is outside the supported range")
        return year

    def _build(self, first: int, last: int) -> _Table:
        with self._lock:
            current = self._table
            if current.first_year <= first and last <= current.last_year:
                return current  # another thread got here first
            if current.last_year >= current.first_year:
                first, last = min(first, current.first_year), max(last, current.last_year)
            spans: list[tuple[float, float]] = []
            for year in range(first, last + 1):
                spans.extend(self._year_spans(year))
            # Year ends are local midnights computed the same way on both sides, so a 24x7 calendar
            # joins into one interval instead of splitting at each 1 January.
            spans = _merge(spans)
            starts = [a for a, _ in spans]
            ends = [b for _, b in spans]
            cum = [0.0]
            for a, b in spans:
                cum.append(cum[-1] + (b - a))
            lo = datetime.combine(date(first, 1, 1), MIDNIGHT, self.zone).timestamp()
            hi = datetime.combine(date(last + 1, 1, 1), MIDNIGHT, self.zone).timestamp()
            self._table = _Table(first, last, lo, hi, starts, ends, cum, cum[1:])
            return self._table

    def _year_spans(self, year: int) -> list[tuple[float, float]]:
        spans = self._years.get(year)
        if spans is None:
            spans = []
            zone = self.zone
            day = date(year, 1, 1)
            while day.year == year:
                for start, end in self.day_hours(day):
                    a = datetime.combine(day, start, zone).timestamp()
                    b = datetime.combine(day + _ONE_DAY if end == MIDNIGHT else day, end, zone).timestamp()
                    if b > a:
                        spans.append((a, b))
                day += _ONE_DAY
            spans = _subtract(_merge(sorted(spans)), self._closed_spans)
            self._years[year] = spans
        return spans


def china_days(years: Iterable[int]) -> DayOverrides:
    """China's public holidays and adjusted working days (调休) for `years`, from the holidays package.

    The package keeps the State Council's substitutions: the weekday taken off is a holiday entry,
    the weekend day worked in exchange is in `weekend_workdays`, and is_working_day() combines both.
    We ask is_working_day() of every date, which stays on the package's public API. Years whose
    notice is not yet published are the package's estimate (no adjusted working days).
    """
    import holidays  # imported here: only calendars built from it pay for the import

    wanted = sorted(set(years))
    cn = holidays.country_holidays("CN", years=wanted)
    closed: set[date] = set()
    working: set[date] = set()
    for year in wanted:
        day = date(year, 1, 1)
        while day.year == year:
            weekend = cn.is_weekend(day)
            if cn.is_working_day(day):
                if weekend:
                    working.add(day)
            elif not weekend or day in cn:
                closed.add(day)  # a holiday on a Saturday still closes a desk open on Saturdays
            day += _ONE_DAY
    return DayOverrides(frozenset(closed), frozenset(working))


DEFAULT_CHINA_HOURS: WeeklyHours = weekly_hours((time(9), time(12)), (time(13), time(18)))


def china_calendar(
    years: Iterable[int],
    hours: WeeklyHours = DEFAULT_CHINA_HOURS,
    tz: str = "Asia/Shanghai",
    *,
    extra_day_hours: Sequence[Interval] | None = None,
    closures: Iterable[Closure] = (),
) -> BusinessCalendar:
    """A calendar with China's public holidays and adjusted working days for `years`.

    Outside `years` only the weekly hours (and closures) apply: build it for the years in use.
    """
    days = china_days(years)
    return BusinessCalendar(
        tz, hours, holidays=days.closed, extra_working_days=days.working, extra_day_hours=extra_day_hours, closures=closures
    )


def _checked_day(weekday: int, intervals: Sequence[Interval]) -> tuple[Interval, ...]:
    day = tuple(sorted(intervals))
    previous_end: time | None = None
    for start, end in day:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("opening hours are local wall-clock times without tzinfo")
        if end != MIDNIGHT and end <= start:
            raise ValueError(f"weekday {weekday}: interval {start}-{end} ends before it starts")
        if previous_end is not None and (previous_end == MIDNIGHT or start < previous_end):
            raise ValueError(f"weekday {weekday}: overlapping intervals")
        previous_end = end
    return day


def _day_length(intervals: Sequence[Interval]) -> float:
    """Nominal seconds of a day's intervals by the wall clock (daylight saving aside)."""
    total = 0
    for start, end in intervals:
        end_seconds = 86400 if end == MIDNIGHT else end.hour * 3600 + end.minute * 60 + end.second
        total += end_seconds - (start.hour * 3600 + start.minute * 60 + start.second)
    return float(total)


def _checked_closure(closure: Closure) -> Closure:
    start, end = closure
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("closures are aware datetimes")
    if end <= start:
        raise ValueError(f"closure {start}-{end} ends before it starts")
    return closure


def _merge(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted spans with touching or overlapping neighbours joined."""
    merged: list[tuple[float, float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def _subtract(spans: list[tuple[float, float]], holes: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted disjoint spans minus sorted disjoint holes."""
    if not holes:
        return spans
    out: list[tuple[float, float]] = []
    h = 0
    for a, b in spans:
        while h < len(holes) and holes[h][1] <= a:
            h += 1
        k = h
        while a < b and k < len(holes) and holes[k][0] < b:
            hole_start, hole_end = holes[k]
            if hole_start > a:
                out.append((a, hole_start))
            a = max(a, hole_end)
            k += 1
        if a < b:
            out.append((a, b))
    return out
