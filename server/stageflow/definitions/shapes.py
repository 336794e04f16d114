"""A small toolkit for checking the shape of YAML data and collecting every error.

A *checker* is a function ``(context, path, value) -> result``: it returns the converted
value, or :data:`INVALID` after reporting why through the context.  :func:`mapping`
builds a checker from a table of :class:`Key` s, refusing unknown keys (with the closest
known one as a suggestion) and reporting missing required ones.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import DefinitionError
from .yamlio import Path, YamlDocument


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


#: What a checker returns when the value was refused (the error is already reported).
INVALID: Any = _Invalid()

NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


class Context:
    """The document being checked and the errors found in it so far.

    ``broken`` is set when a value could not be used at all (wrong type, missing
    required key): cross-references and formulas of a broken document are not checked,
    which would only report consequences of the errors already listed.
    """

    def __init__(self, document: YamlDocument) -> None:
        self.document = document
        self.errors: list[DefinitionError] = []
        self.broken = False
        self.formulas: list = []  # FormulaSite s, type-checked in the second pass

    def error(self, path: Path, message: str, *, at_key: bool = False,
              broken: bool = True) -> Any:  # fmt: skip
        """Report a problem with the value (or its key) at ``path``; returns INVALID."""
        doc = self.document
        position = doc.key_position(path) if at_key else doc.value_position(path)
        self.errors.append(DefinitionError(position, message))
        self.broken = self.broken or broken
        return INVALID


Checker = Callable[[Context, Path, Any], Any]


@dataclass(frozen=True)
class Key:
    """A key of a mapping: how its value is checked, whether it is required, its default."""

    check: Checker
    required: bool = False
    default: Any = None


def describe(value: Any) -> str:
    """A value's kind in the words of an error message."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}" if len(value) <= 40 else "a long text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, dt.datetime):
        return "a date and time"
    if isinstance(value, dt.date):
        return "a date"
    return type(value).__name__


def label(path: Path) -> str:
    """How a message names the value at ``path``: ``'flow'``, ``item 2 of 'steps'``."""
    if not path:
        return "the document"
    last = path[-1]
    if isinstance(last, int):
        owner = f" of {label(path[:-1])}" if len(path) > 1 else ""
        return f"item {last + 1}{owner}"
    return repr(last)


def suggestion(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known word, or a list of them."""
    known = list(known)
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; expected one of: {', '.join(known)}" if known else ""


def wrong_type(ctx: Context, path: Path, value: Any, expected: str) -> Any:
    """Report that the value at ``path`` is not what was expected."""
    return ctx.error(path, f"{label(path)} must be {expected}, not {describe(value)}")


# -- scalar checkers -----------------------------------------------------------------


def text(ctx: Context, path: Path, value: Any) -> Any:
    """A text value (a number or date written without quotes is refused)."""
    return value if isinstance(value, str) else wrong_type(ctx, path, value, "text")


def boolean(ctx: Context, path: Path, value: Any) -> Any:
    """true or false."""
    return value if isinstance(value, bool) else wrong_type(ctx, path, value, "true or false")


def integer(minimum: int | None = None, maximum: int | None = None) -> Checker:
    """A whole number within the bounds."""

    def check(ctx: Context, path: Path, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            return wrong_type(ctx, path, value, "a whole number")
        if minimum is not None and value < minimum:
            return ctx.error(path, f"{label(path)} must be at least {minimum}, not {value}")
        if maximum is not None and value > maximum:
            return ctx.error(path, f"{label(path)} must be at most {maximum}, not {value}")
        return value

    return check


def name(ctx: Context, path: Path, value: Any) -> Any:
    """A name: letters, digits and ``_``, starting with a letter."""
    if not isinstance(value, str):
        return wrong_type(ctx, path, value, "a name")
    if not NAME_RE.match(value):
        ctx.error(
            path,
            f"invalid name {value!r}: use letters, digits and _, starting with a letter",
            broken=False,
        )
    return value


def one_of(*choices: str) -> Checker:
    """One of the given words."""

    def check(ctx: Context, path: Path, value: Any) -> Any:
        if not isinstance(value, str):
            return wrong_type(ctx, path, value, f"one of {', '.join(choices)}")
        if value not in choices:
            return ctx.error(
                path, f"{label(path)} must be one of {', '.join(choices)}, not {value!r}"
            )
        return value

    return check


def anything(ctx: Context, path: Path, value: Any) -> Any:
    """Any value, unchecked (a step type's plugin checks it)."""
    return value


# -- containers ----------------------------------------------------------------------


def list_of(item: Checker, *, unique: tuple[str, str] | None = None, non_empty: bool = False,
            result: Callable[[list], Any] = tuple) -> Checker:  # fmt: skip
    """A list whose items pass ``item``.

    ``unique`` is ``(key, noun)``: items' ``key`` (or the items themselves, for key
    ``""``) must not repeat, and a repeat is a "duplicate *noun*".
    """

    def check(ctx: Context, path: Path, value: Any) -> Any:
        if not isinstance(value, list):
            return wrong_type(ctx, path, value, "a list")
        if non_empty and not value:
            return ctx.error(path, f"{label(path)} must list at least one item")
        items = [item(ctx, (*path, i), v) for i, v in enumerate(value)]
        if unique is not None:
            unique_names(ctx, path, value, *unique)
        if any(v is INVALID for v in items):
            return INVALID
        return result(items)

    return check


def unique_names(ctx: Context, path: Path, items: list, key: str, noun: str) -> None:
    """Report every item whose ``key`` repeats an earlier item's."""
    seen: dict[Any, int] = {}
    for i, item in enumerate(items):
        value = item.get(key) if isinstance(item, dict) else item
        if not isinstance(value, str | int):
            continue
        if value in seen:
            where = (*path, i, key) if isinstance(item, dict) else (*path, i)
            first = ctx.document.value_position(
                (*path, seen[value], key) if isinstance(item, dict) else (*path, seen[value])
            )
            ctx.error(where, f"duplicate {noun} {value!r} (first defined at {first})",
                      broken=False)  # fmt: skip
        else:
            seen[value] = i


def mapping(what: str, keys: Mapping[str, Key], *,
            build: Callable[..., Any] = dict,
            after: Callable[[Context, Path, dict], Any] | None = None) -> Checker:  # fmt: skip
    """A mapping with the given keys: unknown keys and missing required ones are errors.

    The checked values are passed to ``build`` as keyword arguments (keys absent from
    the YAML get their defaults); ``after(ctx, path, values)`` may check the values
    together and return the result instead.
    """

    def check(ctx: Context, path: Path, value: Any) -> Any:
        if not isinstance(value, dict):
            return wrong_type(ctx, path, value, f"a mapping ({what})")
        for key in value:
            if key not in keys:
                message = f"unknown key {key!r} in {what}"
                if isinstance(key, str):
                    message += suggestion(key, keys)
                ctx.error((*path, key), message, at_key=True, broken=False)
        values: dict[str, Any] = {}
        valid = True
        for key, spec in keys.items():
            if key in value:
                values[key] = spec.check(ctx, (*path, key), value[key])
                valid = valid and values[key] is not INVALID
            elif spec.required:
                ctx.error(path, f"{what} is missing required key {key!r}")
                valid = False
            elif spec.default is not None:
                values[key] = spec.default
        if not valid:
            return INVALID
        if after is not None:
            values = after(ctx, path, values)
            if values is INVALID:
                return INVALID
        return build(**values)

    return check
