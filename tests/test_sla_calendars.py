"""Business time: working hours, holidays, time zones and durations on a calendar.

Every moment is a fixed datetime.  The property tests compare the calendar with a slow
reference that steps minute by minute and asks of each minute only "is the local wall
clock inside a window on a day that is not a holiday?".
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stageflow.definitions import load_definitions
from stageflow.definitions import spec as S
from stageflow.sla.calendars import (
    BusinessCalendar,
    Duration,
    calendar_time,
    calendar_time_before,
    parse_duration,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)

NINE_TO_FIVE = {day: (("09:00", "17:00"),) for day in range(5)}
SPLIT_DAY = {day: (("10:00", "12:00"), ("13:00", "17:00")) for day in range(5)}
ALL_DAY = {day: (("00:00", "24:00"),) for day in range(7)}


def berlin(*args: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN, fold=fold)


def new_york(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NEW_YORK)


def make_calendar(
    hours: dict[int, tuple[tuple[str, str], ...]] = NINE_TO_FIVE,
    holidays: tuple[str, ...] = (),
    time_zone: str = "Europe/Berlin",
) -> BusinessCalendar:
    return BusinessCalendar.from_spec(S.CalendarSpec("office", time_zone, hours, holidays))


OFFICE = make_calendar()


# -- building a calendar ---------------------------------------------------------------


def test_from_a_deployed_calendar_document() -> None:
    text = """\
kind: calendar
name: support_hours
time_zone: Europe/Berlin
hours: {mon-fri: "09:00-17:00", sat: "10:00-14:00"}
holidays: [2026-12-25, 2026-12-26, {date: 01-01, yearly: true}]
"""
    (document,) = load_definitions([("calendars.yaml", text)], step_types={})
    calendar = BusinessCalendar.from_spec(document.spec)
    # Friday 16:00: one hour on Friday, three of Saturday's four.
    assert calendar.add(berlin(2026, 3, 27, 16), 4 * HOUR) == berlin(2026, 3, 28, 13)
    assert calendar.holidays_between(dt.date(2026, 12, 1), dt.date(2027, 1, 31)) == [
        dt.date(2026, 12, 25),
        dt.date(2026, 12, 26),
        dt.date(2027, 1, 1),
    ]
    stored = S.from_data("calendar", S.to_data(document.spec))  # weekday keys as text
    assert BusinessCalendar.from_spec(stored).add(berlin(2026, 3, 27, 16), 4 * HOUR) == berlin(
        2026, 3, 28, 13
    )


@pytest.mark.parametrize(
    ("hours", "holidays", "time_zone", "message"),
    [
        ({}, (), "UTC", "calendar 'office' has no working hours"),
        ({0: ()}, (), "UTC", "has no working hours"),
        (NINE_TO_FIVE, (), "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ({0: (("17:00", "09:00"),)}, (), "UTC", "17:00-09:00 end before they start"),
        ({0: (("09:00", "09:00"),)}, (), "UTC", "end before they start"),
        ({0: (("09:00", "24:30"),)}, (), "UTC", "invalid time '24:30'"),
        ({0: (("9:00", "17:00"),)}, (), "UTC", "invalid time '9:00'"),
        ({7: (("09:00", "17:00"),)}, (), "UTC", "weekday 7 is not 0"),
        (NINE_TO_FIVE, ("12-32",), "UTC", "invalid holiday '12-32'"),
        (NINE_TO_FIVE, ("2026-13-01",), "UTC", "invalid holiday '2026-13-01'"),
        (NINE_TO_FIVE, ("02-30",), "UTC", "invalid holiday '02-30'"),
    ],
)
def test_invalid_calendars_are_refused(
    hours: dict, holidays: tuple[str, ...], time_zone: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_calendar(hours, holidays, time_zone)


def test_a_calendar_where_every_day_is_a_holiday_is_refused() -> None:
    every_day = tuple(
        (dt.date(2000, 1, 1) + dt.timedelta(days=n)).strftime("%m-%d") for n in range(366)
    )
    with pytest.raises(ValueError, match="no working days: every day is a holiday"):
        make_calendar(holidays=every_day)


def test_naive_datetimes_are_refused() -> None:
    naive = dt.datetime(2026, 3, 27, 16)
    for call in (
        lambda: OFFICE.add(naive, HOUR),
        lambda: OFFICE.subtract(naive, HOUR),
        lambda: OFFICE.is_working(naive),
        lambda: OFFICE.next_working(naive),
        lambda: OFFICE.working_time_between(naive, naive),
        lambda: calendar_time(naive, HOUR, None),
    ):
        with pytest.raises(ValueError, match="needs an aware datetime"):
            call()


def test_repr() -> None:
    assert repr(OFFICE) == "BusinessCalendar('office', 'Europe/Berlin')"


# -- weekends, windows and where counting starts ---------------------------------------


def test_results_are_utc_whatever_zone_comes_in() -> None:
    due = OFFICE.add(new_york(2026, 3, 27, 10), 4 * HOUR)  # 15:00 in Berlin
    assert due.tzinfo is UTC
    assert due == berlin(2026, 3, 30, 11)
    assert OFFICE.next_working(berlin(2026, 3, 28, 12)).tzinfo is UTC
    assert OFFICE.subtract(due, HOUR).tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (berlin(2026, 3, 23, 9), 4, berlin(2026, 3, 23, 13)),  # inside a window
        (berlin(2026, 3, 23, 13), 4, berlin(2026, 3, 23, 17)),  # ends as the window ends
        (berlin(2026, 3, 23, 16), 4, berlin(2026, 3, 24, 12)),  # overnight
        (berlin(2026, 3, 20, 16), 4, berlin(2026, 3, 23, 12)),  # over a weekend
        (berlin(2026, 3, 21, 12), 4, berlin(2026, 3, 23, 13)),  # from a Saturday
        (berlin(2026, 3, 23, 7), 4, berlin(2026, 3, 23, 13)),  # before opening
        (berlin(2026, 3, 23, 17), 4, berlin(2026, 3, 24, 13)),  # at closing
        (berlin(2026, 3, 23, 20), 4, berlin(2026, 3, 24, 13)),  # after closing
        (berlin(2026, 3, 23, 9), 40, berlin(2026, 3, 27, 17)),  # a working week
        (berlin(2026, 3, 23, 9, 0, 30), 1, berlin(2026, 3, 23, 10, 0, 30)),  # seconds kept
    ],
)
def test_add_working_hours(start: dt.datetime, hours: int, due: dt.datetime) -> None:
    assert OFFICE.add(start, hours * HOUR) == due
    assert OFFICE.working_time_between(OFFICE.next_working(start), due) == hours * HOUR


@pytest.mark.parametrize(
    ("start", "next_working"),
    [
        (berlin(2026, 3, 23, 9), berlin(2026, 3, 23, 9)),
        (berlin(2026, 3, 23, 12, 30), berlin(2026, 3, 23, 12, 30)),
        (berlin(2026, 3, 23, 16, 59, 59), berlin(2026, 3, 23, 16, 59, 59)),
        (berlin(2026, 3, 23, 17), berlin(2026, 3, 24, 9)),
        (berlin(2026, 3, 23, 8, 59), berlin(2026, 3, 23, 9)),
        (berlin(2026, 3, 20, 17), berlin(2026, 3, 23, 9)),
        (berlin(2026, 3, 22, 23, 59), berlin(2026, 3, 23, 9)),
    ],
)
def test_zero_duration_is_the_next_working_moment(
    start: dt.datetime, next_working: dt.datetime
) -> None:
    assert OFFICE.next_working(start) == next_working
    assert OFFICE.add(start, dt.timedelta(0)) == next_working
    assert OFFICE.is_working(start) == (start == next_working)


def test_subtract_counts_back_from_the_last_working_moment() -> None:
    assert OFFICE.subtract(berlin(2026, 3, 23, 13), 4 * HOUR) == berlin(2026, 3, 23, 9)
    assert OFFICE.subtract(berlin(2026, 3, 23, 12), 4 * HOUR) == berlin(2026, 3, 20, 16)
    assert OFFICE.subtract(berlin(2026, 3, 21, 12), 2 * HOUR) == berlin(2026, 3, 20, 15)
    assert OFFICE.subtract(berlin(2026, 3, 23, 8), 2 * HOUR) == berlin(2026, 3, 20, 15)
    # Zero: the moment itself inside (or at the end of) a window, else the last closing.
    assert OFFICE.subtract(berlin(2026, 3, 23, 17), dt.timedelta(0)) == berlin(2026, 3, 23, 17)
    assert OFFICE.subtract(berlin(2026, 3, 23, 10), dt.timedelta(0)) == berlin(2026, 3, 23, 10)
    assert OFFICE.subtract(berlin(2026, 3, 22, 10), dt.timedelta(0)) == berlin(2026, 3, 20, 17)
    assert OFFICE.subtract(berlin(2026, 3, 23, 9), dt.timedelta(0)) == berlin(2026, 3, 23, 9)


def test_negative_durations_go_the_other_way() -> None:
    assert OFFICE.add(berlin(2026, 3, 23, 12), -4 * HOUR) == berlin(2026, 3, 20, 16)
    assert OFFICE.subtract(berlin(2026, 3, 20, 16), -4 * HOUR) == berlin(2026, 3, 23, 12)
    assert OFFICE.working_time_between(berlin(2026, 3, 23, 12), berlin(2026, 3, 20, 16)) == (
        -4 * HOUR
    )


def test_working_time_between() -> None:
    monday = berlin(2026, 3, 23, 0)
    assert OFFICE.working_time_between(monday, monday) == dt.timedelta(0)
    assert OFFICE.working_time_between(monday, berlin(2026, 3, 23, 9)) == dt.timedelta(0)
    assert OFFICE.working_time_between(monday, berlin(2026, 3, 23, 10, 30)) == 1.5 * HOUR
    assert OFFICE.working_time_between(monday, berlin(2026, 3, 30, 0)) == 40 * HOUR
    assert OFFICE.working_time_between(berlin(2026, 3, 20, 16), berlin(2026, 3, 23, 10)) == (
        2 * HOUR
    )


def test_several_windows_a_day() -> None:
    split = make_calendar(SPLIT_DAY)
    assert split.add(berlin(2026, 3, 23, 11), 2 * HOUR) == berlin(2026, 3, 23, 14)
    assert split.add(berlin(2026, 3, 23, 11, 30), 30 * MINUTE) == berlin(2026, 3, 23, 12)
    assert split.add(berlin(2026, 3, 23, 12, 30), dt.timedelta(0)) == berlin(2026, 3, 23, 13)
    assert split.add(berlin(2026, 3, 23, 16), 2 * HOUR) == berlin(2026, 3, 24, 11)
    assert split.subtract(berlin(2026, 3, 23, 14), 2 * HOUR) == berlin(2026, 3, 23, 11)
    assert split.subtract(berlin(2026, 3, 23, 12, 30), dt.timedelta(0)) == berlin(2026, 3, 23, 12)
    assert not split.is_working(berlin(2026, 3, 23, 12, 30))
    assert split.is_working(berlin(2026, 3, 23, 13))
    assert not split.is_working(berlin(2026, 3, 23, 12))
    day = berlin(2026, 3, 23, 0), berlin(2026, 3, 24, 0)
    assert split.working_time_between(*day) == 6 * HOUR


def test_overlapping_and_touching_windows_are_merged() -> None:
    overlapping = make_calendar({0: (("09:00", "12:00"), ("11:00", "13:00"), ("10:00", "10:30"))})
    day = berlin(2026, 3, 23, 0), berlin(2026, 3, 24, 0)
    assert overlapping.working_time_between(*day) == 4 * HOUR
    touching = make_calendar({0: (("12:00", "17:00"), ("09:00", "12:00"))})
    assert touching.working_time_between(*day) == 8 * HOUR
    assert touching.add(berlin(2026, 3, 23, 11), 2 * HOUR) == berlin(2026, 3, 23, 13)
    assert touching.is_working(berlin(2026, 3, 23, 12))


def test_windows_up_to_midnight() -> None:
    nights = make_calendar({0: (("18:00", "24:00"),), 1: (("00:00", "06:00"),)})
    assert nights.add(berlin(2026, 3, 23, 23), 2 * HOUR) == berlin(2026, 3, 24, 1)
    assert nights.subtract(berlin(2026, 3, 24, 1), 2 * HOUR) == berlin(2026, 3, 23, 23)
    assert nights.is_working(berlin(2026, 3, 24, 0))
    assert nights.add(berlin(2026, 3, 24, 6), HOUR) == berlin(2026, 3, 30, 19)
    week = berlin(2026, 3, 23, 0), berlin(2026, 3, 30, 0)
    assert nights.working_time_between(*week) == 12 * HOUR


def test_a_round_the_clock_calendar_is_elapsed_time() -> None:
    always = make_calendar(ALL_DAY, time_zone="UTC")
    start = dt.datetime(2026, 3, 27, 16, 12, 5, tzinfo=UTC)
    for hours in (0, 1, 24, 100, 2000):
        assert always.add(start, hours * HOUR) == start + hours * HOUR
        assert always.subtract(start, hours * HOUR) == start - hours * HOUR
    assert always.is_working(start)
    assert always.next_working(start) == start


# -- holidays --------------------------------------------------------------------------


def test_fixed_holidays() -> None:
    christmas = make_calendar(holidays=("2026-12-25", "2026-12-24"))
    # Thursday 24 and Friday 25 December 2026 are off.
    assert christmas.add(berlin(2026, 12, 23, 16), 2 * HOUR) == berlin(2026, 12, 28, 10)
    assert christmas.subtract(berlin(2026, 12, 28, 10), 2 * HOUR) == berlin(2026, 12, 23, 16)
    assert not christmas.is_working(berlin(2026, 12, 24, 10))
    assert christmas.next_working(berlin(2026, 12, 24, 10)) == berlin(2026, 12, 28, 9)
    assert christmas.is_holiday(dt.date(2026, 12, 25))
    assert not christmas.is_holiday(dt.date(2027, 12, 25))  # a fixed date is once
    assert christmas.is_working(berlin(2027, 12, 24, 10))


def test_yearly_holidays_repeat() -> None:
    new_year = make_calendar(holidays=("01-01",))
    # 1 January 2027 is a Friday, 1 January 2029 a Monday.
    assert new_year.add(berlin(2026, 12, 31, 16), 2 * HOUR) == berlin(2027, 1, 4, 10)
    assert new_year.add(berlin(2028, 12, 29, 16), 2 * HOUR) == berlin(2029, 1, 2, 10)
    assert all(new_year.is_holiday(dt.date(year, 1, 1)) for year in range(1990, 2100))


def test_a_yearly_february_29_is_a_holiday_in_leap_years_only() -> None:
    leap_day = make_calendar(holidays=("02-29",))
    # 29 February 2028 is a Tuesday; 2027 has none, so 1 March 2027 (Monday) is working.
    assert leap_day.add(berlin(2028, 2, 28, 16), 2 * HOUR) == berlin(2028, 3, 1, 10)
    assert leap_day.add(berlin(2027, 2, 26, 16), 2 * HOUR) == berlin(2027, 3, 1, 10)
    assert leap_day.holidays_between(dt.date(2025, 1, 1), dt.date(2033, 12, 31)) == [
        dt.date(2028, 2, 29),
        dt.date(2032, 2, 29),
    ]
    assert leap_day.next_holidays(dt.date(2096, 3, 1), 2) == [
        dt.date(2104, 2, 29),  # 2100 is not a leap year
        dt.date(2108, 2, 29),
    ]


def test_holidays_between_and_next_holidays() -> None:
    calendar = make_calendar(holidays=("2026-12-25", "2026-12-26", "2030-05-01", "01-01"))
    assert calendar.holidays_between(dt.date(2026, 12, 26), dt.date(2027, 1, 1)) == [
        dt.date(2026, 12, 26),  # a Saturday: listed all the same
        dt.date(2027, 1, 1),
    ]
    assert calendar.holidays_between(dt.date(2027, 1, 2), dt.date(2027, 1, 1)) == []
    assert calendar.next_holidays(dt.date(2026, 12, 25), 3) == [
        dt.date(2026, 12, 26),
        dt.date(2027, 1, 1),
        dt.date(2028, 1, 1),
    ]
    assert calendar.next_holidays(dt.date(2029, 6, 1), 2) == [
        dt.date(2030, 1, 1),
        dt.date(2030, 5, 1),
    ]
    assert calendar.next_holidays(dt.date(2026, 1, 1), 0) == []
    with pytest.raises(ValueError, match="count must be 0 or more"):
        calendar.next_holidays(dt.date(2026, 1, 1), -1)
    only_fixed = make_calendar(holidays=("2026-12-25", "2027-12-25"))
    assert only_fixed.next_holidays(dt.date(2026, 1, 1), 5) == [
        dt.date(2026, 12, 25),
        dt.date(2027, 12, 25),
    ]
    assert OFFICE.next_holidays(dt.date(2026, 1, 1), 5) == []


# -- daylight saving time --------------------------------------------------------------


def test_berlin_spring_forward_keeps_nine_to_five() -> None:
    # Clocks go from 02:00 to 03:00 on Sunday 29 March 2026.
    assert OFFICE.add(berlin(2026, 3, 27, 16), 4 * HOUR) == berlin(2026, 3, 30, 12)
    assert OFFICE.add(berlin(2026, 3, 27, 16), 4 * HOUR) == dt.datetime(2026, 3, 30, 10, tzinfo=UTC)
    assert OFFICE.next_working(berlin(2026, 3, 28, 12)) == dt.datetime(2026, 3, 30, 7, tzinfo=UTC)
    every_day = make_calendar({day: (("09:00", "17:00"),) for day in range(7)})
    sunday = berlin(2026, 3, 29, 0), berlin(2026, 3, 30, 0)
    assert every_day.working_time_between(*sunday) == 8 * HOUR
    assert every_day.add(berlin(2026, 3, 28, 16), 2 * HOUR) == berlin(2026, 3, 29, 10)


def test_berlin_fall_back_keeps_nine_to_five() -> None:
    # Clocks go from 03:00 back to 02:00 on Sunday 25 October 2026.
    assert OFFICE.add(berlin(2026, 10, 23, 16), 4 * HOUR) == berlin(2026, 10, 26, 12)
    assert OFFICE.add(berlin(2026, 10, 23, 16), 4 * HOUR) == dt.datetime(
        2026, 10, 26, 11, tzinfo=UTC
    )
    assert OFFICE.subtract(berlin(2026, 10, 26, 12), 4 * HOUR) == berlin(2026, 10, 23, 16)
    week = berlin(2026, 10, 19, 0), berlin(2026, 10, 26, 0)
    assert OFFICE.working_time_between(*week) == 40 * HOUR


def test_round_the_clock_days_are_23_and_25_hours_across_the_changes() -> None:
    always = make_calendar(ALL_DAY)
    spring = berlin(2026, 3, 29, 0), berlin(2026, 3, 30, 0)
    autumn = berlin(2026, 10, 25, 0), berlin(2026, 10, 26, 0)
    assert always.working_time_between(*spring) == 23 * HOUR
    assert always.working_time_between(*autumn) == 25 * HOUR
    assert always.add(berlin(2026, 3, 29, 1, 30), HOUR) == berlin(2026, 3, 29, 3, 30)
    assert always.add(berlin(2026, 10, 25, 1, 30), 2 * HOUR) == berlin(
        2026, 10, 25, 2, 30, fold=1
    ).astimezone(UTC)
    assert always.is_working(berlin(2026, 10, 25, 2, 30, fold=1))


def test_a_window_starting_in_the_skipped_hour_starts_after_it() -> None:
    sunday_early = make_calendar({6: (("02:30", "05:00"),)})
    assert sunday_early.next_working(berlin(2026, 3, 29, 0)) == dt.datetime(
        2026, 3, 29, 1, tzinfo=UTC
    )  # 03:00 CEST
    assert sunday_early.working_time_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 2 * HOUR
    # A week later 02:30 exists again.
    assert sunday_early.next_working(berlin(2026, 3, 30)) == berlin(2026, 4, 5, 2, 30)


def test_a_window_inside_the_skipped_hour_is_empty() -> None:
    in_the_gap = make_calendar({6: (("02:00", "02:30"), ("04:00", "05:00"))})
    assert in_the_gap.next_working(berlin(2026, 3, 29, 0)) == berlin(2026, 3, 29, 4)
    assert in_the_gap.working_time_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == HOUR
    assert in_the_gap.add(berlin(2026, 3, 29, 0), HOUR) == berlin(2026, 3, 29, 5)


def test_a_window_ending_in_the_skipped_hour_ends_when_the_clock_jumps() -> None:
    late_night = make_calendar({6: (("01:00", "02:30"),)})
    night = berlin(2026, 3, 29), berlin(2026, 3, 30)
    assert late_night.working_time_between(*night) == HOUR
    assert late_night.add(berlin(2026, 3, 29, 1), HOUR) == dt.datetime(2026, 3, 29, 1, tzinfo=UTC)


def test_boundaries_in_the_repeated_hour_are_its_first_occurrence() -> None:
    repeated = make_calendar({6: (("02:30", "04:00"),)})
    # Moments in a repeated hour compare unequal across zones (PEP 495): compare in UTC.
    first = berlin(2026, 10, 25, 2, 30).astimezone(UTC)
    second = berlin(2026, 10, 25, 2, 30, fold=1).astimezone(UTC)
    assert first == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert repeated.next_working(berlin(2026, 10, 25, 0)) == first
    assert repeated.working_time_between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == (2.5 * HOUR)
    assert not repeated.is_working(berlin(2026, 10, 25, 2, 15))
    assert repeated.is_working(berlin(2026, 10, 25, 2, 15, fold=1))  # after the first 02:30
    assert repeated.is_working(second)
    ends_repeated = make_calendar({6: (("01:00", "02:30"),)})
    assert ends_repeated.working_time_between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == (
        1.5 * HOUR
    )
    assert not ends_repeated.is_working(berlin(2026, 10, 25, 2, 15, fold=1))


def test_new_york_across_both_changes() -> None:
    new_york_office = make_calendar(time_zone="America/New_York")
    # Clocks go forward on Sunday 8 March 2026 and back on Sunday 1 November 2026.
    assert new_york_office.add(new_york(2026, 3, 6, 16), 4 * HOUR) == new_york(2026, 3, 9, 12)
    assert new_york_office.add(dt.datetime(2026, 3, 6, 21, tzinfo=UTC), 4 * HOUR) == dt.datetime(
        2026, 3, 9, 16, tzinfo=UTC
    )
    assert new_york_office.add(new_york(2026, 10, 30, 16), 4 * HOUR) == dt.datetime(
        2026, 11, 2, 17, tzinfo=UTC
    )
    assert new_york_office.subtract(new_york(2026, 11, 2, 12), 4 * HOUR) == new_york(
        2026, 10, 30, 16
    )
    always = make_calendar(ALL_DAY, time_zone="America/New_York")
    assert always.working_time_between(new_york(2026, 3, 8), new_york(2026, 3, 9)) == 23 * HOUR
    assert always.working_time_between(new_york(2026, 11, 1), new_york(2026, 11, 2)) == 25 * HOUR


# -- long spans ------------------------------------------------------------------------


class DayByDay(BusinessCalendar):
    """The same calendar, never counting a whole week at once."""

    def _plain_week(self, start: dt.datetime) -> bool:
        return False


class CountingDays(BusinessCalendar):
    """The same calendar, counting the days whose windows it looks at."""

    days_read = 0

    def _day_intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        self.days_read += 1
        return super()._day_intervals(day)


def test_two_thousand_working_hours_are_fifty_working_weeks() -> None:
    calendar = CountingDays("office", "Europe/Berlin", NINE_TO_FIVE, ("01-01", "2026-12-25"))
    start = berlin(2026, 1, 5, 9)  # a Monday; both changes of 2026 lie ahead
    due = calendar.add(start, 2000 * HOUR)
    assert due == berlin(2026, 12, 18, 17)
    assert calendar.days_read < 60  # weeks are counted whole, not day by day
    assert calendar.working_time_between(start, due) == 2000 * HOUR
    assert calendar.subtract(due, 2000 * HOUR) == start
    assert calendar.days_read < 200


def test_long_spans_with_holidays() -> None:
    holidays = ("01-01", "05-01", "12-25", "12-26", "2026-04-03", "2026-04-06", "02-29")
    calendar = make_calendar(holidays=holidays)
    start = berlin(2026, 1, 2, 11, 17)
    due = calendar.add(start, 2000 * HOUR)
    # 250 working days of 8 hours; Good Friday, Easter Monday and 1 May are off.
    assert due == berlin(2026, 12, 23, 11, 17)
    assert calendar.working_time_between(start, due) == 2000 * HOUR
    assert (
        DayByDay.from_spec(S.CalendarSpec("o", "Europe/Berlin", NINE_TO_FIVE, holidays)).add(
            start, 2000 * HOUR
        )
        == due
    )


LONG_CALENDARS = [
    S.CalendarSpec("office", "Europe/Berlin", NINE_TO_FIVE, ("01-01", "12-25", "2027-04-02")),
    S.CalendarSpec("split", "America/New_York", SPLIT_DAY, ("07-04", "2026-11-26")),
    S.CalendarSpec("nights", "Europe/Berlin", {0: (("18:00", "24:00"),), 1: (("00:00", "06:00"),)}),
    S.CalendarSpec("always", "Europe/Berlin", ALL_DAY),
]


@settings(max_examples=60, deadline=None)
@given(
    spec=st.sampled_from(LONG_CALENDARS),
    start_minutes=st.integers(0, 2 * 365 * 24 * 60),
    hours=st.integers(0, 3000),
    extra_minutes=st.integers(0, 59),
)
def test_counting_whole_weeks_agrees_with_walking_day_by_day(
    spec: S.CalendarSpec, start_minutes: int, hours: int, extra_minutes: int
) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=UTC) + start_minutes * MINUTE
    duration = hours * HOUR + extra_minutes * MINUTE
    fast, slow = BusinessCalendar.from_spec(spec), DayByDay.from_spec(spec)
    due = fast.add(start, duration)
    assert due == slow.add(start, duration)
    assert fast.subtract(start, duration) == slow.subtract(start, duration)
    assert fast.working_time_between(start, due) == duration
    assert fast.working_time_between(start, due) == slow.working_time_between(start, due)


# -- against a minute-by-minute reference ----------------------------------------------


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def reference_is_working(spec: S.CalendarSpec, moment: dt.datetime) -> bool:
    """Whether the local wall clock at ``moment`` is inside a window on a working day."""
    local = moment.astimezone(ZoneInfo(spec.time_zone))
    if local.date().isoformat() in spec.holidays or local.strftime("%m-%d") in spec.holidays:
        return False
    minute = local.hour * 60 + local.minute
    windows = spec.hours.get(local.weekday(), ())
    return any(_minutes(start) <= minute < _minutes(end) for start, end in windows)


def reference_add(spec: S.CalendarSpec, start: dt.datetime, minutes: int) -> dt.datetime:
    moment, counted = start, 0
    while counted < minutes or (not minutes and not reference_is_working(spec, moment)):
        counted += reference_is_working(spec, moment)
        moment += MINUTE
    return moment


def reference_subtract(spec: S.CalendarSpec, end: dt.datetime, minutes: int) -> dt.datetime:
    if not minutes and reference_is_working(spec, end):
        return end
    moment, counted = end, 0
    while counted < minutes or (not minutes and not reference_is_working(spec, moment - MINUTE)):
        counted += reference_is_working(spec, moment - MINUTE)
        moment -= MINUTE
    return moment


def reference_between(spec: S.CalendarSpec, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    steps = (end - start) // MINUTE
    return sum(reference_is_working(spec, start + n * MINUTE) for n in range(steps)) * MINUTE


# Window boundaries stay out of the repeated hour, where the wall clock cannot tell the
# first occurrence from the second (tested on their own above).
REFERENCE_CALENDARS = [
    S.CalendarSpec("office", "Europe/Berlin", NINE_TO_FIVE, ("2026-03-30", "10-26", "02-29")),
    S.CalendarSpec(
        "shop",
        "Europe/Berlin",
        {**SPLIT_DAY, 5: (("10:00", "14:00"),), 6: (("00:30", "02:00"), ("03:00", "05:00"))},
    ),
    S.CalendarSpec(
        "support",
        "America/New_York",
        {d: (("08:30", "12:00"), ("12:30", "18:00")) for d in range(5)},
    ),
    S.CalendarSpec("always", "Europe/Berlin", ALL_DAY),
    S.CalendarSpec(
        "early",  # on 8 March 02:30 and 02:45 are skipped: the windows touch
        "America/New_York",
        {6: (("00:00", "02:30"), ("02:45", "06:00")), 0: (("22:00", "24:00"),)},
    ),
]
# A few days before each 2026 change of Berlin and New York.
AROUND_CHANGES = [
    dt.datetime(2026, 3, 26, tzinfo=UTC),
    dt.datetime(2026, 10, 22, tzinfo=UTC),
    dt.datetime(2026, 3, 5, tzinfo=UTC),
    dt.datetime(2026, 10, 29, tzinfo=UTC),
]
moments = st.builds(
    lambda base, minutes: base + minutes * MINUTE,
    st.sampled_from(AROUND_CHANGES),
    st.integers(0, 6 * 24 * 60),
)


@settings(max_examples=100, deadline=None)
@given(spec=st.sampled_from(REFERENCE_CALENDARS), start=moments, minutes=st.integers(0, 20 * 60))
def test_add_matches_the_reference(spec: S.CalendarSpec, start: dt.datetime, minutes: int) -> None:
    assert BusinessCalendar.from_spec(spec).add(start, minutes * MINUTE) == reference_add(
        spec, start, minutes
    )


@settings(max_examples=100, deadline=None)
@given(spec=st.sampled_from(REFERENCE_CALENDARS), end=moments, minutes=st.integers(0, 20 * 60))
def test_subtract_matches_the_reference(
    spec: S.CalendarSpec, end: dt.datetime, minutes: int
) -> None:
    assert BusinessCalendar.from_spec(spec).subtract(end, minutes * MINUTE) == reference_subtract(
        spec, end, minutes
    )


@settings(max_examples=100, deadline=None)
@given(spec=st.sampled_from(REFERENCE_CALENDARS), start=moments, length=st.integers(0, 4 * 24 * 60))
def test_working_time_between_matches_the_reference(
    spec: S.CalendarSpec, start: dt.datetime, length: int
) -> None:
    calendar = BusinessCalendar.from_spec(spec)
    end = start + length * MINUTE
    assert calendar.working_time_between(start, end) == reference_between(spec, start, end)


@settings(max_examples=200, deadline=None)
@given(spec=st.sampled_from(REFERENCE_CALENDARS), moment=moments, seconds=st.integers(0, 59))
def test_is_working_and_next_working_match_the_reference(
    spec: S.CalendarSpec, moment: dt.datetime, seconds: int
) -> None:
    calendar = BusinessCalendar.from_spec(spec)
    assert calendar.is_working(moment) == reference_is_working(spec, moment)
    assert calendar.next_working(moment) == reference_add(spec, moment, 0)
    within = moment + dt.timedelta(seconds=seconds)
    assert calendar.is_working(within) == reference_is_working(spec, moment)


@settings(max_examples=200, deadline=None)
@given(
    spec=st.sampled_from(REFERENCE_CALENDARS),
    start=moments,
    duration=st.integers(0, 200 * 3600).map(lambda s: dt.timedelta(seconds=s)),
)
def test_subtract_undoes_add(
    spec: S.CalendarSpec, start: dt.datetime, duration: dt.timedelta
) -> None:
    calendar = BusinessCalendar.from_spec(spec)
    due = calendar.add(start, duration)
    back = calendar.subtract(due, duration)
    assert calendar.working_time_between(back, start) == dt.timedelta(0)
    if calendar.is_working(start):
        assert back == start
    assert calendar.working_time_between(calendar.subtract(start, duration), start) == duration


# -- durations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("30s", Duration(time=dt.timedelta(seconds=30))),
        ("15m", Duration(time=15 * MINUTE)),
        ("4h", Duration(time=4 * HOUR)),
        ("1.5h", Duration(time=90 * MINUTE)),
        ("0m", Duration()),
        ("2d", Duration(days=2)),
        ("1w", Duration(weeks=1)),
        ("1d4h", Duration(days=1, time=4 * HOUR)),
        ("2h30m", Duration(time=150 * MINUTE)),
        ("1w2d3h4m5s", Duration(1, 2, dt.timedelta(hours=3, minutes=4, seconds=5))),
        (" 1d 4h ", Duration(days=1, time=4 * HOUR)),
        ("PT4H", Duration(time=4 * HOUR)),
        ("P1DT2H", Duration(days=1, time=2 * HOUR)),
        ("P2W", Duration(weeks=2)),
        ("PT1H30M", Duration(time=90 * MINUTE)),
        ("pt4h", Duration(time=4 * HOUR)),
        ("1.5d", Duration(days=1, time=12 * HOUR)),
        ("1.5w", Duration(weeks=1, days=3, time=12 * HOUR)),
    ],
)
def test_parse_durations(text: str, duration: Duration) -> None:
    assert Duration.parse(text) == duration
    assert parse_duration(text) == duration.as_timedelta()


def test_parse_duration_counts_days_as_24_hours() -> None:
    assert parse_duration("2d") == dt.timedelta(hours=48)
    assert parse_duration("1w") == dt.timedelta(days=7)
    assert parse_duration("1d4h") == dt.timedelta(hours=28)
    assert parse_duration("P1DT2H") == dt.timedelta(hours=26)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "invalid duration '': use a number and a unit"),
        ("abc", "invalid duration 'abc'"),
        ("4", "invalid duration '4'"),
        ("4H", "invalid duration '4H'"),
        ("-4h", "invalid duration '-4h'"),
        ("4h1d", "write each unit once, largest first"),
        ("1h1h", "write each unit once, largest first"),
        ("P1M", "invalid duration 'P1M'"),
        ("P1Y", "invalid duration 'P1Y'"),
        ("P", "invalid duration 'P'"),
        ("PT", "invalid duration 'PT'"),
        ("99999999999w", "is too long"),
    ],
)
def test_invalid_durations(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Duration.parse(text)
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


def test_a_duration_that_is_not_text_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid duration 4"):
        Duration.parse(4)  # type: ignore[arg-type]


def test_a_duration_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        Duration(days=-1)


@pytest.mark.parametrize(
    ("start", "text", "due"),
    [
        (berlin(2026, 3, 24, 10), "1d", berlin(2026, 3, 25, 10)),  # Tuesday → Wednesday
        (berlin(2026, 3, 20, 16), "1d", berlin(2026, 3, 23, 16)),  # Friday → Monday
        (berlin(2026, 3, 24, 10), "2d", berlin(2026, 3, 26, 10)),
        (berlin(2026, 3, 24, 10), "1w", berlin(2026, 3, 31, 10)),  # Tuesday → Tuesday
        (berlin(2026, 3, 24, 10), "5d", berlin(2026, 3, 31, 10)),
        (berlin(2026, 3, 24, 10), "P1W", berlin(2026, 3, 31, 10)),
        (berlin(2026, 3, 21, 12), "1d", berlin(2026, 3, 24, 9)),  # Saturday: from Monday 09:00
        (berlin(2026, 3, 23, 17), "1d", berlin(2026, 3, 25, 9)),  # at closing: from Tuesday
        (berlin(2026, 3, 24, 15), "1d4h", berlin(2026, 3, 26, 11)),  # a day, then 4 hours
        (berlin(2026, 3, 24, 15), "P1DT4H", berlin(2026, 3, 26, 11)),
        (berlin(2026, 3, 24, 10), "0d", berlin(2026, 3, 24, 10)),
        (berlin(2026, 3, 24, 10), "8h", berlin(2026, 3, 25, 10)),  # hours: working time
        (berlin(2026, 3, 24, 10), "1.5d", berlin(2026, 3, 26, 14)),  # 1 day and 12 hours
        (berlin(2026, 3, 27, 10, 30, 15), "1d", berlin(2026, 3, 30, 10, 30, 15)),  # over DST
    ],
)
def test_days_and_weeks_on_a_calendar_are_working_days(
    start: dt.datetime, text: str, due: dt.datetime
) -> None:
    assert OFFICE.add(start, Duration.parse(text)) == due
    assert calendar_time(start, text, OFFICE) == due


def test_days_skip_holidays() -> None:
    easter = make_calendar(holidays=("2026-04-03", "2026-04-06"))  # Good Friday, Easter Monday
    assert easter.add(berlin(2026, 4, 2, 11), Duration(days=1)) == berlin(2026, 4, 7, 11)
    assert easter.add(berlin(2026, 3, 31, 11), Duration(weeks=1)) == berlin(2026, 4, 9, 11)
    assert easter.subtract(berlin(2026, 4, 7, 11), Duration(days=1)) == berlin(2026, 4, 2, 11)


def test_a_week_is_as_many_working_days_as_the_calendar_has_weekdays() -> None:
    six_days = make_calendar({day: (("09:00", "17:00"),) for day in range(6)})
    assert six_days.working_days_per_week == 6
    assert six_days.add(berlin(2026, 3, 24, 10), Duration(weeks=1)) == berlin(2026, 3, 31, 10)
    assert six_days.add(berlin(2026, 3, 24, 10), Duration(days=5)) == berlin(2026, 3, 30, 10)
    assert OFFICE.working_days_per_week == 5


def test_a_day_later_outside_that_days_hours_is_the_next_working_moment() -> None:
    short_saturday = make_calendar({**NINE_TO_FIVE, 5: (("10:00", "14:00"),)})
    assert short_saturday.add(berlin(2026, 3, 27, 16), Duration(days=1)) == berlin(2026, 3, 30, 9)
    assert short_saturday.add(berlin(2026, 3, 27, 11), Duration(days=1)) == berlin(2026, 3, 28, 11)
    assert short_saturday.subtract(berlin(2026, 3, 30, 16), Duration(days=1)) == berlin(
        2026, 3, 28, 14
    )


def test_days_on_a_round_the_clock_calendar_keep_the_clock_time() -> None:
    always = make_calendar(ALL_DAY)
    # Saturday 10:00 to Sunday 10:00 across the spring change: 23 hours.
    assert always.add(berlin(2026, 3, 28, 10), Duration(days=1)) == berlin(2026, 3, 29, 10)
    assert always.add(berlin(2026, 3, 28, 10), Duration(time=24 * HOUR)) == berlin(2026, 3, 29, 11)
    # A day whose clock time is skipped ends when the clock jumps.
    assert always.add(berlin(2026, 3, 28, 2, 30), Duration(days=1)) == berlin(2026, 3, 29, 3)


@pytest.mark.parametrize(
    ("end", "text", "before"),
    [
        (berlin(2026, 3, 26, 10), "2d", berlin(2026, 3, 24, 10)),
        (berlin(2026, 3, 23, 10), "1d", berlin(2026, 3, 20, 10)),
        (berlin(2026, 3, 26, 11), "1d4h", berlin(2026, 3, 24, 15)),  # 4 hours, then a day
        (berlin(2026, 3, 31, 10), "1w", berlin(2026, 3, 24, 10)),
        (berlin(2026, 3, 22, 12), "1d", berlin(2026, 3, 19, 17)),  # Sunday: from Friday 17:00
        (berlin(2026, 3, 24, 17), "1d", berlin(2026, 3, 23, 17)),
        (berlin(2026, 3, 24, 10), "0d", berlin(2026, 3, 24, 10)),
        (berlin(2026, 3, 24, 10), "2h", berlin(2026, 3, 23, 16)),
    ],
)
def test_subtract_days_and_hours(end: dt.datetime, text: str, before: dt.datetime) -> None:
    assert OFFICE.subtract(end, Duration.parse(text)) == before
    assert calendar_time_before(end, text, OFFICE) == before


@settings(max_examples=150, deadline=None)
@given(
    start=st.integers(0, 60 * 24 * 60).map(lambda m: berlin(2026, 3, 2) + m * MINUTE),
    days=st.integers(0, 30),
    hours=st.integers(0, 7),
)
def test_subtracting_a_duration_undoes_adding_it(start: dt.datetime, days: int, hours: int) -> None:
    calendar = make_calendar(holidays=("2026-04-03", "2026-04-06", "05-01"))
    duration = Duration(days=days, time=hours * HOUR)
    due = calendar.add(start, duration)
    assert calendar.working_time_between(calendar.subtract(due, duration), start) == dt.timedelta(0)


def test_calendar_time_without_a_calendar_is_elapsed_time() -> None:
    start = berlin(2026, 3, 28, 12)
    # 24 hours later across the spring change is 13:00 on the clock.
    assert calendar_time(start, "1d", None) == berlin(2026, 3, 29, 13)
    assert calendar_time(start, "1d", None).tzinfo is UTC
    elapsed_week = start.astimezone(UTC) + dt.timedelta(days=7)
    assert calendar_time(start, Duration(weeks=1), None) == elapsed_week
    assert calendar_time(start, dt.timedelta(hours=4), None) == berlin(2026, 3, 28, 16)
    assert calendar_time_before(start, "PT30M", None) == berlin(2026, 3, 28, 11, 30)
    assert calendar_time(start, "4h", OFFICE) == berlin(2026, 3, 30, 13)
    assert calendar_time(start, dt.timedelta(hours=4), OFFICE) == berlin(2026, 3, 30, 13)
    assert calendar_time_before(start, "4h", OFFICE) == berlin(2026, 3, 27, 13)
    with pytest.raises(ValueError, match="invalid duration 'soon'"):
        calendar_time(start, "soon", OFFICE)
