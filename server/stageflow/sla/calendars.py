"""Business time: working hours, holidays and time zones, for SLA due times.

A :class:`BusinessCalendar` is built from a calendar definition
(:class:`~stageflow.definitions.spec.CalendarSpec`) and answers "when is four working
hours after Friday 16:00?", "how much working time lies between these two moments?" and
"which days are holidays?".  Its methods take aware datetimes in any zone and return UTC.

The rules:

* **Working hours are wall-clock times in the calendar's time zone.**  A window
  ``09:00-17:00`` holds 09:00 and not 17:00; ``00:00-24:00`` is the whole day; a day may
  have several windows, and overlapping or touching ones are merged.  Working time is
  real elapsed time inside the windows.
* **Daylight saving time.**  09:00 stays 09:00 local, so a 09:00–17:00 day is 8 working
  hours on either side of a change.  A window boundary that falls in a skipped hour
  (02:30 on a spring-forward night) is the first moment after the gap; one that falls in
  a repeated hour is its first occurrence.  A window across the change counts the time
  that really passes: ``00:00-24:00`` is 23 hours on the spring-forward day and 25 on
  the fall-back day.
* **Holidays** are days off: a date (``2026-12-25``), or ``MM-DD`` for every year
  (``01-01``).  A yearly ``02-29`` is a holiday in leap years only.
* **Durations on a calendar.**  ``s``, ``m`` and ``h`` count working time: ``4h`` from
  Friday 16:00 on a Monday–Friday 09:00–17:00 calendar is Monday 12:00.  ``d`` counts
  working days: the same clock time on the n-th next working day (a day with working
  hours that is not a holiday), or the next working moment after it if that day is not
  working then.  ``w`` counts weeks of working days, each as many as the calendar has
  working weekdays (five for Monday–Friday), so ``1w`` from Tuesday 10:00 is the next
  Tuesday 10:00 unless a holiday intervenes.  Days and weeks are counted first, then the
  hours (``1d4h``); going back (:meth:`BusinessCalendar.subtract`) the hours go first.
  A fraction of a day or week (``1.5d``) adds that share of 24 hours as working time,
  so write whole days and hours (``1d12h``) instead.
* **Where counting starts.**  A start outside working time counts from the next working
  moment, so a zero duration gives the next working moment at or after the start.
  Counting back from an end outside working time starts at the end of the last working
  window before it (so zero before Saturday noon is Friday's closing time).
* **Without a calendar** durations are plain elapsed time: ``1d`` is 24 hours.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stageflow.definitions.durations import DURATION_HELP
from stageflow.definitions.durations import parse_duration as duration_seconds
from stageflow.definitions.spec import CalendarSpec

_DAY = dt.timedelta(days=1)
_WEEK = dt.timedelta(weeks=1)
_DAY_SECONDS = 86400
_WEEK_SECONDS = 7 * _DAY_SECONDS

#: A working window: from and until (exclusive) as time since local midnight.
Window = tuple[dt.timedelta, dt.timedelta]
#: Working time between two UTC moments, the end exclusive.
Interval = tuple[dt.datetime, dt.datetime]


# -- durations -------------------------------------------------------------------------

_UNIT_ORDER = "wdhms"
_COMBINED = re.compile(r"(?:\s*\d+(?:\.\d+)?\s*[wdhms])+\s*\Z")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])", re.IGNORECASE)


@dataclass(frozen=True)
class Duration:
    """A duration as written: whole weeks, whole days, and the rest as ``time``.

    On a calendar, weeks and days count working days and ``time`` counts working time;
    without one, a day is 24 hours (see the module docstring).
    """

    weeks: int = 0
    days: int = 0
    time: dt.timedelta = dt.timedelta(0)

    def __post_init__(self) -> None:
        if self.weeks < 0 or self.days < 0 or self.time < dt.timedelta(0):
            raise ValueError(f"a duration cannot be negative: {self}")

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Read ``30s``, ``15m``, ``4h``, ``2d``, ``1w``, ``1d4h`` or ISO 8601 (``P1DT2H``).

        Raises ValueError, saying what to write, for anything else.
        """
        weeks = days = 0
        seconds = 0.0
        try:
            for amount, unit in _duration_parts(text):
                part = duration_seconds(amount + unit)
                if unit == "w":
                    whole, part = divmod(part, _WEEK_SECONDS)
                    weeks += int(whole)
                if unit in "wd":
                    whole, part = divmod(part, _DAY_SECONDS)
                    days += int(whole)
                seconds += part
            duration = cls(weeks, days, dt.timedelta(seconds=seconds))
            duration.as_timedelta()  # beyond what a timedelta holds: too long
        except OverflowError:
            raise ValueError(f"duration {text!r} is too long") from None
        return duration

    def as_timedelta(self) -> dt.timedelta:
        """The elapsed time this duration stands for without a calendar (a day is 24h)."""
        return dt.timedelta(weeks=self.weeks, days=self.days) + self.time


def _duration_parts(text: object) -> list[tuple[str, str]]:
    """``"1d4h"`` → ``[("1", "d"), ("4", "h")]``; ISO 8601 checked by the definitions parser."""
    if not isinstance(text, str):
        raise ValueError(f"invalid duration {text!r}: {DURATION_HELP}")
    if text.strip()[:1] in ("P", "p"):
        duration_seconds(text)  # raises for anything but ISO 8601 weeks, days and time
        return [(amount, unit.lower()) for amount, unit in _PART.findall(text)]
    if not _COMBINED.match(text):
        raise ValueError(
            f"invalid duration {text!r}: {DURATION_HELP}; units may be combined, largest first"
            " (1d4h)"
        )
    parts = _PART.findall(text)
    units = [unit for _, unit in parts]
    if units != sorted(set(units), key=_UNIT_ORDER.index):
        raise ValueError(
            f"invalid duration {text!r}: write each unit once, largest first (1d4h, 2h30m)"
        )
    return parts


def parse_duration(text: str) -> dt.timedelta:
    """The elapsed time of a duration text (``4h``, ``1d4h``, ``PT4H``); a day is 24 hours.

    On a calendar, use :meth:`Duration.parse`, which keeps days apart from hours.
    Raises ValueError with what to write instead.
    """
    return Duration.parse(text).as_timedelta()


# -- calendars -------------------------------------------------------------------------

_CLOCK = re.compile(r"\s*(\d\d):(\d\d)\s*\Z")


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"business time needs an aware datetime, got {moment.isoformat()} without a time zone"
        )
    return moment.astimezone(dt.UTC)


class BusinessCalendar:
    """Working hours per weekday in a time zone, and holidays (rules: module docstring).

    ``hours`` maps weekdays (0 = Monday) to ``("HH:MM", "HH:MM")`` windows; ``holidays``
    holds ISO dates and ``MM-DD`` for yearly ones.  Raises ValueError for an unknown time
    zone, a malformed window or holiday, and a calendar without working time.
    """

    def __init__(
        self,
        name: str,
        time_zone: str,
        hours: Mapping[int, Iterable[tuple[str, str]]],
        holidays: Iterable[str] = (),
    ) -> None:
        self.name = name
        try:
            self.zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(
                f"calendar {name!r}: unknown time zone {time_zone!r}; use a name"
                " such as Europe/Berlin or America/New_York"
            ) from None
        self._windows = self._weekly_windows(hours)
        self._fixed_holidays, self._yearly_holidays = self._parse_holidays(holidays)
        if not any(self._windows):
            raise ValueError(
                f"calendar {name!r} has no working hours: give working hours for"
                " at least one weekday, such as mon-fri: 09:00-17:00"
            )
        if len(self._yearly_holidays) == 366:
            raise ValueError(f"calendar {name!r} has no working days: every day is a holiday")
        self._week_total = sum(
            (end - start for day in self._windows for start, end in day), dt.timedelta(0)
        )
        self.working_days_per_week = sum(1 for day in self._windows if day)

    @classmethod
    def from_spec(cls, spec: CalendarSpec) -> BusinessCalendar:
        """The calendar a ``kind: calendar`` definition describes."""
        return cls(spec.name, spec.time_zone, spec.hours, spec.holidays)

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.name!r}, {self.zone.key!r})"

    # -- building ----------------------------------------------------------------------

    def _weekly_windows(
        self, hours: Mapping[int, Iterable[tuple[str, str]]]
    ) -> tuple[tuple[Window, ...], ...]:
        by_day: dict[int, list[Window]] = {day: [] for day in range(7)}
        for key, windows in hours.items():
            day = int(key)
            if day not in by_day:
                raise ValueError(
                    f"calendar {self.name!r}: weekday {key!r} is not 0 (Monday) to 6 (Sunday)"
                )
            by_day[day].extend(self._window(start, end) for start, end in windows)
        return tuple(_merged(by_day[day]) for day in range(7))

    def _window(self, start: str, end: str) -> Window:
        window = self._clock(start), self._clock(end)
        if window[0] >= window[1]:
            raise ValueError(
                f"calendar {self.name!r}: working hours {start}-{end} end before they start"
            )
        return window

    def _clock(self, text: str) -> dt.timedelta:
        match = _CLOCK.match(text) if isinstance(text, str) else None
        hours, minutes = (int(g) for g in match.groups()) if match else (99, 0)
        if hours > 24 or minutes > 59 or (hours == 24 and minutes):
            raise ValueError(
                f"calendar {self.name!r}: invalid time {text!r}; use HH:MM from 00:00 to 24:00"
            )
        return dt.timedelta(hours=hours, minutes=minutes)

    def _parse_holidays(
        self, holidays: Iterable[str]
    ) -> tuple[frozenset[dt.date], frozenset[tuple[int, int]]]:
        fixed: set[dt.date] = set()
        yearly: set[tuple[int, int]] = set()
        for text in holidays:
            try:
                if len(text) == 5:
                    month, day = int(text[:2]), int(text[3:])
                    dt.date(2000, month, day)  # a leap year: 02-29 is a valid yearly holiday
                    yearly.add((month, day))
                else:
                    fixed.add(dt.date.fromisoformat(text))
            except (TypeError, ValueError):
                raise ValueError(
                    f"calendar {self.name!r}: invalid holiday {text!r}; use a date"
                    " (2026-12-25) or MM-DD for every year (01-01)"
                ) from None
        return frozenset(fixed), frozenset(yearly)

    # -- days, windows and intervals ---------------------------------------------------

    def is_holiday(self, day: dt.date) -> bool:
        """Whether ``day`` is a holiday (a fixed date, or a yearly one)."""
        return day in self._fixed_holidays or (day.month, day.day) in self._yearly_holidays

    def _is_working_day(self, day: dt.date) -> bool:
        return bool(self._windows[day.weekday()]) and not self.is_holiday(day)

    def _local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.zone).date()

    def _instant(self, day: dt.date, since_midnight: dt.timedelta) -> dt.datetime:
        """The UTC moment of a wall-clock time on a local day (24:00 is the next midnight).

        A repeated time is its first occurrence; a skipped one the first moment after the
        gap.
        """
        wall = dt.datetime.combine(day, dt.time()) + since_midnight
        moment = wall.replace(tzinfo=self.zone).astimezone(dt.UTC)  # fold=0: the first one
        if moment.astimezone(self.zone).replace(tzinfo=None) == wall:
            return moment
        return self._end_of_gap(wall)

    def _end_of_gap(self, wall: dt.datetime) -> dt.datetime:
        """The moment the clock jumps over ``wall``, a time the zone skips."""
        # Read with the offset after the jump, ``wall`` lies before it; with the offset
        # before, after it.  Bisect for the first second whose local time passed ``wall``.
        low = math.floor(wall.replace(tzinfo=self.zone, fold=1).timestamp())
        high = math.floor(wall.replace(tzinfo=self.zone, fold=0).timestamp())
        low, high = min(low, high), max(low, high)
        while high - low > 1:
            middle = (low + high) // 2
            local = dt.datetime.fromtimestamp(middle, self.zone).replace(tzinfo=None)
            low, high = (low, middle) if local > wall else (middle, high)
        return dt.datetime.fromtimestamp(high, dt.UTC)

    def _day_intervals(self, day: dt.date) -> list[Interval]:
        """The working time of a local day, as UTC intervals in order."""
        if self.is_holiday(day):
            return []
        intervals = []
        for start, end in self._windows[day.weekday()]:
            interval = self._instant(day, start), self._instant(day, end)
            if interval[0] < interval[1]:  # a window inside a skipped hour is empty
                intervals.append(interval)
        return intervals

    def _forward(self, moment: dt.datetime) -> Iterator[Interval]:
        """Working intervals from ``moment`` on, in order, the first cut to start there."""
        day = self._local_date(moment)  # earlier days end by this day's midnight
        while True:
            for start, end in self._day_intervals(day):
                if end > moment:
                    yield max(start, moment), end
            day += _DAY

    def _backward(self, moment: dt.datetime) -> Iterator[Interval]:
        """Working intervals before ``moment``, latest first, the first cut to end there."""
        # The next day too: after a fall-back across midnight it may begin before moment.
        day = self._local_date(moment) + _DAY
        while True:
            for start, end in reversed(self._day_intervals(day)):
                if start < moment:
                    yield start, min(end, moment)
            day -= _DAY

    def _time_in(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """The working time from ``start`` to a later ``end``, interval by interval."""
        total = dt.timedelta(0)
        for begin, finish in self._forward(start):
            if begin >= end:
                return total
            total += min(finish, end) - begin
        raise AssertionError("unreachable: working intervals never run out")

    def _walk(self, moment: dt.datetime, duration: dt.timedelta, forward: bool) -> dt.datetime:
        """``duration`` of working time after (or before) ``moment``, interval by interval."""
        for begin, end in self._forward(moment) if forward else self._backward(moment):
            if duration <= end - begin:
                return begin + duration if forward else end - duration
            duration -= end - begin
        raise AssertionError("unreachable: working intervals never run out")

    def _plain_week(self, start: dt.datetime) -> bool:
        """Whether the week from ``start`` holds exactly the weekly working time.

        It does when no day of it is a holiday and the zone's UTC offset does not change.
        Offsets are compared a day apart: zones never change and change back within a day.
        """
        first = self._local_date(start)
        if any(self.is_holiday(first + n * _DAY) for n in range(8)):
            return False
        offset = start.astimezone(self.zone).utcoffset()
        return all(
            (start + n * _DAY).astimezone(self.zone).utcoffset() == offset for n in range(1, 8)
        )

    def _midnight(self, moment: dt.datetime, forward: bool) -> dt.datetime:
        """The first local midnight after ``moment`` (or the last one before it)."""
        day = self._local_date(moment) + (_DAY if forward else dt.timedelta(0))
        while True:
            midnight = self._instant(day, dt.timedelta(0))
            if (midnight > moment) if forward else (midnight < moment):
                return midnight
            day += _DAY if forward else -_DAY

    def _spans(
        self, moment: dt.datetime, forward: bool
    ) -> Iterator[tuple[dt.datetime, dt.datetime, dt.timedelta]]:
        """Consecutive spans from ``moment`` on (or back), each with its working time.

        A span is a whole week where that holds exactly the weekly hours, so long
        durations are counted a week at a time, and otherwise the rest of a local day.
        """
        while True:
            after = moment + (_WEEK if forward else -_WEEK)
            if self._plain_week(min(moment, after)):
                working = self._week_total
            else:
                after = self._midnight(moment, forward)
                working = self._time_in(*sorted((moment, after)))
            yield moment, after, working
            moment = after

    def _shift_time(self, moment: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """``duration`` of working time after ``moment``; a negative one goes back."""
        forward = duration >= dt.timedelta(0)
        remaining = abs(duration)
        for begin, _, working in self._spans(moment, forward):
            if remaining <= working:
                return self._walk(begin, remaining, forward)
            remaining -= working
        raise AssertionError("unreachable: working spans never run out")

    # -- working time ------------------------------------------------------------------

    def is_working(self, moment: dt.datetime) -> bool:
        """Whether ``moment`` falls in working time."""
        moment = _utc(moment)
        day = self._local_date(moment)
        return any(
            start <= moment < end
            for other in (day - _DAY, day, day + _DAY)
            for start, end in self._day_intervals(other)
        )

    def next_working(self, moment: dt.datetime) -> dt.datetime:
        """The first working moment at or after ``moment`` (``moment`` itself if working)."""
        return next(self._forward(_utc(moment)))[0]

    def _last_working(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` if it is working time or ends it, else the end of the last window
        before it (the mirror of :meth:`next_working`)."""
        return moment if self.is_working(moment) else next(self._backward(moment))[1]

    def add(self, start: dt.datetime, duration: dt.timedelta | Duration) -> dt.datetime:
        """The moment ``duration`` of working time after ``start``.

        A :class:`Duration` counts its weeks and days as working days, then its time; a
        timedelta is all working time (a negative one goes back).  A start outside
        working time counts from the next working moment.
        """
        start = _utc(start)
        if isinstance(duration, Duration):
            start = self._add_days(start, self._whole_days(duration))
            duration = duration.time
        return self._shift_time(start, duration)

    def subtract(self, end: dt.datetime, duration: dt.timedelta | Duration) -> dt.datetime:
        """The moment ``duration`` of working time before ``end`` (warnings before a due
        time, "two working days before a date").

        A :class:`Duration` goes back its time first, then its weeks and days as working
        days.  An end outside working time counts from the end of the last window before
        it, so a zero duration gives ``end`` itself if it is working time, else that end.
        """
        end = _utc(end)
        time = duration.time if isinstance(duration, Duration) else duration
        moment = self._last_working(end) if not time else self._shift_time(end, -time)
        if isinstance(duration, Duration):
            moment = self._subtract_days(moment, self._whole_days(duration))
        return moment

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """The working time from ``start`` to ``end`` (negative when ``end`` comes first)."""
        start, end = _utc(start), _utc(end)
        if end < start:
            return -self.working_time_between(end, start)
        total = dt.timedelta(0)
        for begin, after, working in self._spans(start, forward=True):
            if after >= end:
                return total + self._time_in(begin, end)
            total += working
        raise AssertionError("unreachable: working spans never run out")

    # -- working days ------------------------------------------------------------------

    def _whole_days(self, duration: Duration) -> int:
        return duration.weeks * self.working_days_per_week + duration.days

    def _clock_time(self, moment: dt.datetime) -> tuple[dt.date, dt.timedelta]:
        local = moment.astimezone(self.zone).replace(tzinfo=None)
        return local.date(), local - dt.datetime.combine(local.date(), dt.time())

    def _add_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """The same clock time on the ``days``-th next working day (from the next working
        moment), or the next working moment after it."""
        moment = self.next_working(start)
        if not days:
            return moment
        day, clock = self._clock_time(moment)
        for _ in range(days):
            day += _DAY
            while not self._is_working_day(day):
                day += _DAY
        return self.next_working(self._instant(day, clock))

    def _subtract_days(self, end: dt.datetime, days: int) -> dt.datetime:
        """The same clock time on the ``days``-th working day before (from the last
        working moment), or the last working moment before it."""
        moment = self._last_working(end)
        if not days:
            return moment
        day, clock = self._clock_time(moment)
        for _ in range(days):
            day -= _DAY
            while not self._is_working_day(day):
                day -= _DAY
        return self._last_working(self._instant(day, clock))

    # -- holidays ----------------------------------------------------------------------

    def holidays_between(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """The holidays from ``first`` to ``last``, both included, in order (including
        those that fall on days without working hours)."""
        found = {day for day in self._fixed_holidays if first <= day <= last}
        for year in range(first.year, last.year + 1):
            for month, day in self._yearly_holidays:
                try:
                    date = dt.date(year, month, day)
                except ValueError:  # 02-29 outside a leap year
                    continue
                if first <= date <= last:
                    found.add(date)
        return sorted(found)

    def next_holidays(self, after: dt.date, count: int) -> list[dt.date]:
        """The first ``count`` holidays after the day ``after``, in order (fewer if the
        calendar has no more)."""
        if count < 0:
            raise ValueError(f"count must be 0 or more, not {count}")
        last_fixed = max((day.year for day in self._fixed_holidays), default=after.year)
        found: list[dt.date] = []
        year = after.year
        while len(found) < count and year <= dt.MAXYEAR:
            if not self._yearly_holidays and year > last_fixed:
                break
            year_holidays = self.holidays_between(dt.date(year, 1, 1), dt.date(year, 12, 31))
            found += [day for day in year_holidays if day > after]
            year += 1
        return found[:count]


def _merged(windows: Iterable[Window]) -> tuple[Window, ...]:
    """Windows in order, overlapping and touching ones merged."""
    merged: list[Window] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


# -- without or with a calendar --------------------------------------------------------


def calendar_time(
    start: dt.datetime,
    duration: dt.timedelta | Duration | str,
    calendar: BusinessCalendar | None,
) -> dt.datetime:
    """The moment ``duration`` after ``start``: working time on ``calendar``, plain elapsed
    time without one.  A text duration is read with :meth:`Duration.parse`."""
    return _shift(start, duration, calendar, forward=True)


def calendar_time_before(
    end: dt.datetime,
    duration: dt.timedelta | Duration | str,
    calendar: BusinessCalendar | None,
) -> dt.datetime:
    """The moment ``duration`` before ``end``: working time on ``calendar``, plain elapsed
    time without one.  A text duration is read with :meth:`Duration.parse`."""
    return _shift(end, duration, calendar, forward=False)


def _shift(
    moment: dt.datetime,
    duration: dt.timedelta | Duration | str,
    calendar: BusinessCalendar | None,
    forward: bool,
) -> dt.datetime:
    if isinstance(duration, str):
        duration = Duration.parse(duration)
    if calendar is not None:
        return calendar.add(moment, duration) if forward else calendar.subtract(moment, duration)
    if isinstance(duration, Duration):
        duration = duration.as_timedelta()
    return _utc(moment) + duration if forward else _utc(moment) - duration
