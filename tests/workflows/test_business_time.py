"""Business-time arithmetic: properties (hypothesis) and hand-computed China 2026 dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.business_time import (
    ALL_WEEK,
    BusinessCalendar,
    china_calendar,
    china_days,
    weekly_hours,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600.0
WORKING_DAY = 8 * HOUR  # the default China hours: 09:00-12:00 and 13:00-18:00

CHINA = china_calendar([2025, 2026, 2027])
DAYS_2026 = china_days([2026])
PLAIN = BusinessCalendar("Asia/Shanghai", weekly_hours((time(9), time(18))))
LONDON_DAILY = BusinessCalendar("Europe/London", weekly_hours((time(9), time(18)), weekdays=ALL_WEEK))
LONDON_24X7 = BusinessCalendar.always_open("Europe/London")
NEW_YORK_OFFICE = BusinessCalendar("America/New_York", weekly_hours((time(8, 30), time(12)), (time(13), time(17, 30))))

instants = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 1, 31), timezones=st.just(UTC))
durations = st.floats(min_value=0, max_value=15 * WORKING_DAY, allow_nan=False)
calendars = st.sampled_from([CHINA, PLAIN, LONDON_DAILY, LONDON_24X7, NEW_YORK_OFFICE])


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.combine(day, time(hour, minute), zone)


def local_day(calendar: BusinessCalendar, day: date) -> tuple[datetime, datetime]:
    return at(day, 0, zone=calendar.zone), at(day + timedelta(days=1), 0, zone=calendar.zone)


# -- properties ---------------------------------------------------------------------------------


@given(calendars, instants, instants, durations)
def test_add_is_monotonic_in_start(calendar: BusinessCalendar, a: datetime, b: datetime, seconds: float) -> None:
    a, b = min(a, b), max(a, b)
    assert calendar.add(a, seconds) <= calendar.add(b, seconds)


@given(calendars, instants, durations, durations)
def test_add_is_monotonic_in_duration(calendar: BusinessCalendar, start: datetime, s1: float, s2: float) -> None:
    s1, s2 = min(s1, s2), max(s1, s2)
    assert start <= calendar.add(start, s1) <= calendar.add(start, s2)


@given(calendars, instants, durations)
def test_between_inverts_add(calendar: BusinessCalendar, start: datetime, seconds: float) -> None:
    due = calendar.add(start, seconds)
    assert calendar.between(start, due) == pytest.approx(seconds, abs=1e-6)
    ts = start.timestamp()
    assert calendar.between_epoch(ts, calendar.add_epoch(ts, seconds)) == pytest.approx(seconds, abs=1e-6)


@given(calendars, instants, st.floats(min_value=1, max_value=15 * WORKING_DAY))
def test_add_gives_the_earliest_instant(calendar: BusinessCalendar, start: datetime, seconds: float) -> None:
    due = calendar.add(start, seconds)
    assert calendar.between(start, due - timedelta(milliseconds=1)) < seconds
    assert calendar.is_open(due - timedelta(milliseconds=1))


@given(calendars, instants, instants, instants)
def test_between_is_additive(calendar: BusinessCalendar, a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    assert calendar.between(a, c) == pytest.approx(calendar.between(a, b) + calendar.between(b, c), abs=1e-6)
    assert calendar.between(c, a) == 0


@given(
    calendars,
    instants,
    st.lists(
        st.tuples(st.floats(min_value=0, max_value=3 * WORKING_DAY), st.floats(min_value=0, max_value=5 * 86400)), min_size=1, max_size=8
    ),
)
def test_pauses_add_up(calendar: BusinessCalendar, start: datetime, pieces: list[tuple[float, float]]) -> None:
    """Running for pieces of business time with pauses in between uses exactly the sum of the pieces."""
    t, used = start, 0.0
    for run, pause in pieces:
        resumed = t
        t = calendar.add(t, run)
        used += calendar.between(resumed, t)
        t += timedelta(seconds=pause)
    assert used == pytest.approx(sum(run for run, _ in pieces), abs=1e-5)


@given(instants, durations)
def test_a_24x7_calendar_counts_real_time_even_across_daylight_saving(start: datetime, seconds: float) -> None:
    due = LONDON_24X7.add(start, seconds)
    assert abs((due - start).total_seconds() - seconds) <= 1e-6


@given(st.sampled_from(sorted(DAYS_2026.closed)), st.integers(0, 23), st.integers(0, 59))
def test_nothing_counts_on_holidays(day: date, hour: int, minute: int) -> None:
    start, end = local_day(CHINA, day)
    assert CHINA.between(start, end) == 0
    assert not CHINA.is_open(at(day, hour, minute))
    assert CHINA.next_open(at(day, hour, minute)).astimezone(SHANGHAI).date() > day


@given(st.sampled_from(sorted(DAYS_2026.working)))
def test_an_adjusted_working_weekend_day_counts(day: date) -> None:
    assert day.weekday() >= 5
    start, end = local_day(CHINA, day)
    assert CHINA.between(start, end) == WORKING_DAY  # Monday's hours
    assert CHINA.is_open(at(day, 10))
    assert not CHINA.is_open(at(day, 12, 30))  # Monday's lunch break too


@settings(max_examples=50)
@given(instants, instants, instants, st.floats(min_value=1, max_value=10 * 86400))
def test_closures_do_not_count(a: datetime, b: datetime, closed_from: datetime, closed_for: float) -> None:
    a, b = min(a, b), max(a, b)
    closed_until = closed_from + timedelta(seconds=closed_for)
    closed = BusinessCalendar("Asia/Shanghai", weekly_hours((time(9), time(18))), closures=[(closed_from, closed_until)])
    overlap = PLAIN.between(max(a, closed_from), min(b, closed_until))
    assert closed.between(a, b) == pytest.approx(PLAIN.between(a, b) - overlap, abs=1e-6)
    assert not closed.is_open(closed_from + timedelta(seconds=closed_for / 2))


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)))
def test_local_hours_keep_their_length_on_daylight_saving_days(day: date) -> None:
    start, end = local_day(LONDON_DAILY, day)
    assert LONDON_DAILY.between(start, end) == 9 * HOUR
    real_day = end.timestamp() - start.timestamp()  # 23 h or 25 h on the change days
    assert LONDON_24X7.between(start, end) == real_day


# -- daylight saving, by example ---------------------------------------------------------------


def test_daylight_saving_change_days_in_london() -> None:
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)  # both Sundays
    assert LONDON_24X7.between(*local_day(LONDON_24X7, spring)) == 23 * HOUR
    assert LONDON_24X7.between(*local_day(LONDON_24X7, autumn)) == 25 * HOUR
    assert LONDON_DAILY.between(*local_day(LONDON_DAILY, spring)) == 9 * HOUR
    # Hours over the change itself are wall-clock hours: 00:00-06:00 is 5 real hours in spring, 7 in autumn.
    night = BusinessCalendar("Europe/London", {6: [(time(0), time(6))]})
    assert night.between(*local_day(night, spring)) == 5 * HOUR
    assert night.between(*local_day(night, autumn)) == 7 * HOUR


def test_due_time_across_the_spring_change_in_new_york() -> None:
    # Friday 6 March 2026 16:30 EST + 2 business hours: 1 h on Friday, 1 h on Monday 9 March (EDT).
    due = NEW_YORK_OFFICE.add(at(date(2026, 3, 6), 16, 30, NEW_YORK), 2 * HOUR)
    assert due == at(date(2026, 3, 9), 9, 30, NEW_YORK)
    assert due.utcoffset() == timedelta(0)  # returned in UTC
    assert due == datetime(2026, 3, 9, 13, 30, tzinfo=UTC)


# -- China 2026, hand-computed from the State Council notice ---------------------------------


def test_china_2026_adjusted_working_days_come_from_the_holidays_package() -> None:
    assert DAYS_2026.working == {
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    }
    spring_festival = {date(2026, 2, d) for d in (16, 17, 18, 19, 20, 23)}
    national_day = {date(2026, 10, d) for d in (1, 2, 3, 5, 6, 7)}
    assert spring_festival | national_day <= DAYS_2026.closed
    assert date(2026, 2, 24) not in DAYS_2026.closed


def test_national_day_2026() -> None:
    # Wed 30 Sep 17:00 + 2 h: 1 h that day, then 1-7 Oct off, Thu 8 Oct 09:00-10:00.
    assert CHINA.add(at(date(2026, 9, 30), 17), 2 * HOUR) == at(date(2026, 10, 8), 10)
    # Sun 20 Sep is worked (for 6 Oct): Fri 18 Sep 17:30 + 1 h ends Sun 20 Sep 09:30.
    assert CHINA.add(at(date(2026, 9, 18), 17, 30), HOUR) == at(date(2026, 9, 20), 9, 30)
    # Sat 10 Oct is worked (for 7 Oct): Fri 9 Oct 17:00 + 2 h ends Sat 10 Oct 10:00.
    assert CHINA.add(at(date(2026, 10, 9), 17), 2 * HOUR) == at(date(2026, 10, 10), 10)
    # 30 Sep 17:00 to 12 Oct 09:00: 1 h + Thu 8, Fri 9, Sat 10 Oct (8 h each) = 25 h.
    assert CHINA.between(at(date(2026, 9, 30), 17), at(date(2026, 10, 12), 9)) == 25 * HOUR


def test_spring_festival_2026() -> None:
    # Sat 14 Feb is worked; 15-23 Feb off; work resumes Tue 24 Feb.
    assert CHINA.add(at(date(2026, 2, 13), 17), 2 * HOUR) == at(date(2026, 2, 14), 10)
    assert CHINA.add(at(date(2026, 2, 14), 17), 2 * HOUR) == at(date(2026, 2, 24), 10)
    assert CHINA.next_open(at(date(2026, 2, 18), 10)) == at(date(2026, 2, 24), 9)
    # Sat 14 Feb + Tue-Fri 24-27 Feb + Sat 28 Feb (worked) = 6 working days.
    assert CHINA.between(at(date(2026, 2, 14), 9), at(date(2026, 2, 28), 18)) == 6 * WORKING_DAY


def test_new_year_2026_and_the_lunch_break() -> None:
    # 1-3 Jan off (2 Jan swapped for Sun 4 Jan): Wed 31 Dec 2025 17:00 + 2 h ends Sun 4 Jan 10:00.
    assert CHINA.add(at(date(2025, 12, 31), 17), 2 * HOUR) == at(date(2026, 1, 4), 10)
    assert CHINA.add(at(date(2026, 1, 5), 11, 30), HOUR) == at(date(2026, 1, 5), 13, 30)
    # Ending exactly at a closing time gives that closing time, not the next opening.
    assert CHINA.add(at(date(2026, 1, 5), 9), 3 * HOUR) == at(date(2026, 1, 5), 12)


def test_business_days_by_the_standard_day() -> None:
    assert CHINA.standard_day_seconds == WORKING_DAY
    assert LONDON_24X7.standard_day_seconds == 86400
    # "13 business days" from Thu 24 Sep 2026 10:00: 25 Sep (Mid-Autumn) and 1-7 Oct are off, Sat 10 Oct
    # is worked: 28-30 Sep (3), 8-10 Oct (6), 12-16 Oct (11), 19-20 Oct (13), so Tue 20 Oct 10:00.
    assert CHINA.add(at(date(2026, 9, 24), 10), 13 * CHINA.standard_day_seconds) == at(date(2026, 10, 20), 10)


def test_counting_starts_at_the_next_opening() -> None:
    saturday_night = at(date(2026, 3, 7), 23)
    assert CHINA.add(saturday_night, 0) == at(date(2026, 3, 9), 9)
    assert CHINA.add(saturday_night, 60) == at(date(2026, 3, 9), 9, 1)
    inside = at(date(2026, 3, 9), 10, 15)
    assert CHINA.add(inside, 0) == inside
    assert CHINA.is_open(inside) and not CHINA.is_open(at(date(2026, 3, 9), 18))


# -- tables built lazily, and misuse -------------------------------------------------------------


def test_years_are_built_on_demand_in_both_directions() -> None:
    calendar = BusinessCalendar("Asia/Shanghai", weekly_hours((time(9), time(18))))
    a, b = at(date(2026, 6, 1), 9), at(date(2026, 6, 8), 9)
    assert calendar.between(a, b) == 5 * 9 * HOUR
    # 500 working days runs two years ahead of the table; then a query in 2020 extends it backwards.
    assert calendar.between(a, calendar.add(a, 500 * 9 * HOUR)) == 500 * 9 * HOUR
    assert calendar.between(at(date(2020, 1, 6), 9), at(date(2020, 1, 7), 9)) == 9 * HOUR
    assert calendar.between(a, b) == 5 * 9 * HOUR
    # A working span across New Year is one interval on a 24x7 calendar.
    always = BusinessCalendar.always_open("Asia/Shanghai")
    assert always.add(at(date(2026, 12, 31), 23), 2 * HOUR) == at(date(2027, 1, 1), 1)


def test_misuse_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        CHINA.add(datetime(2026, 1, 5, 9), 60)
    with pytest.raises(ValueError, match="non-negative"):
        CHINA.add(at(date(2026, 1, 5), 9), -1)
    with pytest.raises(ValueError, match="no business time"):
        BusinessCalendar("UTC", {}).add(datetime(2026, 1, 1, tzinfo=UTC), 1)
    with pytest.raises(ValueError, match="overlapping"):
        BusinessCalendar("UTC", {0: [(time(9), time(12)), (time(11), time(13))]})
    with pytest.raises(ValueError, match="both closed and working"):
        BusinessCalendar("UTC", {}, holidays={date(2026, 1, 1)}, extra_working_days={date(2026, 1, 1)})
