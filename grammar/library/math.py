"""Math functions: rounding, remainders, extremes, powers, logarithms, trigonometry, and
the Geolocation pair (GEOLOCATION, DISTANCE).

Exact functions compute with :data:`~stageflow.grammar.types.NUMBER_CONTEXT`; the
transcendental ones (SQRT, EXP, LN, LOG, trigonometry, DISTANCE) compute in double
precision, as Salesforce does, and return the float's shortest repr as a Decimal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    InvalidOperation,
)
from typing import Any

from ..errors import FormulaRuntimeError, FormulaTypeError
from ..functions import ArgInfo, builtin
from ..operators import num_pow
from ..types import NUMBER_CONTEXT, to_decimal, to_int

C = NUMBER_CONTEXT
_ZERO = Decimal(0)
#: Most digits an exact intermediate (MOD) may need before we call it out of range.
_MAX_DIGITS = 10_000

# -- helpers ---------------------------------------------------------------------------


def _out_of_range(name: str) -> FormulaRuntimeError:
    return FormulaRuntimeError(f"Number out of range in {name}() function")


def _clean(value: Decimal) -> Decimal:
    """No negative zero, no ``.0`` on a whole number from a float."""
    if not value:
        return _ZERO
    exponent = value.as_tuple().exponent
    if exponent < 0 and value == value.to_integral_value():
        return value.to_integral_value()
    if exponent > 0 and value.adjusted() < C.prec:
        return value.quantize(Decimal(1), context=C)
    return value


def _float(value: Decimal, name: str) -> float:
    """A Number as a float, refusing one outside the double range."""
    result = float(value)
    if math.isinf(result):
        raise _out_of_range(name)
    return result


def _from_float(value: float, name: str) -> Decimal:
    """A float result as a Number (its shortest repr); infinities are out of range."""
    if math.isinf(value) or math.isnan(value):
        raise _out_of_range(name)
    return _clean(Decimal(repr(value)))


def _double(name: str, fn: Callable[..., float], *args: Decimal) -> Decimal:
    """``fn`` applied in double precision to Number arguments."""
    floats = [_float(arg, name) for arg in args]
    try:
        result = fn(*floats)
    except OverflowError:
        raise _out_of_range(name) from None
    return _from_float(result, name)


def _integral(value: Decimal, rounding: str) -> Decimal:
    return _clean(value.to_integral_value(rounding=rounding))


def _to_digits(value: Decimal, digits: int, rounding: str, name: str) -> Decimal:
    """``value`` rounded to ``digits`` decimal places (negative: left of the point)."""
    if -digits <= value.as_tuple().exponent:
        return _clean(value)  # already has no more places than asked for
    if -digits > value.adjusted() + 1:
        return _ZERO  # the unit asked for is more than twice the value
    context = C.copy()
    context.prec = max(C.prec, len(value.as_tuple().digits) + 2)
    try:
        return _clean(value.quantize(Decimal((0, (1,), -digits)), rounding, context))
    except InvalidOperation:
        raise _out_of_range(name) from None


# -- rounding --------------------------------------------------------------------------


@builtin("ABS", "(Number) -> Number", category="Math")
def ABS(number: Decimal) -> Decimal:
    """The absolute value: the number without its sign.

    Examples:
        ABS(-3.5) → 3.5
        ABS(2) → 2
    """
    return abs(number)


@builtin("CEILING", "(Number) -> Number", category="Math")
def CEILING(number: Decimal) -> Decimal:
    """Rounds up to a whole number, **away from zero** (so negative numbers get more
    negative). Use MCEILING for the mathematical ceiling.

    Examples:
        CEILING(2.1) → 3
        CEILING(-2.1) → -3
        CEILING(4) → 4
    """
    return _integral(number, ROUND_UP)


@builtin("FLOOR", "(Number) -> Number", category="Math")
def FLOOR(number: Decimal) -> Decimal:
    """Rounds down to a whole number, **toward zero** (so negative numbers get less
    negative). Use MFLOOR for the mathematical floor.

    Examples:
        FLOOR(2.9) → 2
        FLOOR(-2.9) → -2
    """
    return _integral(number, ROUND_DOWN)


@builtin("MCEILING", "(Number) -> Number", category="Math")
def MCEILING(number: Decimal) -> Decimal:
    """The mathematical ceiling: the smallest whole number not below the number
    (rounds toward +∞).

    Examples:
        MCEILING(2.1) → 3
        MCEILING(-2.1) → -2
    """
    return _integral(number, ROUND_CEILING)


@builtin("MFLOOR", "(Number) -> Number", category="Math")
def MFLOOR(number: Decimal) -> Decimal:
    """The mathematical floor: the largest whole number not above the number
    (rounds toward −∞).

    Examples:
        MFLOOR(2.9) → 2
        MFLOOR(-2.1) → -3
    """
    return _integral(number, ROUND_FLOOR)


@builtin("ROUND", "(Number, Number) -> Number", category="Math")
def ROUND(number: Decimal, digits: Decimal) -> Decimal:
    """Rounds to `digits` decimal places, halves **away from zero** (not banker's
    rounding). Negative `digits` round to the left of the decimal point; a fractional
    `digits` is truncated.

    Examples:
        ROUND(225.49823, 2) → 225.5
        ROUND(-2.5, 0) → -3
        ROUND(0.125, 2) → 0.13
        ROUND(1234.5, -2) → 1200
    """
    return _to_digits(number, to_int(digits), ROUND_HALF_UP, "ROUND")


@builtin("TRUNC", "(Number, [Number]) -> Number", category="Math")
def TRUNC(number: Decimal, digits: Decimal = _ZERO) -> Decimal:
    """Drops the digits after `digits` decimal places (default 0), toward zero.
    Negative `digits` zero out digits left of the decimal point.

    Examples:
        TRUNC(12.789, 1) → 12.7
        TRUNC(-12.789) → -12
        TRUNC(1789, -2) → 1700
    """
    return _to_digits(number, to_int(digits), ROUND_DOWN, "TRUNC")


@builtin("MOD", "(Number, Number) -> Number", category="Math")
def MOD(number: Decimal, divisor: Decimal) -> Decimal:
    """The remainder of dividing `number` by `divisor` (truncated division), with the
    sign of `number`. A divisor of 0 returns `number` unchanged.

    Examples:
        MOD(10, 3) → 1
        MOD(-10, 3) → -1
        MOD(5.5, 2) → 1.5
        MOD(3, 0) → 3
    """
    if not divisor or abs(number) < abs(divisor):
        return _clean(number)
    low = min(number.as_tuple().exponent, divisor.as_tuple().exponent)
    needed = max(number.adjusted(), divisor.adjusted()) - int(low) + 2
    if needed > _MAX_DIGITS:
        raise _out_of_range("MOD")
    context = C.copy()
    context.prec = max(C.prec, needed)
    return _clean(C.plus(context.remainder(number, divisor)))


@builtin("MAX", "(Number, ...) -> Number", category="Math")
def MAX(*numbers: Decimal) -> Decimal:
    """The largest of one or more numbers; blank when any of them is blank.

    Examples:
        MAX(1, 5, 3) → 5
        MAX(-2) → -2
        MAX(2, NULL) → blank
    """
    return max(numbers)


@builtin("MIN", "(Number, ...) -> Number", category="Math")
def MIN(*numbers: Decimal) -> Decimal:
    """The smallest of one or more numbers; blank when any of them is blank.

    Examples:
        MIN(1, 5, 3) → 1
        MIN(2.5, -1) → -1
        MIN(NULL, 2) → blank
    """
    return min(numbers)


# -- powers and logarithms ---------------------------------------------------------------


@builtin("SQRT", "(Number) -> Number", category="Math")
def SQRT(number: Decimal) -> Decimal | None:
    """The square root, in double precision; blank for a negative number.

    Examples:
        SQRT(16) → 4
        SQRT(2) → 1.4142135623730951
        SQRT(-1) → blank
    """
    if number < 0:
        return None
    return _double("SQRT", math.sqrt, number)


@builtin("EXP", "(Number) -> Number", category="Math")
def EXP(number: Decimal) -> Decimal:
    """e raised to the power of the number, in double precision. A result too large
    for a double is an error.

    Examples:
        EXP(0) → 1
        EXP(1) → 2.718281828459045
        EXP(1000) → error
    """
    return _double("EXP", math.exp, number)


def _logarithm(name: str, fn: Callable[[float], float], number: Decimal) -> Decimal | None:
    if number <= 0:
        return None
    return _double(name, fn, number)


@builtin("LN", "(Number) -> Number", category="Math")
def LN(number: Decimal) -> Decimal | None:
    """The natural logarithm, in double precision; blank for zero or a negative number.

    Examples:
        LN(1) → 0
        LN(EXP(2)) → 2
        LN(0) → blank
    """
    return _logarithm("LN", math.log, number)


@builtin("LOG", "(Number) -> Number", category="Math")
def LOG(number: Decimal) -> Decimal | None:
    """The base-10 logarithm, in double precision; blank for zero or a negative number.

    Examples:
        LOG(1000) → 3
        LOG(0.01) → -2
        LOG(0) → blank
    """
    return _logarithm("LOG", math.log10, number)


@builtin("POWER", "(Number, Number) -> Number", category="Math")
def POWER(number: Decimal, exponent: Decimal) -> Decimal:
    """`number` raised to `exponent`, with the rules of the `^` operator: the exponent
    must be a whole number (negative allowed), 0 to the power 0 is 1, and a result
    larger than 1e64 is an error.

    Examples:
        POWER(2, 10) → 1024
        POWER(2, -2) → 0.25
        POWER(2, 0.5) → error
    """
    return num_pow(number, exponent)


# -- trigonometry ------------------------------------------------------------------------


@builtin("PI", "() -> Number", category="Math")
def PI() -> Decimal:
    """The number π in double precision.

    Examples:
        PI() → 3.141592653589793
        ROUND(PI(), 2) → 3.14
    """
    return Decimal(repr(math.pi))


@builtin("SIN", "(Number) -> Number", category="Math")
def SIN(radians: Decimal) -> Decimal:
    """The sine of an angle in radians, in double precision.

    Examples:
        SIN(0) → 0
        ROUND(SIN(PI()/2), 10) → 1
    """
    return _double("SIN", math.sin, radians)


@builtin("COS", "(Number) -> Number", category="Math")
def COS(radians: Decimal) -> Decimal:
    """The cosine of an angle in radians, in double precision.

    Examples:
        COS(0) → 1
        ROUND(COS(PI()), 10) → -1
    """
    return _double("COS", math.cos, radians)


@builtin("TAN", "(Number) -> Number", category="Math")
def TAN(radians: Decimal) -> Decimal:
    """The tangent of an angle in radians, in double precision.

    Examples:
        TAN(0) → 0
        ROUND(TAN(PI()/4), 10) → 1
    """
    return _double("TAN", math.tan, radians)


def _inverse(name: str, fn: Callable[[float], float], number: Decimal) -> Decimal | None:
    if not -1 <= number <= 1:
        return None
    return _double(name, fn, number)


@builtin("ASIN", "(Number) -> Number", category="Math")
def ASIN(number: Decimal) -> Decimal | None:
    """The arc sine in radians, in double precision; blank outside −1 to 1.

    Examples:
        ASIN(0) → 0
        ASIN(1) → 1.5707963267948966
        ASIN(2) → blank
    """
    return _inverse("ASIN", math.asin, number)


@builtin("ACOS", "(Number) -> Number", category="Math")
def ACOS(number: Decimal) -> Decimal | None:
    """The arc cosine in radians, in double precision; blank outside −1 to 1.

    Examples:
        ACOS(1) → 0
        ACOS(-1) → 3.141592653589793
        ACOS(1.5) → blank
    """
    return _inverse("ACOS", math.acos, number)


@builtin("ATAN", "(Number) -> Number", category="Math")
def ATAN(number: Decimal) -> Decimal:
    """The arc tangent in radians (between −π/2 and π/2), in double precision.

    Examples:
        ATAN(0) → 0
        ATAN(1) → 0.7853981633974483
    """
    return _double("ATAN", math.atan, number)


@builtin("ATAN2", "(Number, Number) -> Number", category="Math")
def ATAN2(y: Decimal, x: Decimal) -> Decimal:
    """The angle in radians (between −π and π) of the point (`x`, `y`), in double
    precision: the arc tangent of y / x that takes the quadrant into account.

    Examples:
        ATAN2(1, 1) → 0.7853981633974483
        ATAN2(1, -1) → 2.356194490192345
        ATAN2(0, 0) → 0
    """
    return _double("ATAN2", math.atan2, y, x)


# -- locations ---------------------------------------------------------------------------

_BOUNDS = (("Latitude", Decimal(90)), ("Longitude", Decimal(180)))


def _bounds_message(index: int) -> str:
    what, limit = _BOUNDS[index]
    return (
        f"Incorrect parameter value for function 'GEOLOCATION()'. "
        f"{what} must be between -{limit} and {limit}"
    )


def _check_geolocation(args: Sequence[ArgInfo], name: str) -> None:
    for index, arg in enumerate(args[:2]):
        value = arg.value if arg.is_literal else None
        if isinstance(value, Decimal) and abs(value) > _BOUNDS[index][1]:
            error = FormulaTypeError(_bounds_message(index))
            error.argument = index
            raise error


@builtin(
    "GEOLOCATION",
    "(Number, Number) -> Geolocation",
    category="Location",
    check=_check_geolocation,
)
def GEOLOCATION(latitude: Decimal, longitude: Decimal) -> tuple[Decimal, Decimal]:
    """A location from its latitude (−90 to 90) and longitude (−180 to 180) in
    degrees, for use in DISTANCE. A literal out of range is refused when the formula is
    compiled; a computed one is an error when it is evaluated.

    Examples:
        GEOLOCATION(52.52, 13.405) → GEOLOCATION(52.52, 13.405)
        DISTANCE(GEOLOCATION(52.52, 13.405), GEOLOCATION(52.52, 13.405), "km") → 0
        DISTANCE(GEOLOCATION(90 + 1, 0), GEOLOCATION(0, 0), "km") → error
    """
    for index, value in enumerate((latitude, longitude)):
        if abs(value) > _BOUNDS[index][1]:
            raise FormulaRuntimeError(_bounds_message(index))
    return (latitude, longitude)


#: Sphere radius per unit, as Salesforce uses.
_RADIUS = {"km": 6371.009, "mi": 3958.761}


def _radians(location: Any) -> tuple[float, float]:
    latitude, longitude = location
    return (
        math.radians(_float(to_decimal(latitude), "DISTANCE")),
        math.radians(_float(to_decimal(longitude), "DISTANCE")),
    )


@builtin("DISTANCE", "(Geolocation, Geolocation, Text) -> Number", category="Location")
def DISTANCE(first: Any, second: Any, unit: str) -> Decimal:
    """The great-circle distance between two locations (haversine formula on a sphere
    of radius 6371.009 km or 3958.761 mi), in double precision. `unit` is "km" or "mi"
    in any letter case; any other unit is an error. A blank location gives blank.

    Examples:
        ROUND(DISTANCE(GEOLOCATION(0, 0), GEOLOCATION(0, 1), "km"), 3) → 111.195
        ROUND(DISTANCE(GEOLOCATION(0, 0), GEOLOCATION(0, 1), "MI"), 3) → 69.093
        DISTANCE(GEOLOCATION(0, 0), GEOLOCATION(0, 1), "m") → error
    """
    radius = _RADIUS.get(unit.lower())
    if radius is None:
        raise FormulaRuntimeError(
            f"Incorrect parameter value for function 'DISTANCE()'. "
            f"Unit must be 'km' or 'mi', received '{unit}'"
        )
    lat1, lon1 = _radians(first)
    lat2, lon2 = _radians(second)
    half = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return _from_float(2 * radius * math.asin(min(1.0, math.sqrt(half))), "DISTANCE")
