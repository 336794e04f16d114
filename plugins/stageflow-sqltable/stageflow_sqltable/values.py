"""Values between a database and Stageflow records, and cursors that hold them.

A record holds JSON-ready values: numbers, booleans, text, and dates, datetimes (in
UTC) and times as ISO 8601 text.  Databases hold their own types, and SQLite holds dates
as text.  :func:`record_value` reads a column's value into a record, whatever form it
is stored in; :func:`database_value` checks a record's value against a column and gives
it in the form the database takes.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from stageflow.records import to_json_value

_TRUE = {"1", "t", "true", "y", "yes", "on"}


@dataclass(frozen=True)
class Column:
    """One column of a mapped table, with what a value must be to fit in it."""

    name: str
    type: str  # a record field type: text, number, checkbox, date, datetime or time
    whole: bool = False  # an integer column
    aware: bool = False  # a datetime column with a time zone (PostgreSQL's timestamptz)
    max_length: int | None = None  # of text
    max_digits: int | None = None  # of a number, before the decimal point
    required: bool = False  # NOT NULL without a default: a new row needs a value


def record_value(kind: str, value: Any) -> Any:
    """A value as the database gives it, as a record holds it (JSON-ready)."""
    if value is None:
        return None
    try:
        if kind == "number":
            return to_json_value(_decimal(value))
        if kind == "checkbox":
            return value if isinstance(value, bool) else str(value).strip().lower() in _TRUE
        if kind == "datetime":
            return _utc(_moment(value)).isoformat()
        if kind == "date":
            day = value if isinstance(value, dt.date) else _moment(value)
            return (day.date() if isinstance(day, dt.datetime) else day).isoformat()
        if kind == "time":
            clock = value if isinstance(value, dt.time) else dt.time.fromisoformat(value)
            return clock.isoformat()
    except (TypeError, ValueError, OverflowError):
        return str(value)  # not what the column's type says: shown as stored
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict | list):  # PostgreSQL's json columns
        return json.dumps(value)
    return value if isinstance(value, str) else str(value)


def database_value(column: Column, value: Any, sqlite: bool) -> Any:
    """A record value as the column takes it; ValueError says why it cannot."""
    if value is None or (value == "" and column.type != "text"):
        return None
    if column.type == "number":
        number = _decimal(value)
        digits = number.adjusted() + 1  # before the decimal point
        if column.max_digits is not None and digits > column.max_digits:
            raise ValueError(f"must have at most {column.max_digits} digits before the point")
        if column.whole:
            if number != number.to_integral_value():
                raise ValueError("must be a whole number")
            return int(number)
        return float(number) if sqlite else number  # sqlite3 cannot pass a Decimal
    if column.type == "checkbox":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if column.type == "datetime":
        moment = _utc(_parsed(dt.datetime, value, "a date and time (ISO 8601)"))
        if sqlite:  # SQLite compares dates as text: one format, the one it writes itself
            return moment.replace(tzinfo=None).isoformat(" ")
        return moment if column.aware else moment.replace(tzinfo=None)
    if column.type == "date":
        day = _parsed(dt.date, value, "a date (YYYY-MM-DD)")
        return day.isoformat() if sqlite else day
    if column.type == "time":
        clock = _parsed(dt.time, value, "a time (HH:MM:SS)")
        return clock.isoformat() if sqlite else clock
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("must be text")
    text = str(value)
    if column.max_length is not None and len(text) > column.max_length:
        raise ValueError(f"must be at most {column.max_length} characters long")
    return text


def _decimal(value: Any) -> Decimal:
    if not isinstance(value, bool) and isinstance(value, int | float | Decimal | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            pass
        else:
            if number.is_finite():
                return number
    raise ValueError("must be a number")


def _parsed(kind: type[dt.date] | type[dt.time], value: Any, description: str) -> Any:
    """``value`` as a datetime, date or time, from one or from ISO 8601 text."""
    if isinstance(value, kind) and (kind is not dt.date or not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, str):
        try:
            return kind.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"must be {description}")


def _moment(value: Any) -> dt.datetime:
    """A stored datetime: a datetime, ISO 8601 text, or seconds since 1970."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return dt.datetime.fromisoformat(str(value))


def _utc(moment: dt.datetime) -> dt.datetime:
    """In UTC; a datetime without a time zone is taken to be in UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


# -- cursors: values as the database holds them, as text ------------------------------

#: Values a cursor keeps beyond JSON's own, by tag: the type, and how to read it back.
_CURSOR_TYPES: tuple[tuple[str, type, Callable[[str], Any]], ...] = (
    ("datetime", dt.datetime, dt.datetime.fromisoformat),  # before date: it is one too
    ("date", dt.date, dt.date.fromisoformat),
    ("time", dt.time, dt.time.fromisoformat),
    ("decimal", Decimal, Decimal),
    ("uuid", uuid.UUID, uuid.UUID),
)


def dump_cursor(values: Sequence[Any]) -> str:
    """Values read from the database as cursor text; :func:`load_cursor` gives them back."""

    def tagged(value: Any) -> Any:
        tag = next((tag for tag, kind, _ in _CURSOR_TYPES if isinstance(value, kind)), None)
        return value if tag is None else {tag: str(value)}

    return json.dumps([tagged(value) for value in values], separators=(",", ":"))


def load_cursor(text: str) -> list[Any]:
    """The values of a cursor text; ValueError if it is not one."""
    readers = {tag: read for tag, _, read in _CURSOR_TYPES}

    def untagged(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        ((tag, written),) = value.items()
        return readers[tag](written)

    try:
        values = json.loads(text)
        if not isinstance(values, list) or len(values) != 2:
            raise ValueError(text)
        return [untagged(value) for value in values]
    except (ValueError, TypeError, KeyError, ArithmeticError):
        raise ValueError(f"Invalid cursor {text!r}") from None
