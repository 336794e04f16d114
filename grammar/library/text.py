"""Text functions, TEXT/VALUE conversions, and how the docs display values.

Positions are 1-based and lengths count code points. Besides the functions, this module
offers three helpers other modules use: :func:`parse_number` (the number syntax shared by
VALUE and ISNUMBER), :func:`format_number` (how TEXT renders a Number) and
:func:`format_value` (how the reference shows any value in its examples).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote_plus

import regex

from .. import types as T
from ..errors import FormulaRuntimeError, FormulaTypeError
from ..functions import ArgInfo, builtin
from ..types import NUMBER_CONTEXT, to_int, to_utc

# -- shared helpers ------------------------------------------------------------------------

#: Java ``BigDecimal`` syntax: sign, digits with an optional point, optional exponent.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_number(text: str) -> Decimal | None:
    """The Number written in ``text``, or None when it is not one.

    Java ``BigDecimal`` syntax: an optional sign, digits with an optional decimal point,
    an optional exponent (``1e3``); no spaces, no thousands separators. The value is
    rounded to the language's 40 significant digits; an exponent beyond its range
    counts as unparsable.
    """
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return NUMBER_CONTEXT.plus(Decimal(text))
    except (InvalidOperation, ArithmeticError):
        return None


def format_number(number: Decimal) -> str:
    """A Number as TEXT() renders it: plain notation, no trailing zeros, ``-0`` is ``0``.

    The leading zero is kept (``0.5``, ``-0.25``).
    """
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _date_text(value: dt.date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _time_text(value: dt.time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}"


def _datetime_text(value: dt.datetime, *, millis: bool) -> str:
    """``YYYY-MM-DD HH:MM:SSZ`` in GMT; with ``millis``, ``.mmm`` when they are not zero."""
    value = to_utc(value)
    text = f"{_date_text(value)} {value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    ms = value.microsecond // 1000
    return f"{text}.{ms:03d}Z" if millis and ms else f"{text}Z"


def format_value(value: Any) -> str:
    """A language value as the reference's examples show it.

    Text in double quotes, Number as TEXT() renders it, TRUE/FALSE, ``blank``, Date
    ``2024-03-05``, DateTime ``2024-03-05 14:30:00Z`` (``.500`` before the Z only when
    the milliseconds are not zero), Time ``17:30:45.125``, Geolocation
    ``GEOLOCATION(lat, lon)``.
    """
    if value is None:
        return "blank"
    if value is True or value is False:
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dt.datetime):
        return _datetime_text(value, millis=True)
    if isinstance(value, dt.date):
        return _date_text(value)
    if isinstance(value, dt.time):
        return _time_text(value)
    if isinstance(value, tuple) and len(value) == 2:
        lat, lon = (format_number(T.to_decimal(part)) for part in value)
        return f"GEOLOCATION({lat}, {lon})"
    return str(value)


def _refuse_longer_than_limit(env: Any, length: int) -> None:
    """Fail before building a text of ``length`` characters when that breaks the limit."""
    if length > env.limits.max_text:
        raise FormulaRuntimeError(
            f"Text is too long ({length:,} characters). "
            f"Maximum length is {env.limits.max_text:,} characters"
        )


def _parameter_value_error(name: str, problem: str, argument: int) -> FormulaTypeError:
    """Salesforce's 'Incorrect parameter value' error, pointing at one argument."""
    error = FormulaTypeError(f"Incorrect parameter value for function '{name}()'. {problem}")
    error.argument = argument
    return error


# -- length and parts ------------------------------------------------------------------------


@builtin(
    "LEN",
    "(Text) -> Number",
    category="Text",
    blanks="accept",
    inline="_Decimal(len({0})) if {0} is not None else _ZERO",
)
def LEN(text: str | None) -> Decimal:
    """The number of characters in the text; blank text has length 0.

    Examples:
        LEN("Hello") → 5
        LEN("") → 0
        LEN(NULL) → 0
    """
    return Decimal(len(text or ""))


@builtin(
    "LEFT",
    "(Text, Number) -> Text",
    category="Text",
    inline="{0}[:_n] if (_n := int({1})) > 0 else None",
)
def LEFT(text: str, count: Decimal) -> str | None:
    """The first `count` characters of the text. A count of zero or less gives blank, a
    count past the end gives the whole text, and a fractional count is truncated.

    Examples:
        LEFT("Salesforce", 5) → "Sales"
        LEFT("abc", 10) → "abc"
        LEFT("abc", -1) → blank
    """
    n = to_int(count)
    return text[:n] if n > 0 else None


@builtin(
    "RIGHT",
    "(Text, Number) -> Text",
    category="Text",
    inline="{0}[-_n:] if (_n := int({1})) > 0 else None",
)
def RIGHT(text: str, count: Decimal) -> str | None:
    """The last `count` characters of the text, with the same rules as LEFT: zero or less
    gives blank, past the start gives the whole text, a fraction is truncated.

    Examples:
        RIGHT("Salesforce", 5) → "force"
        RIGHT("abc", 0) → blank
        RIGHT("abc", 2.9) → "bc"
    """
    n = to_int(count)
    return text[-n:] if n > 0 else None


@builtin("MID", "(Text, Number, Number) -> Text", category="Text")
def MID(text: str, start: Decimal, count: Decimal) -> str | None:
    """`count` characters starting at position `start` (1 is the first character). A
    start below 1 counts as 1; a negative count as 0; a count of 0 or a start past the
    end gives blank; a run past the end stops at the end.

    Examples:
        MID("Salesforce", 6, 5) → "force"
        MID("abc", 0, 2) → "ab"
        MID("abc", 5, 2) → blank
    """
    begin = max(to_int(start), 1) - 1
    n = max(to_int(count), 0)
    return text[begin : begin + n] or None


_ONE = Decimal(1)


@builtin("FIND", "(Text, Text, [Number]) -> Number", category="Text", blanks="accept")
def FIND(search: str | None, text: str | None, start: Decimal | None = _ONE) -> Decimal:
    """The position of the first occurrence of `search` in `text` at or after position
    `start` (default 1), case-sensitive, without wildcards. 0 when it is not found, when
    either text is blank, or when `start` is blank or below 1.

    Examples:
        FIND("l", "Hello") → 3
        FIND("l", "Hello", 4) → 4
        FIND("h", "Hello") → 0
        FIND("", "Hello") → 0
    """
    if search is None or text is None or start is None:
        return Decimal(0)
    begin = to_int(start)
    if begin < 1:
        return Decimal(0)
    return Decimal(text.find(search, begin - 1) + 1)


@builtin("CONTAINS", "(Text, Text) -> Checkbox", category="Text", blanks="accept")
def CONTAINS(text: str | None, part: str | None) -> bool:
    """TRUE when `part` occurs in `text` (case-sensitive). A blank `part` is in every
    text; a blank `text` contains nothing else. `CONTAINS("A:B:C", Code)` tests whether
    Code is one of a list.

    Examples:
        CONTAINS("Hello", "ell") → TRUE
        CONTAINS("Hello", "ELL") → FALSE
        CONTAINS("Hello", "") → TRUE
        CONTAINS(NULL, "a") → FALSE
    """
    if part is None:
        return True
    return text is not None and part in text


@builtin("BEGINS", "(Text, Text) -> Checkbox", category="Text", blanks="accept")
def BEGINS(text: str | None, prefix: str | None) -> bool | None:
    """TRUE when `text` starts with `prefix` (case-sensitive). A blank prefix gives TRUE;
    otherwise a blank text gives blank (FALSE in a condition).

    Examples:
        BEGINS("Hello", "He") → TRUE
        BEGINS("Hello", "he") → FALSE
        BEGINS(NULL, "He") → blank
    """
    if prefix is None:
        return True
    if text is None:
        return None
    return text.startswith(prefix)


@builtin(
    "SUBSTITUTE", "(Text, Text, Text) -> Text", category="Text", blanks="accept", needs_env=True
)
def SUBSTITUTE(env: Any, text: str | None, old: str | None, new: str | None) -> str | None:
    """Replaces every occurrence of `old` in `text` with `new`, scanning left to right
    without overlaps (case-sensitive). A blank `new` deletes; a blank `old` leaves the
    text unchanged; a blank text stays blank.

    Examples:
        SUBSTITUTE("a-b-c", "-", "+") → "a+b+c"
        SUBSTITUTE("aaa", "aa", "b") → "ba"
        SUBSTITUTE("abc", "b", "") → "ac"
    """
    if text is None or old is None:
        return text
    new = new or ""
    count = text.count(old)
    _refuse_longer_than_limit(env, len(text) + count * (len(new) - len(old)))
    return text.replace(old, new) or None


# -- letter case -----------------------------------------------------------------------------

_DOT_ABOVE = "\u0307"
_ABOVE = 230  # the canonical combining class of accents written above a letter

#: Characters whose dot disappears under an accent (Unicode's Soft_Dotted property).
_SOFT_DOTTED = frozenset(
    "ijįɉɨʝʲϳіјᵢᶖᶤᶨḭịⁱⅈⅉⱼ"
    "\U0001d422\U0001d423\U0001d456\U0001d457\U0001d48a\U0001d48b\U0001d4be\U0001d4bf"
    "\U0001d4f2\U0001d4f3\U0001d526\U0001d527\U0001d55a\U0001d55b\U0001d58e\U0001d58f"
    "\U0001d5c2\U0001d5c3\U0001d5f6\U0001d5f7\U0001d62a\U0001d62b\U0001d65e\U0001d65f"
    "\U0001d692\U0001d693"
)

#: Lithuanian keeps the dot of i when it carries an accent: Ì → i̇̀.
_LT_ACCENTED_I = {"Ì": "i\u0307\u0300", "Í": "i\u0307\u0301", "Ĩ": "i\u0307\u0303"}


def _followed_by_dot(text: str, index: int) -> bool:
    """A combining dot above follows, with no base letter or other accent above between."""
    for ch in _after(text, index):
        if ch == _DOT_ABOVE:
            return True
        if unicodedata.combining(ch) in (0, _ABOVE):
            return False
    return False


def _followed_by_accent(text: str, index: int) -> bool:
    """An accent above follows before the next base character (Unicode's More_Above)."""
    for ch in _after(text, index):
        combining = unicodedata.combining(ch)
        if combining == _ABOVE:
            return True
        if combining == 0:
            return False
    return False


def _preceded_by(text: str, index: int, letters: frozenset[str]) -> bool:
    """One of ``letters`` comes before, with no base letter or accent above between."""
    for position in range(index - 1, -1, -1):
        ch = text[position]
        if ch in letters:
            return True
        if unicodedata.combining(ch) in (0, _ABOVE):
            return False
    return False


def _after(text: str, index: int) -> Iterator[str]:
    """The characters after ``index``, without copying the text."""
    return (text[position] for position in range(index + 1, len(text)))


_CAPITAL_I = frozenset("I")


def _turkic_lower(text: str) -> str:
    out = []
    for index, ch in enumerate(text):
        if ch == "İ":
            out.append("i")
        elif ch == "I":
            out.append("i" if _followed_by_dot(text, index) else "ı")
        elif not (ch == _DOT_ABOVE and _preceded_by(text, index, _CAPITAL_I)):
            out.append(ch)
    return "".join(out).lower()


def _lithuanian_lower(text: str) -> str:
    out = []
    for index, ch in enumerate(text):
        if ch in _LT_ACCENTED_I:
            out.append(_LT_ACCENTED_I[ch])
        elif ch in "IJĮ" and _followed_by_accent(text, index):
            out.append(ch.lower() + _DOT_ABOVE)
        else:
            out.append(ch)
    return "".join(out).lower()


def _lithuanian_upper(text: str) -> str:
    kept = (
        ch
        for index, ch in enumerate(text)
        if not (ch == _DOT_ABOVE and _preceded_by(text, index, _SOFT_DOTTED))
    )
    return "".join(kept).upper()


def _language(locale: str | None) -> str:
    """The language part of a locale such as ``tr``, ``tr_TR`` or ``lt-LT``."""
    if not locale:
        return ""
    return re.split(r"[_\-]", locale, maxsplit=1)[0].lower()


@builtin("UPPER", "(Text, [Text]) -> Text", category="Text", inline={1: "{0}.upper()"})
def UPPER(text: str, locale: str = "") -> str:
    """The text in capitals, with full Unicode case mapping (ß becomes SS). The optional
    locale switches to a language's rules: "tr" and "az" map i to İ, "lt" drops the dot
    that an accented i keeps in lower case. Other locales use the general rules.

    Examples:
        UPPER("abc1") → "ABC1"
        UPPER("straße") → "STRASSE"
        UPPER("i", "tr") → "İ"
    """
    language = _language(locale)
    if language in ("tr", "az"):
        return text.replace("i", "İ").upper()
    if language == "lt":
        return _lithuanian_upper(text)
    return text.upper()


@builtin("LOWER", "(Text, [Text]) -> Text", category="Text", inline={1: "{0}.lower()"})
def LOWER(text: str, locale: str = "") -> str:
    """The text in small letters, with full Unicode case mapping. The optional locale
    switches to a language's rules: "tr" and "az" map I to dotless ı and İ to i; "lt"
    keeps the dot of an i that carries an accent. Other locales use the general rules.

    Examples:
        LOWER("ÉCOLE") → "école"
        LOWER("TITLE") → "title"
        LOWER("TITLE", "tr") → "tıtle"
        LOWER("İSTANBUL", "tr") → "istanbul"
    """
    language = _language(locale)
    if language in ("tr", "az"):
        return _turkic_lower(text)
    if language == "lt":
        return _lithuanian_lower(text)
    return text.lower()


def _starts_word(ch: str) -> bool:
    """Letters, digits and combining marks continue a word; anything else ends it."""
    return not (ch.isalnum() or unicodedata.category(ch).startswith("M"))


@builtin("INITCAP", "(Text) -> Text", category="Text")
def INITCAP(text: str) -> str:
    """Lower-cases the text, then capitalises the first letter of each word. A word
    starts after any character that is neither a letter nor a digit, so apostrophes and
    hyphens start words while digits do not.

    Examples:
        INITCAP("hello WORLD") → "Hello World"
        INITCAP("o'neil-smith") → "O'Neil-Smith"
        INITCAP("3rd floor") → "3rd Floor"
    """
    out = []
    at_start = True
    for ch in text.lower():
        if at_start and ch.isalpha():
            title = ch.title()
            out.append(title if len(title) == 1 else ch)
        else:
            out.append(ch)
        at_start = _starts_word(ch)
    return "".join(out)


# -- trimming and padding --------------------------------------------------------------------


@builtin("TRIM", "(Text) -> Text", category="Text")
def TRIM(text: str) -> str | None:
    """Removes spaces and tabs from both ends of the text; runs inside are kept. Text
    of nothing but spaces becomes blank.

    Examples:
        TRIM("  a  b  ") → "a  b"
        TRIM("   ") → blank
    """
    return text.strip(" \t") or None


def _pad(env: Any, text: str, length: Decimal, pad: str, *, left: bool) -> str | None:
    n = to_int(length)
    if n <= 0:
        return None
    if len(text) >= n:
        return text[:n]
    _refuse_longer_than_limit(env, n)
    missing = n - len(text)
    filler = (pad * (missing // len(pad) + 1))[:missing]
    return filler + text if left else text + filler


@builtin("LPAD", "(Text, Number, [Text]) -> Text", category="Text", needs_env=True)
def LPAD(env: Any, text: str, length: Decimal, pad: str = " ") -> str | None:
    """Pads the text on the left with `pad` (default one space), repeated and cut so the
    result has exactly `length` characters. A longer text is cut to its first `length`
    characters; a length of zero or less gives blank.

    Examples:
        LPAD("42", 5, "0") → "00042"
        LPAD("ab", 5, "xy") → "xyxab"
        LPAD("abcdef", 3) → "abc"
        LPAD("ab", 0) → blank
    """
    return _pad(env, text, length, pad, left=True)


@builtin("RPAD", "(Text, Number, [Text]) -> Text", category="Text", needs_env=True)
def RPAD(env: Any, text: str, length: Decimal, pad: str = " ") -> str | None:
    """Pads the text on the right with `pad` (default one space), repeated and cut so
    the result has exactly `length` characters. A longer text is cut to its first
    `length` characters; a length of zero or less gives blank.

    Examples:
        RPAD("ab", 5, "xy") → "abxyx"
        RPAD("ab", 4) → "ab  "
        RPAD("abcdef", 3) → "abc"
    """
    return _pad(env, text, length, pad, left=False)


@builtin("REVERSE", "(Text) -> Text", category="Text")
def REVERSE(text: str) -> str:
    """The characters of the text in reverse order.

    Examples:
        REVERSE("abc") → "cba"
        REVERSE("a b") → "b a"
        REVERSE(NULL) → blank
    """
    return text[::-1]


# -- conversions -------------------------------------------------------------------------------

_TEXT_ACCEPTS = frozenset({T.NUMBER, T.DATE, T.DATETIME, T.TIME, T.PICKLIST, T.NULL, T.ANY})


def _text_type_message(received: str) -> str:
    # Salesforce's label lists the types without Time, which TEXT() accepts all the same.
    return (
        "Incorrect parameter type for function 'TEXT()'. "
        f"Expected Number, Date, DateTime, Picklist, received {T.display(received)}"
    )


def _check_text_argument(args: Sequence[ArgInfo], name: str) -> None:
    if args[0].type not in _TEXT_ACCEPTS:
        error = FormulaTypeError(_text_type_message(args[0].type))
        error.argument = 0
        raise error


@builtin(
    "TEXT",
    "(Any) -> Text",
    category="Text",
    check=_check_text_argument,
    signature_text="TEXT(Number|Date|DateTime|Time|Picklist) -> Text",
)
def TEXT(value: Any) -> str | None:
    """A Number, Date, DateTime, Time or Picklist value as text, without locale
    formatting. Numbers in plain notation without trailing zeros or thousands separators
    (a leading zero is kept); dates as YYYY-MM-DD; date-times as YYYY-MM-DD HH:MM:SSZ
    in GMT, milliseconds dropped; times as HH:MM:SS.mmm; a picklist gives its stored
    value. A Percent gives its fraction (30 % is "0.3").

    Examples:
        TEXT(3.50) → "3.5"
        TEXT(-0.25) → "-0.25"
        TEXT(DATE(2024,3,5)) → "2024-03-05"
        TEXT(DATETIMEVALUE("2024-03-05 14:30:00")) → "2024-03-05 14:30:00Z"
    """
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, dt.datetime):
        return _datetime_text(value, millis=False)
    if isinstance(value, dt.date):
        return _date_text(value)
    if isinstance(value, dt.time):
        return _time_text(value)
    raise FormulaRuntimeError(_text_type_message(T.type_of(value)))


@builtin("VALUE", "(Text) -> Number", category="Text")
def VALUE(text: str) -> Decimal:
    """The Number written in the text: an optional sign, digits with an optional decimal
    point, an optional exponent; no spaces or thousands separators. Anything else is an
    error.

    Examples:
        VALUE("12.5") → 12.5
        VALUE("-3") → -3
        VALUE("1e3") → 1000
        VALUE("abc") → error
    """
    number = parse_number(text)
    if number is None:
        raise FormulaRuntimeError(f"The value '{text}' is not a valid number.")
    return number


@builtin("ASCII", "(Text) -> Number", category="Text")
def ASCII(text: str) -> Decimal:
    """The Unicode code point of the first character of the text.

    Examples:
        ASCII("A") → 65
        ASCII("€uro") → 8364
    """
    return Decimal(ord(text[0]))


def _character(code: Decimal) -> str | None:
    n = to_int(code)
    if n <= 0 or n > 0x10FFFF or 0xD800 <= n <= 0xDFFF:
        return None
    return chr(n)


@builtin("CHR", "(Number) -> Text", category="Text")
def CHR(code: Decimal) -> str | None:
    """The character with Unicode code point `code` (a fraction is truncated). 0, a
    negative number or a value that is not a character gives blank.

    Examples:
        CHR(65) → "A"
        CHR(8364) → "€"
        CHR(0) → blank
    """
    return _character(code)


@builtin("UNICHAR", "(Number) -> Text", category="Text")
def UNICHAR(code: Decimal) -> str | None:
    """The same as CHR: the character with Unicode code point `code`; 0 or a value
    that is not a character gives blank.

    Examples:
        UNICHAR(97) → "a"
        UNICHAR(9731) → "☃"
        UNICHAR(-1) → blank
    """
    return _character(code)


# -- patterns ---------------------------------------------------------------------------------


def _pattern_problem(pattern: str) -> str | None:
    """Why the pattern does not compile, or None when it does."""
    try:
        regex.compile(pattern)
    except regex.error as error:
        return f"Invalid regular expression '{pattern}': {error}"
    return None


def _check_pattern(args: Sequence[ArgInfo], name: str) -> None:
    pattern = args[1]
    if pattern.is_literal and isinstance(pattern.value, str) and pattern.value:
        problem = _pattern_problem(pattern.value)
        if problem is not None:
            raise _parameter_value_error(name, problem, 1)


@builtin(
    "REGEX",
    "(Text, Text) -> Checkbox",
    category="Text",
    blanks="accept",
    needs_env=True,
    check=_check_pattern,
)
def REGEX(env: Any, text: str | None, pattern: str | None) -> bool:
    r"""TRUE when the regular expression matches the whole text (not a search: use
    `".*x.*"` to look for x anywhere). Backslashes are doubled because `\\` is the
    string escape: write `"\\d"` for the pattern `\d`. A blank text or pattern is matched
    as empty. A pattern that takes too long is an error, and a literal pattern that is
    not valid is refused when the formula is saved.

    Examples:
        REGEX("AB-12", "[A-Z]{2}-\\d{2}") → TRUE
        REGEX("x AB-12", "[A-Z]{2}-\\d{2}") → FALSE
        REGEX("x AB-12", ".*AB-12.*") → TRUE
        REGEX(NULL, "a*") → TRUE
    """
    pattern = pattern or ""
    try:
        return regex.fullmatch(pattern, text or "", timeout=env.limits.regex_timeout) is not None
    except TimeoutError:
        raise FormulaRuntimeError(f"Regular expression runtime exceeded for: {pattern}") from None
    except regex.error:
        raise FormulaRuntimeError(_pattern_problem(pattern) or pattern) from None


# -- HTML and encodings ------------------------------------------------------------------------

_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})

_JS = str.maketrans(
    {chr(code): f"\\u{code:04X}" for code in range(0x20)}
    | {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    | {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E"}
    | {"\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def _html(text: str) -> str:
    return text.translate(_HTML)


def _is_script_url(url: str) -> bool:
    # Browsers ignore control characters and spaces inside a scheme: "java\tscript:".
    scheme = "".join(ch for ch in url if ch > " ").lower()
    return scheme.startswith("javascript:")


_SCRIPT_URL = "A javascript: URL is not allowed"


def _check_hyperlink(args: Sequence[ArgInfo], name: str) -> None:
    url = args[0]
    if url.is_literal and isinstance(url.value, str) and _is_script_url(url.value):
        raise _parameter_value_error(name, _SCRIPT_URL, 0)


@builtin("HYPERLINK", "(Text, Text, [Text]) -> Text", category="Text", check=_check_hyperlink)
def HYPERLINK(url: str, label: str, target: str = "_blank") -> str:
    """An HTML link to `url` showing `label`. `target` says where it opens: "_blank"
    (the default, a new window), "_self", "_parent", "_top" or a frame name. The label
    and attributes are HTML-escaped; a javascript: URL is refused.

    Examples:
        HYPERLINK("/c/1", "Case 1") → "<a href="/c/1" target="_blank">Case 1</a>"
        HYPERLINK("/c/1", "A&B", "_self") → "<a href="/c/1" target="_self">A&amp;B</a>"
    """
    if _is_script_url(url):
        raise FormulaRuntimeError(
            f"Incorrect parameter value for function 'HYPERLINK()'. {_SCRIPT_URL}"
        )
    return f'<a href="{_html(url)}" target="{_html(target)}">{_html(label)}</a>'


@builtin(
    "IMAGE",
    ["(Text, Text) -> Text", "(Text, Text, Number, Number) -> Text"],
    category="Text",
)
def IMAGE(url: str, alt: str, height: Decimal | None = None, width: Decimal | None = None) -> str:
    """An HTML image of `url` with the alternative text `alt`; `height` and `width`, in
    whole pixels, are given together or not at all. Text is HTML-escaped.

    Examples:
        IMAGE("/a.png", "Logo") → "<img src="/a.png" alt="Logo" border="0"/>"
        IMAGE("a", "b", 2, 4) → "<img src="a" alt="b" style="height:2px; width:4px;" border="0"/>"
        IMAGE("a.png", "", 2, 4) → blank
    """
    size = ""
    if height is not None and width is not None:
        size = f' style="height:{to_int(height)}px; width:{to_int(width)}px;"'
    return f'<img src="{_html(url)}" alt="{_html(alt)}"{size} border="0"/>'


@builtin("BR", "() -> Text", category="Text")
def BR() -> str:
    """A line break in HTML: `<br>`. Screens that show plain text treat it as HTML.

    Examples:
        "a" & BR() & "b" → "a<br>b"
        LEN(BR()) → 4
    """
    return "<br>"


_ID_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


@builtin("CASESAFEID", "(Text) -> Text", category="Text")
def CASESAFEID(record_id: str) -> str:
    """Turns a 15-character, case-sensitive record id into the 18-character form that
    ignores case: for each 5-character chunk, one letter encodes which characters are
    capitals. Ids of other lengths are returned unchanged.

    Examples:
        CASESAFEID("001D000000IRt53") → "001D000000IRt53IAD"
        CASESAFEID("abc") → "abc"
    """
    if len(record_id) != 15:
        return record_id
    suffix = ""
    for chunk in (record_id[0:5], record_id[5:10], record_id[10:15]):
        bits = sum(1 << index for index, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += _ID_SUFFIX[bits]
    return record_id + suffix


@builtin("HTMLENCODE", "(Text) -> Text", category="Text")
def HTMLENCODE(text: str) -> str:
    """The text made safe inside HTML: `&` `<` `>` `"` and `'` become `&amp;` `&lt;`
    `&gt;` `&quot;` and `&#39;`.

    Examples:
        HTMLENCODE("<b>Tom & Jerry</b>") → "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;"
        HTMLENCODE("it's") → "it&#39;s"
    """
    return _html(text)


@builtin("JSENCODE", "(Text) -> Text", category="Text")
def JSENCODE(text: str) -> str:
    r"""The text made safe inside a JavaScript string: a backslash goes before `\`, `'`
    and `"`; line breaks and tabs become `\n` `\r` `\t`; `<` and `>` become `\u003C` and
    `\u003E`; other control characters `\uXXXX`.

    Examples:
        JSENCODE("it's") → "it\'s"
        JSENCODE("<b>") → "\u003Cb\u003E"
    """
    return text.translate(_JS)


@builtin("JSINHTMLENCODE", "(Text) -> Text", category="Text")
def JSINHTMLENCODE(text: str) -> str:
    r"""The text made safe inside JavaScript that sits in HTML: the same as
    `JSENCODE(HTMLENCODE(text))`.

    Examples:
        JSINHTMLENCODE("<a href='x'>") → "&lt;a href=&#39;x&#39;&gt;"
        JSINHTMLENCODE("a\\b") → "a\\b"
    """
    return _html(text).translate(_JS)


@builtin("URLENCODE", "(Text) -> Text", category="Text")
def URLENCODE(text: str) -> str:
    """The text encoded for a URL query (form encoding, UTF-8): letters, digits and
    `.` `-` `*` `_` stay, a space becomes `+`, every other byte `%XX`.

    Examples:
        URLENCODE("a b&c") → "a+b%26c"
        URLENCODE("café") → "caf%C3%A9"
    """
    return quote_plus(text, safe="*", errors="replace").replace("~", "%7E")
