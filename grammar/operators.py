"""Operators: which operand types each accepts, what it yields, and how it computes.

The tables here are the single source of truth for both the type checker (static
types) and the run-time dispatch used when a field's type is unknown (``Any``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from . import types as T
from .errors import FormulaRuntimeError

C = T.NUMBER_CONTEXT
UTC = dt.UTC
_MS_PER_DAY = Decimal(86_400_000)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_POWER_LIMIT = Decimal("1e64")

# -- numbers -----------------------------------------------------------------------------


def num_add(a: Decimal, b: Decimal) -> Decimal:
    return C.add(a, b)


def num_sub(a: Decimal, b: Decimal) -> Decimal:
    return C.subtract(a, b)


def num_mul(a: Decimal, b: Decimal) -> Decimal:
    return C.multiply(a, b)


def num_div(a: Decimal, b: Decimal) -> Decimal:
    if not b:
        raise FormulaRuntimeError("Division by zero")
    return C.divide(a, b)


def num_pow(base: Decimal, exponent: Decimal) -> Decimal:
    """``^``: a whole exponent, a result no larger than 1e64 in magnitude."""
    if exponent != exponent.to_integral_value():
        raise FormulaRuntimeError("Exponent of '^' must be a whole number")
    if not base:
        if exponent < 0:
            raise FormulaRuntimeError("Division by zero")
        return Decimal(1) if not exponent else Decimal(0)
    magnitude = abs(base)
    # log10 of the result decides before computing anything huge.
    if magnitude != 1 and C.multiply(exponent, magnitude.log10(C)) > 64:
        raise FormulaRuntimeError("Result of '^' is too large")
    try:
        result = C.power(base, exponent)
    except (InvalidOperation, ArithmeticError):
        raise FormulaRuntimeError("Result of '^' is out of range") from None
    if abs(result) > _POWER_LIMIT:
        raise FormulaRuntimeError("Result of '^' is too large")
    return result


def num_neg(a: Decimal) -> Decimal:
    return C.minus(a)


# -- dates and times ---------------------------------------------------------------------


def _whole_days(n: Decimal) -> int:
    return int(n)  # truncates toward zero


def _shift(moment: Any, **delta: int) -> Any:
    try:
        return moment + dt.timedelta(**delta)
    except OverflowError:
        raise FormulaRuntimeError("Date is out of range (years 1 to 9999)") from None


def date_plus(d: dt.date, n: Decimal) -> dt.date:
    return _shift(d, days=_whole_days(n))


def date_minus(d: dt.date, n: Decimal) -> dt.date:
    return date_plus(d, C.minus(n))


def date_diff(a: dt.date, b: dt.date) -> Decimal:
    return Decimal((a - b).days)


def _ms(n: Decimal) -> int:
    return int(C.multiply(n, _MS_PER_DAY).to_integral_value())


def datetime_plus(d: dt.datetime, n: Decimal) -> dt.datetime:
    return _shift(d, milliseconds=_ms(n))


def datetime_minus(d: dt.datetime, n: Decimal) -> dt.datetime:
    return datetime_plus(d, C.minus(n))


def datetime_diff(a: dt.datetime, b: dt.datetime) -> Decimal:
    delta = a - b
    ms = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return C.divide(Decimal(ms), _MS_PER_DAY)


def time_ms(t: dt.time) -> int:
    """Milliseconds since midnight."""
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.microsecond // 1000


def time_from_ms(ms: int) -> dt.time:
    ms %= 86_400_000
    seconds, milli = divmod(ms, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return dt.time(hour, minute, second, milli * 1000)


def time_plus(t: dt.time, n: Decimal) -> dt.time:
    total = time_ms(t) + int(n)
    if total < 0:
        raise FormulaRuntimeError("Time is before 00:00")
    return time_from_ms(total)


def time_minus(t: dt.time, n: Decimal) -> dt.time:
    return time_plus(t, C.minus(n))


def time_diff(a: dt.time, b: dt.time) -> Decimal:
    return Decimal((time_ms(a) - time_ms(b)) % 86_400_000)


# -- text --------------------------------------------------------------------------------


def concat(a: str | None, b: str | None) -> str | None:
    """``&``: a blank side is skipped; both blank is blank."""
    if a is None:
        return b
    if b is None:
        return a
    return a + b


# -- comparisons -------------------------------------------------------------------------


def text_eq(a: str | None, b: str | None) -> bool:
    """Text ``=``: blank equals the empty text."""
    return (a or "") == (b or "")


def ordered(op: str, a: Any, b: Any) -> bool:
    """``a op b`` for one of < <= > >=; text in UTF-16 code-unit order."""
    if isinstance(a, str) and not (a.isascii() and b.isascii()):
        a, b = a.encode("utf-16-be"), b.encode("utf-16-be")
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


# -- the tables --------------------------------------------------------------------------

N, X, D, DT, TM = T.NUMBER, T.TEXT, T.DATE, T.DATETIME, T.TIME

Impl = Callable[[Any, Any], Any]

#: operator → {(left type, right type): (result type, implementation)}
BINARY: dict[str, dict[tuple[str, str], tuple[str, Impl]]] = {
    "+": {
        (N, N): (N, num_add),
        (D, N): (D, date_plus),
        (N, D): (D, lambda a, b: date_plus(b, a)),
        (DT, N): (DT, datetime_plus),
        (N, DT): (DT, lambda a, b: datetime_plus(b, a)),
        (TM, N): (TM, time_plus),
        (X, X): (X, concat),
    },
    "-": {
        (N, N): (N, num_sub),
        (D, N): (D, date_minus),
        (D, D): (N, date_diff),
        (DT, N): (DT, datetime_minus),
        (DT, DT): (N, datetime_diff),
        (TM, N): (TM, time_minus),
        (TM, TM): (N, time_diff),
    },
    "*": {(N, N): (N, num_mul)},
    "/": {(N, N): (N, num_div)},
    "^": {(N, N): (N, num_pow)},
    "&": {(X, X): (X, concat)},
}

ORDERABLE = (N, X, D, DT, TM)
COMPARISON = ("=", "==", "<>", "!=", "<", "<=", ">", ">=")


def operand_type(type_: str) -> str:
    """Picklists take part in operators as Text."""
    return T.TEXT if type_ == T.PICKLIST else type_


def binary_error(op: str, left: str, right: str) -> tuple[str, str]:
    """Salesforce's message for an operand-type mismatch, and which side is at fault."""
    table = BINARY[op]
    lefts = _unique(key[0] for key in table)
    if left not in lefts:
        return _param_message("operator", op, lefts, left), "left"
    rights = _unique(key[1] for key in table if key[0] == left)
    if right == left and (left, right) not in table and op in ("+", "-"):
        return f"Incorrect argument type for operator '{op}'.", "right"
    return _param_message("operator", op, rights, right), "right"


def _unique(items: Any) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _param_message(what: str, name: str, expected: list[str], received: str) -> str:
    subject = f"function '{name}()'" if what == "function" else f"operator '{name}'"
    return (
        f"Incorrect parameter type for {subject}. Expected "
        f"{', '.join(T.display(t) for t in expected)}, received {T.display(received)}"
    )


def binary_result(op: str, left: str, right: str) -> tuple[str, Impl | None]:
    """Static typing of ``left op right``: the result type and the implementation.

    Returns ``(ANY, None)`` when either side is only known at run time; raises
    ``TypeError`` with Salesforce's message otherwise.
    """
    left, right = operand_type(left), operand_type(right)
    table = BINARY[op]
    if left == T.ANY or right == T.ANY:
        return T.ANY, None
    if left == T.NULL or right == T.NULL:
        # NULL fits any type: take the first row that fits the known side where it stands.
        for (a, b), (result, impl) in table.items():
            if left in (T.NULL, a) and right in (T.NULL, b):
                return result, impl
        raise TypeError(binary_error(op, left, right)[0])
    entry = table.get((left, right))
    if entry is None:
        raise TypeError(binary_error(op, left, right)[0])
    return entry


def comparison_check(op: str, left: str, right: str) -> None:
    """Raise ``TypeError`` with Salesforce's message when the operands cannot compare."""
    left, right = operand_type(left), operand_type(right)
    unusable = {T.GEOLOCATION, T.MULTIPICKLIST} & {left, right}
    if unusable and op in ("=", "==", "<>", "!="):
        # Multi-select picklists only work through INCLUDES and friends (FORMULAS §3.1).
        raise TypeError(f"Incorrect argument type for operator '{op}'.")
    if unusable:
        raise TypeError(_param_message("operator", op, list(ORDERABLE), unusable.pop()))
    if T.ANY in (left, right) or T.NULL in (left, right):
        return
    if op in ("=", "==", "<>", "!="):
        if left != right:
            raise TypeError(_param_message("operator", op, [left], right))
        return
    if left not in ORDERABLE:
        raise TypeError(_param_message("operator", op, list(ORDERABLE), left))
    if left != right:
        raise TypeError(_param_message("operator", op, [left], right))


# -- run-time dispatch for Any -----------------------------------------------------------


def dispatch_binary(op: str, a: Any, b: Any) -> Any:
    """``a op b`` when the operand types were unknown at compile time."""
    if op in ("+", "&") and (a is None or isinstance(a, str)) and (b is None or isinstance(b, str)):
        return concat(a, b)
    if a is None or b is None:
        return None
    left, right = T.type_of(a), T.type_of(b)
    entry = BINARY[op].get((left, right))
    if entry is None:
        raise FormulaRuntimeError(binary_error(op, left, right)[0])
    return entry[1](a, b)


def dispatch_compare(op: str, a: Any, b: Any, text_hint: bool = False) -> bool | None:
    """``a op b`` with blank rules, when operand types may be unknown until now."""
    textual = text_hint or isinstance(a, str) or isinstance(b, str)
    if op in ("=", "==", "<>", "!="):
        if textual and (a is None or isinstance(a, str)) and (b is None or isinstance(b, str)):
            equal = text_eq(a, b)
        elif a is None or b is None:
            return None
        else:
            try:
                comparison_check(op, T.type_of(a), T.type_of(b))
            except TypeError as error:
                raise FormulaRuntimeError(str(error)) from None
            equal = a == b
        return equal if op in ("=", "==") else not equal
    if a is None or b is None:
        return None
    try:
        comparison_check(op, T.type_of(a), T.type_of(b))
    except TypeError as error:
        raise FormulaRuntimeError(str(error)) from None
    return ordered(op, a, b)


def as_checkbox(value: Any, where: str) -> bool | None:
    """A run-time Checkbox: True, False or blank; any other type is an error."""
    if value is None or value is True or value is False:
        return value
    raise FormulaRuntimeError(
        f"Incorrect parameter type for {where}. Expected Boolean, received "
        f"{T.display(T.type_of(value))}"
    )


def as_number(value: Any, where: str) -> Decimal | None:
    """A run-time Number, for unary minus on an unknown type."""
    if value is None or isinstance(value, Decimal):
        return value
    raise FormulaRuntimeError(
        f"Incorrect parameter type for {where}. Expected Number, received "
        f"{T.display(T.type_of(value))}"
    )


def expect_type(value: Any, allowed: frozenset[str], where: str) -> Any:
    """A value whose type was unknown at compile time, checked against a parameter."""
    if value is None:
        return None
    actual = T.type_of(value)
    if actual in allowed or (actual == T.TEXT and {T.PICKLIST, T.MULTIPICKLIST} & allowed):
        return value
    order = [*T.TYPES, T.NULL, T.ANY]
    raise FormulaRuntimeError(
        _param_message("function", where, sorted(allowed, key=order.index), actual)
    )


def unix_ms(value: dt.datetime) -> int:
    """Milliseconds since the Unix epoch."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
