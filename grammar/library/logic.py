"""Logical functions, blank tests, picklists and record-change functions.

IF, AND, OR, CASE, ISCHANGED, PRIORVALUE and ISNEW are *special*: the compiler builds
their code itself (they are lazy, or read the prior values), so the functions below only
carry their signatures and documentation.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ..errors import FormulaTypeError
from ..functions import ArgInfo, builtin, unsupported


@builtin("IF", "(Checkbox, T, T) -> T", category="Logical", special=True)
def IF() -> None:
    """Returns `then` when `test` is TRUE, otherwise `else`; only the chosen branch is
    evaluated. A blank test counts as FALSE. Both branches must have the same type
    (NULL fits any).

    Examples:
        IF(2 > 1, "yes", "no") → "yes"
        IF(NULL, 1, 2) → 2
    """


@builtin("AND", "(Checkbox, ...) -> Checkbox", category="Logical", special=True)
def AND() -> None:
    """TRUE when every argument is TRUE. Stops at the first FALSE or blank argument
    (a blank counts as FALSE). Same as the `&&` operator.

    Examples:
        AND(TRUE, 1 < 2) → TRUE
        AND(TRUE, NULL) → FALSE
        AND(FALSE, 1/0 = 1) → FALSE
    """


@builtin("OR", "(Checkbox, ...) -> Checkbox", category="Logical", special=True)
def OR() -> None:
    """TRUE when any argument is TRUE; stops at the first TRUE. A blank argument counts
    as FALSE. Same as the `||` operator.

    Examples:
        OR(FALSE, 2 > 1) → TRUE
        OR(FALSE, NULL) → FALSE
        OR(TRUE, 1/0 = 1) → TRUE
    """


@builtin(
    "CASE",
    "(T, T, R, ...) -> R",
    category="Logical",
    special=True,
    signature_text="CASE(expression, value1, result1, value2, result2, ..., else_result)",
)
def CASE() -> None:
    """Compares `expression` with each value in turn and returns the result paired with
    the first equal one, or `else_result` (which is required). Uses the same equality as
    `=`; a blank Text expression equals "". Neither the expression, the values nor the
    results may be Checkbox: wrap booleans in IF(…, 1, 0).

    Examples:
        CASE(2, 1, "one", 2, "two", "many") → "two"
        CASE(MONTH(DATE(2024,7,1)), 12, "Q4", 7, "Q3", "other") → "Q3"
        CASE("z", "a", 1, 0) → 0
    """


@builtin("ISBLANK", "(Any) -> Checkbox", category="Logical", blanks="accept", inline="{0} is None")
def ISBLANK(value: Any) -> bool:
    """TRUE when the value is blank; empty text is blank.

    Examples:
        ISBLANK("") → TRUE
        ISBLANK(0) → FALSE
        ISBLANK(TRIM("  ")) → TRUE
    """
    return value is None


def _is_null(value: Any, text: bool) -> bool:
    return not text and value is None


@builtin("ISNULL", "(Any) -> Checkbox", category="Logical", blanks="accept", special=True)
def ISNULL() -> None:
    """The legacy blank test: like ISBLANK, except that it is always FALSE for Text
    (text is never null). Prefer ISBLANK.

    Examples:
        ISNULL(NULL) → TRUE
        ISNULL(0) → FALSE
        ISNULL("") → FALSE
    """


@builtin(
    "BLANKVALUE",
    "(T, T) -> T",
    category="Logical",
    blanks="accept",
    inline="{1} if {0} is None else {0}",
)
def BLANKVALUE(value: Any, substitute: Any) -> Any:
    """`value` unless it is blank, then `substitute`. Both arguments are evaluated.

    Examples:
        BLANKVALUE(NULL, "n/a") → "n/a"
        BLANKVALUE(5, 0) → 5
        BLANKVALUE("", "empty") → "empty"
    """
    return substitute if value is None else value


@builtin("NULLVALUE", "(T, T) -> T", category="Logical", blanks="accept", special=True)
def NULLVALUE() -> None:
    """Like BLANKVALUE, but never substitutes for Text (legacy). Prefer BLANKVALUE.

    Examples:
        NULLVALUE(NULL, 0) → 0
        NULLVALUE(7, 0) → 7
    """


@builtin("ISNUMBER", "(Text) -> Checkbox", category="Logical", blanks="accept")
def ISNUMBER(text: str | None) -> bool:
    """TRUE when the text is a decimal number: an optional sign, digits, an optional
    point and an optional exponent; no spaces or thousands separators.

    Examples:
        ISNUMBER("-12.5") → TRUE
        ISNUMBER("1,000") → FALSE
        ISNUMBER(" 5") → FALSE
        ISNUMBER("") → FALSE
    """
    from .text import parse_number

    return text is not None and parse_number(text) is not None


def _text_literal(args: Sequence[ArgInfo], name: str, index: int, *, nonblank: bool) -> None:
    arg = args[index]
    if not arg.is_literal or (nonblank and not (arg.value or "").strip()):
        kind = "multi-select picklist" if name == "INCLUDES" else "picklist"
        raise FormulaTypeError(
            f"Incorrect parameter for function {name}(). "
            f"Text Literal must be a valid value for this {kind} field."
        )


def _check_ispickval(args: Sequence[ArgInfo], name: str) -> None:
    _text_literal(args, name, 1, nonblank=False)


def _check_includes(args: Sequence[ArgInfo], name: str) -> None:
    _text_literal(args, name, 1, nonblank=True)


@builtin(
    "ISPICKVAL",
    "(Picklist|Text, Text) -> Checkbox",
    category="Logical",
    blanks="accept",
    check=_check_ispickval,
    inline="({0} or '').casefold() == ({1} or '').casefold()",
)
def ISPICKVAL(value: str | None, literal: str | None) -> bool:
    """TRUE when the picklist's value equals the text literal, ignoring letter case.
    A blank picklist gives FALSE.

    Examples:
        ISPICKVAL("High", "high") → TRUE
        ISPICKVAL(NULL, "High") → FALSE
    """
    if value is None:
        return literal is None
    return value.casefold() == (literal or "").casefold()


@builtin(
    "INCLUDES",
    "(MultiPicklist|Text, Text) -> Checkbox",
    category="Logical",
    blanks="accept",
    check=_check_includes,
)
def INCLUDES(values: str | None, literal: str | None) -> bool:
    """TRUE when one of the selected values of a multi-select picklist equals the text
    literal (ignoring case). The literal must be one non-empty value.

    Examples:
        INCLUDES("Golf;Tennis", "golf") → TRUE
        INCLUDES("Golf;Tennis", "Golf;Tennis") → FALSE
        INCLUDES(NULL, "Golf") → FALSE
    """
    if values is None or literal is None:
        return False
    wanted = literal.casefold()
    return any(part.casefold() == wanted for part in values.split(";"))


@builtin("PICKLISTCOUNT", "(MultiPicklist|Text) -> Number", category="Logical", blanks="accept")
def PICKLISTCOUNT(values: str | None) -> Decimal:
    """The number of values selected in a multi-select picklist; blank gives 0.

    Examples:
        PICKLISTCOUNT("Golf;Tennis") → 2
        PICKLISTCOUNT(NULL) → 0
    """
    if values is None:
        return Decimal(0)
    return Decimal(sum(1 for part in values.split(";") if part))


def _check_field_reference(args: Sequence[ArgInfo], name: str) -> None:
    if args[0].path is None:
        raise FormulaTypeError(
            f"Incorrect parameter for function {name}(). Expected a field, received an expression"
        )


@builtin(
    "ISCHANGED",
    "(Any) -> Checkbox",
    category="Record change",
    special=True,
    check=_check_field_reference,
)
def ISCHANGED() -> None:
    """TRUE when the field's value differs from its value before the update. Always
    FALSE while the record is being created. The argument must be a field.

    Examples:
        ISCHANGED(Status) → FALSE
    """


@builtin(
    "PRIORVALUE",
    "(T) -> T",
    category="Record change",
    special=True,
    check=_check_field_reference,
)
def PRIORVALUE() -> None:
    """The field's value before the update; while the record is being created, its
    current value. The argument must be a field.

    Examples:
        PRIORVALUE(Amount) → blank
    """


@builtin("ISNEW", "() -> Checkbox", category="Record change", inline="prior is None")
def ISNEW() -> bool:
    """TRUE while the record is being created (no prior values were given).

    Examples:
        ISNEW() → TRUE
    """
    raise AssertionError("compiled inline")  # pragma: no cover


@builtin("ISCLONE", "() -> Checkbox", category="Record change")
def ISCLONE() -> bool:
    """Always FALSE: Stageflow records are not created as clones.

    Examples:
        ISCLONE() → FALSE
    """
    return False


_PLATFORM = (
    "GETSESSIONID",
    "CURRENCYRATE",
    "VLOOKUP",
    "PREDICT",
    "URLFOR",
    "LINKTO",
    "INCLUDE",
    "REQUIRESCRIPT",
    "GETRECORDIDS",
    "PARENTGROUPVAL",
    "PREVGROUPVAL",
    "IMAGEPROXYURL",
    "JUNCTIONIDLIST",
)

for _name in _PLATFORM:
    unsupported(
        _name,
        "(Any, ...) -> Any" if _name != "GETSESSIONID" else "() -> Text",
        doc="A Salesforce platform function with no meaning in Stageflow; "
        "a formula that uses it is refused.",
    )
