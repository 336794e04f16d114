"""Date and time functions: the clock, building and parsing dates, their parts,
month arithmetic, Unix time and durations.

Everything is computed in UTC (FORMULAS.md §8.5); only TODAY() and DATEVALUE(DateTime)
use the run's time zone (``env.tz``, UTC unless configured).  DateTimes are aware UTC
``datetime`` values and Times ``time`` values, both with millisecond precision.  Years
outside 1 to 9999 are a run-time error.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..errors import FormulaRuntimeError
from ..functions import builtin
from ..operators import time_ms, unix_ms
from ..types import NUMBER_CONTEXT, to_int, to_utc

CATEGORY = "Date and time"
UTC = dt.UTC
_EPOCH_DATE = dt.date(1970, 1, 1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_MIDNIGHT = dt.time(0, 0)

# -- helpers ---------------------------------------------------------------------------


def _year_error(name: str) -> FormulaRuntimeError:
    return FormulaRuntimeError(f"Year out of range (1 to 9999) in {name}() function")


def _invalid(text: str, kind: str, name: str) -> FormulaRuntimeError:
    return FormulaRuntimeError(f"The value '{text}' is not a valid {kind} for {name}()")


def _to_ms(value: dt.datetime) -> dt.datetime:
    """An aware UTC datetime with the microseconds cut to milliseconds."""
    value = to_utc(value)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _time_of(value: dt.datetime) -> dt.time:
    """The UTC time of day of a DateTime, to the millisecond."""
    return _to_ms(value).time().replace(tzinfo=None)


def _utc_date(value: dt.date) -> dt.date:
    """The date of a Date, or of a DateTime in UTC."""
    return to_utc(value).date() if isinstance(value, dt.datetime) else value


def _make_date(year: int, month: int, day: int, name: str) -> dt.date:
    """A strictly valid date; an invalid year, month or day is a run-time error."""
    if not 1 <= year <= 9999:
        raise _year_error(name)
    try:
        return dt.date(year, month, day)
    except (ValueError, OverflowError):
        raise FormulaRuntimeError(f"Month or Day out of range in {name}() function") from None


def _ms_fraction(digits: str | None) -> int:
    """Milliseconds from the digits after a decimal point (more than three are cut)."""
    return int((digits or "0")[:3].ljust(3, "0"))


# -- the clock -------------------------------------------------------------------------


# The clock functions are written inline by the compiler ({f} is the implementation):
# the captured clock ``now`` and the zone ``tz`` are locals of every evaluation.


@builtin("TODAY", "() -> Date", category=CATEGORY, inline="{f}(now, tz)")
def TODAY(now: dt.datetime, tz: dt.tzinfo | None) -> dt.date:
    """The current date (in UTC unless a time zone is configured for the run). NOW(),
    TODAY() and TIMENOW() read one clock, captured once per evaluation.

    Examples:
        TODAY() → 2024-03-05
        TODAY() - DATE(2024, 3, 1) → 4
    """
    return now.date() if tz is None else now.astimezone(tz).date()


@builtin("NOW", "() -> DateTime", category=CATEGORY, inline="{f}(now)")
def NOW(now: dt.datetime) -> dt.datetime:
    """The current instant, to the millisecond.

    Examples:
        NOW() → 2024-03-05 14:30:00Z
        NOW() + 1/24 → 2024-03-05 15:30:00Z
    """
    return _to_ms(now)


@builtin("TIMENOW", "() -> Time", category=CATEGORY, inline="{f}(now)")
def TIMENOW(now: dt.datetime) -> dt.time:
    """The current time of day in GMT, to the millisecond.

    Examples:
        TIMENOW() → 14:30:00.000
        HOUR(TIMENOW()) → 14
    """
    return _time_of(now)


# -- building and parsing ----------------------------------------------------------------


@builtin("DATE", "(Number, Number, Number) -> Date", category=CATEGORY)
def DATE(year: Decimal, month: Decimal, day: Decimal) -> dt.date:
    """The date of `year`, `month` and `day` (each truncated to a whole number). An
    invalid combination is an error; nothing rolls over into the next month.

    Examples:
        DATE(2024, 2, 29) → 2024-02-29
        DATE(2024, 3.9, 5.2) → 2024-03-05
        DATE(2023, 2, 29) → error
        DATE(10000, 1, 1) → error
    """
    return _make_date(to_int(year), to_int(month), to_int(day), "DATE")


_DATE_TEXT = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)", re.ASCII)


@builtin("DATEVALUE", "(Text|Date|DateTime) -> Date", category=CATEGORY, needs_env=True)
def DATEVALUE(env: Any, value: str | dt.date) -> dt.date:
    """The date of a DateTime (in UTC unless a time zone is configured for the run), a
    Date unchanged, or a Text that starts with a date written `YYYY-M-D` (four-digit
    year, one- or two-digit month and day; whatever follows the date is ignored). Text
    that does not start with a valid date is an error.

    Examples:
        DATEVALUE("2024-03-05") → 2024-03-05
        DATEVALUE("2024-3-5") → 2024-03-05
        DATEVALUE(DATETIMEVALUE("2024-03-05 23:30:00")) → 2024-03-05
        DATEVALUE("05/03/2024") → error
    """
    if isinstance(value, dt.datetime):
        return to_utc(value).astimezone(env.tz).date()
    if isinstance(value, dt.date):
        return value
    match = _DATE_TEXT.match(value.strip())
    if match is None:
        raise _invalid(value, "date", "DATEVALUE")
    try:
        return _make_date(*(int(part) for part in match.groups()), "DATEVALUE")
    except FormulaRuntimeError:
        raise _invalid(value, "date", "DATEVALUE") from None


_DATETIME_TEXT = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE | re.ASCII,
)


def _parse_datetime(text: str) -> dt.datetime:
    match = _DATETIME_TEXT.fullmatch(text.strip())
    if match is None or (match[8] and match[4] is None):
        raise _invalid(text, "date/time", "DATETIMEVALUE")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    offset = dt.timedelta(0)
    if zone and zone.upper() != "Z":
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise _invalid(text, "date/time", "DATETIMEVALUE")
        offset = dt.timedelta(hours=hours, minutes=minutes)
        offset = -offset if zone[0] == "-" else offset
    try:
        local = dt.datetime(
            int(year), int(month), int(day),
            int(hour or 0), int(minute or 0), int(second or 0), _ms_fraction(fraction) * 1000,
            tzinfo=dt.timezone(offset),
        )  # fmt: skip
    except ValueError:
        raise _invalid(text, "date/time", "DATETIMEVALUE") from None
    try:
        return local.astimezone(UTC)
    except OverflowError:
        raise _year_error("DATETIMEVALUE") from None


@builtin("DATETIMEVALUE", "(Text|Date|DateTime) -> DateTime", category=CATEGORY)
def DATETIMEVALUE(value: str | dt.date) -> dt.datetime:
    """A DateTime from Text written `YYYY-MM-DD HH:MM:SS` (read as GMT), from a Date
    (midnight GMT), or a DateTime unchanged. Also accepted: ISO 8601 such as
    `2024-03-05T14:30:00.250+01:00` (`T` or a space, optional milliseconds, optional `Z`
    or offset) and a date alone (midnight GMT). Other text is an error.

    Examples:
        DATETIMEVALUE("2024-03-05 14:30:00") → 2024-03-05 14:30:00Z
        DATETIMEVALUE("2024-03-05T14:30:00.250+01:00") → 2024-03-05 13:30:00.250Z
        DATETIMEVALUE(DATE(2024, 3, 5)) → 2024-03-05 00:00:00Z
        DATETIMEVALUE("soon") → error
    """
    if isinstance(value, dt.datetime):
        return _to_ms(value)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, _MIDNIGHT, tzinfo=UTC)
    return _parse_datetime(value)


_TIME_TEXT = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?", re.ASCII)


@builtin("TIMEVALUE", "(Text|DateTime) -> Time", category=CATEGORY)
def TIMEVALUE(value: str | dt.datetime) -> dt.time:
    """A Time from Text written `HH:MM:SS.mmm` (24-hour clock; `HH:MM` and `HH:MM:SS`
    are accepted too), or the GMT time of day of a DateTime. Other text is an error.

    Examples:
        TIMEVALUE("17:30:45.125") → 17:30:45.125
        TIMEVALUE("09:30") → 09:30:00.000
        TIMEVALUE(DATETIMEVALUE("2024-03-05 14:30:00")) → 14:30:00.000
        TIMEVALUE("25:00:00.000") → error
    """
    if isinstance(value, dt.datetime):
        return _time_of(value)
    match = _TIME_TEXT.fullmatch(value.strip())
    if match is None:
        raise _invalid(value, "time", "TIMEVALUE")
    hour, minute, second, fraction = match.groups()
    try:
        return dt.time(int(hour), int(minute), int(second or 0), _ms_fraction(fraction) * 1000)
    except ValueError:
        raise _invalid(value, "time", "TIMEVALUE") from None


# -- parts of a date ---------------------------------------------------------------------


@builtin("YEAR", "(Date) -> Number", category=CATEGORY)
def YEAR(date: dt.date) -> Decimal:
    """The year of a Date (for a DateTime, use YEAR(DATEVALUE(…))).

    Examples:
        YEAR(DATE(2024, 3, 5)) → 2024
        YEAR(DATEVALUE("1999-12-31")) → 1999
    """
    return Decimal(date.year)


@builtin("MONTH", "(Date) -> Number", category=CATEGORY)
def MONTH(date: dt.date) -> Decimal:
    """The month of a Date, 1 (January) to 12 (December).

    Examples:
        MONTH(DATE(2024, 3, 5)) → 3
        MONTH(DATE(2024, 12, 31)) → 12
    """
    return Decimal(date.month)


@builtin("DAY", "(Date) -> Number", category=CATEGORY)
def DAY(date: dt.date) -> Decimal:
    """The day of the month of a Date, 1 to 31.

    Examples:
        DAY(DATE(2024, 3, 5)) → 5
        DAY(DATE(2024, 2, 29)) → 29
    """
    return Decimal(date.day)


_WEEKDAYS = (None, *(Decimal(n % 7 + 1) for n in range(1, 8)))  # isoweekday → 1 = Sunday


@builtin("WEEKDAY", "(Date) -> Number", category=CATEGORY)
def WEEKDAY(date: dt.date) -> Decimal:
    """The day of the week of a Date: 1 for Sunday, 2 for Monday … 7 for Saturday.

    Examples:
        WEEKDAY(DATE(2024, 3, 5)) → 3
        WEEKDAY(DATE(2024, 3, 10)) → 1
        WEEKDAY(DATE(2024, 3, 9)) → 7
    """
    return _WEEKDAYS[date.isoweekday()]


@builtin("DAYOFYEAR", "(Date) -> Number", category=CATEGORY)
def DAYOFYEAR(date: dt.date) -> Decimal:
    """The day of the year of a Date, 1 to 366.

    Examples:
        DAYOFYEAR(DATE(2024, 3, 1)) → 61
        DAYOFYEAR(DATE(2024, 12, 31)) → 366
        DAYOFYEAR(DATE(2023, 12, 31)) → 365
    """
    return Decimal(date.timetuple().tm_yday)


@builtin("ISOWEEK", "(Date|DateTime) -> Number", category=CATEGORY)
def ISOWEEK(date: dt.date) -> Decimal:
    """The ISO 8601 week number, 1 to 53: weeks start on Monday and week 1 holds the
    year's first Thursday. A DateTime counts by its UTC date.

    Examples:
        ISOWEEK(DATE(2021, 1, 1)) → 53
        ISOWEEK(DATE(2024, 12, 30)) → 1
        ISOWEEK(DATE(2024, 3, 5)) → 10
    """
    return Decimal(_utc_date(date).isocalendar()[1])


@builtin("ISOYEAR", "(Date|DateTime) -> Number", category=CATEGORY)
def ISOYEAR(date: dt.date) -> Decimal:
    """The ISO 8601 week-numbering year: the year the date's ISO week belongs to, which
    differs from the calendar year for a few days around New Year. A DateTime counts by
    its UTC date.

    Examples:
        ISOYEAR(DATE(2021, 1, 1)) → 2020
        ISOYEAR(DATE(2024, 12, 30)) → 2025
        ISOYEAR(DATE(2024, 3, 5)) → 2024
    """
    return Decimal(_utc_date(date).isocalendar()[0])


# -- parts of a time ---------------------------------------------------------------------


@builtin("HOUR", "(Time) -> Number", category=CATEGORY)
def HOUR(time: dt.time) -> Decimal:
    """The hour of a Time, 0 to 23 (for a DateTime, use HOUR(TIMEVALUE(…)): its GMT hour).

    Examples:
        HOUR(TIMEVALUE("17:30:45.125")) → 17
        HOUR(TIMEVALUE(DATETIMEVALUE("2024-03-05 00:15:00"))) → 0
    """
    return Decimal(time.hour)


@builtin("MINUTE", "(Time) -> Number", category=CATEGORY)
def MINUTE(time: dt.time) -> Decimal:
    """The minute of a Time, 0 to 59.

    Examples:
        MINUTE(TIMEVALUE("17:30:45.125")) → 30
        MINUTE(TIMEVALUE("08:05")) → 5
    """
    return Decimal(time.minute)


@builtin("SECOND", "(Time) -> Number", category=CATEGORY)
def SECOND(time: dt.time) -> Decimal:
    """The second of a Time, 0 to 59.

    Examples:
        SECOND(TIMEVALUE("17:30:45.125")) → 45
        SECOND(TIMEVALUE("17:30")) → 0
    """
    return Decimal(time.second)


@builtin("MILLISECOND", "(Time) -> Number", category=CATEGORY)
def MILLISECOND(time: dt.time) -> Decimal:
    """The millisecond of a Time, 0 to 999.

    Examples:
        MILLISECOND(TIMEVALUE("17:30:45.125")) → 125
        MILLISECOND(TIMEVALUE("17:30:45")) → 0
    """
    return Decimal(time.microsecond // 1000)


# -- arithmetic --------------------------------------------------------------------------


def _add_months(date: dt.date, months: int) -> dt.date:
    """``date`` moved by ``months``: the last day of a month stays the last day,
    any other day is kept, clamped to the target month's length."""
    index = date.year * 12 + date.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise _year_error("ADDMONTHS")
    length = calendar.monthrange(year, month + 1)[1]
    is_last = date.day == calendar.monthrange(date.year, date.month)[1]
    return dt.date(year, month + 1, length if is_last else min(date.day, length))


@builtin("ADDMONTHS", "(T: Date|DateTime, Number) -> T", category=CATEGORY)
def ADDMONTHS(date: dt.date, months: Decimal) -> dt.date:
    """The Date or DateTime `months` months later (earlier when negative; truncated to a
    whole number). The last day of a month gives the last day of the target month; any
    other day stays the same, clamped to the target month's length. A DateTime keeps its
    time of day (in UTC).

    Examples:
        ADDMONTHS(DATE(2024, 1, 31), 1) → 2024-02-29
        ADDMONTHS(DATE(2023, 2, 28), 1) → 2023-03-31
        ADDMONTHS(DATE(2024, 1, 15), -1.9) → 2023-12-15
        ADDMONTHS(DATETIMEVALUE("2024-01-31 09:00:00"), 1) → 2024-02-29 09:00:00Z
    """
    count = to_int(months)
    if isinstance(date, dt.datetime):
        moment = to_utc(date)
        return dt.datetime.combine(_add_months(moment.date(), count), moment.timetz())
    return _add_months(date, count)


@builtin("UNIXTIMESTAMP", "(Date|DateTime|Time) -> Number", category=CATEGORY)
def UNIXTIMESTAMP(value: dt.date | dt.time) -> Decimal:
    """Whole seconds since 1970-01-01 00:00:00 GMT (a Date counts from its midnight GMT;
    fractions of a second are dropped). For a Time, seconds since midnight.

    Examples:
        UNIXTIMESTAMP(DATE(1970, 1, 2)) → 86400
        UNIXTIMESTAMP(DATETIMEVALUE("2024-01-01 00:00:00")) → 1704067200
        UNIXTIMESTAMP(TIMEVALUE("01:00:00.500")) → 3600
    """
    if isinstance(value, dt.datetime):
        ms = unix_ms(to_utc(value))
    elif isinstance(value, dt.date):
        ms = (value - _EPOCH_DATE).days * 86_400_000
    else:
        ms = time_ms(value)
    seconds = abs(ms) // 1000  # toward zero
    return Decimal(seconds if ms >= 0 else -seconds)


@builtin("FROMUNIXTIME", "(Number) -> DateTime", category=CATEGORY)
def FROMUNIXTIME(seconds: Decimal) -> dt.datetime:
    """The DateTime `seconds` seconds after 1970-01-01 00:00:00 GMT (before it when
    negative), to the millisecond.

    Examples:
        FROMUNIXTIME(0) → 1970-01-01 00:00:00Z
        FROMUNIXTIME(1704067200.5) → 2024-01-01 00:00:00.500Z
        FROMUNIXTIME(-86400) → 1969-12-31 00:00:00Z
    """
    ms = NUMBER_CONTEXT.multiply(seconds, Decimal(1000)).to_integral_value(ROUND_HALF_UP)
    try:
        return _EPOCH + dt.timedelta(milliseconds=int(ms))
    except (OverflowError, ValueError):
        raise _year_error("FROMUNIXTIME") from None


def _clock(seconds: int, days: bool) -> str:
    """``[D:]HH:MM:SS`` for a number of whole seconds."""
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    if not days:
        return f"{hours:02d}:{minute:02d}:{second:02d}"
    day, hour = divmod(hours, 24)
    return f"{day}:{hour:02d}:{minute:02d}:{second:02d}"


@builtin(
    "FORMATDURATION",
    ["(Number, [Checkbox]) -> Text", "(Time, Time) -> Text", "(DateTime, DateTime) -> Text"],
    category=CATEGORY,
)
def FORMATDURATION(first: Any, second: Any = False) -> str:
    """A duration as text; the sign is dropped and fractions of a second are truncated.
    From a number of seconds: `HH:MM:SS` (hours grow past 99 as needed), or `D:HH:MM:SS`
    when `includeDays` is TRUE. Between two Times: `HH:MM:SS`. Between two DateTimes:
    always `D:HH:MM:SS`.

    Examples:
        FORMATDURATION(3725) → "01:02:05"
        FORMATDURATION(1000000) → "277:46:40"
        FORMATDURATION(90061, TRUE) → "1:01:01:01"
        FORMATDURATION(NOW(), NOW() + 1/48) → "0:00:30:00"
    """
    if isinstance(first, Decimal) and isinstance(second, bool):
        return _clock(int(abs(first)), second)
    if isinstance(first, dt.datetime) and isinstance(second, dt.datetime):
        return _clock(abs(unix_ms(to_utc(second)) - unix_ms(to_utc(first))) // 1000, True)
    if isinstance(first, dt.time) and isinstance(second, dt.time):
        return _clock(abs(time_ms(second) - time_ms(first)) // 1000, False)
    raise FormulaRuntimeError(
        "Incorrect parameter type for function 'FORMATDURATION()'. "
        "Expected Number, Time or DateTime pairs"
    )
