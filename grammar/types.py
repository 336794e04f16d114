"""The formula language's types, their Python values, and the decimal context.

| type          | Python value                    |
|---------------|---------------------------------|
| Number        | decimal.Decimal                 |
| Text          | str (never ""; empty is blank)  |
| Checkbox      | bool                            |
| Date          | datetime.date                   |
| DateTime      | aware datetime in UTC           |
| Time          | datetime.time                   |
| Picklist      | str                             |
| MultiPicklist | str, values joined by ";"       |
| Geolocation   | (Decimal, Decimal)              |
| Null          | None                            |

``Any`` is the type of a field when no schema is known: it is checked at run time.
Blank is ``None`` for every type.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any as _Any

from .errors import FormulaRuntimeError

NUMBER = "Number"
TEXT = "Text"
CHECKBOX = "Checkbox"
DATE = "Date"
DATETIME = "DateTime"
TIME = "Time"
PICKLIST = "Picklist"
MULTIPICKLIST = "MultiPicklist"
GEOLOCATION = "Geolocation"
NULL = "Null"
ANY = "Any"

#: The type names a schema may use.
TYPES = (NUMBER, TEXT, CHECKBOX, DATE, DATETIME, TIME, PICKLIST, MULTIPICKLIST, GEOLOCATION)

#: Other names accepted in a schema, and the type they mean.
ALIASES = {
    "currency": NUMBER,
    "percent": NUMBER,
    "integer": NUMBER,
    "boolean": CHECKBOX,
    "textarea": TEXT,
    "email": TEXT,
    "url": TEXT,
    "phone": TEXT,
    "id": TEXT,
}

_BY_LOWER = {name.lower(): name for name in (*TYPES, NULL, ANY)} | ALIASES

#: All arithmetic: 40 significant digits, halves rounded away from zero.
NUMBER_CONTEXT = Context(prec=40, rounding=ROUND_HALF_UP, Emin=-999999, Emax=999999)


def type_name(name: str) -> str:
    """The canonical type for a schema's type name (case-insensitive, aliases allowed).

    Raises ``ValueError`` naming the accepted types for anything else.
    """
    canonical = _BY_LOWER.get(str(name).strip().lower())
    if canonical is None:
        raise ValueError(f"Unknown type {name!r}. Use one of: {', '.join(TYPES)}")
    return canonical


def display(type_: str) -> str:
    """A type as Salesforce's messages write it (``Checkbox`` is ``Boolean``)."""
    return "Boolean" if type_ == CHECKBOX else type_


def is_textual(type_: str) -> bool:
    """Text and Picklist behave alike in comparisons and concatenation."""
    return type_ in (TEXT, PICKLIST)


# -- values ----------------------------------------------------------------------------


def to_decimal(value: _Any) -> Decimal:
    """A Python number as a Decimal (floats through their shortest repr)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise FormulaRuntimeError(f"Expected a Number, received Boolean {value}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise FormulaRuntimeError(f"The value '{value}' is not a valid number.") from None
    raise FormulaRuntimeError(f"Expected a Number, received {type(value).__name__}")


def to_utc(value: dt.datetime) -> dt.datetime:
    """An aware UTC datetime (naive values are taken to be UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    if value.utcoffset() == dt.timedelta(0) and value.tzinfo is dt.UTC:
        return value
    return value.astimezone(dt.UTC)


def normalize(value: _Any) -> _Any:
    """Turn an input value into the language's representation.

    ints and floats become Decimal, "" becomes blank, datetimes become aware UTC,
    lists of strings become a multi-select value.  Anything already normal is returned
    as it is.
    """
    cls = value.__class__
    if value is None or cls is Decimal or cls is bool or cls is dt.date or cls is dt.time:
        return value
    if cls is str:
        return value or None
    if cls is int or cls is float:
        return to_decimal(value)
    if isinstance(value, dt.datetime):
        return to_utc(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return ";".join(value) or None
    return value


def type_of(value: _Any) -> str:
    """The language type of a normalised Python value (``Null`` for blank)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return CHECKBOX
    if isinstance(value, Decimal):
        return NUMBER
    if isinstance(value, str):
        return TEXT
    if isinstance(value, dt.datetime):
        return DATETIME
    if isinstance(value, dt.date):
        return DATE
    if isinstance(value, dt.time):
        return TIME
    if isinstance(value, tuple) and len(value) == 2:
        return GEOLOCATION
    return ANY


def to_int(value: Decimal) -> int:
    """A whole number from a Number argument, truncated toward zero."""
    return int(value)


def parse_datetime(text: str) -> dt.datetime:
    """An ISO 8601 date-time (``Z`` or an offset; none means UTC) as aware UTC."""
    return to_utc(dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00")))


def coerce(value: _Any, type_: str) -> _Any:
    """A JSON or YAML value (numbers, ISO strings, lists) as the language value of ``type_``.

    Used where values arrive as text: the CLI's ``--values``, test data, API payloads.
    Raises ``ValueError`` naming the type when the value does not fit.
    """
    if value is None or value == "":
        return None
    try:
        if type_ == NUMBER:
            return to_decimal(value) if not isinstance(value, str) else Decimal(value.strip())
        if type_ == DATE:
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        if type_ == DATETIME:
            return to_utc(value) if isinstance(value, dt.datetime) else parse_datetime(value)
        if type_ == TIME:
            return value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))
        if type_ == CHECKBOX:
            if isinstance(value, bool):
                return value
            raise ValueError
        if type_ == GEOLOCATION:
            lat, lon = value
            return (to_decimal(lat), to_decimal(lon))
        if type_ in (TEXT, PICKLIST):
            return str(value)
        if type_ == MULTIPICKLIST:
            return normalize(value) if isinstance(value, (list, tuple)) else str(value)
    except (ValueError, TypeError, InvalidOperation, FormulaRuntimeError):
        raise ValueError(f"{value!r} is not a valid {display(type_)} value") from None
    return normalize(value)
