"""What a formula sees while it evaluates: limits, the clock, prior values, field lookup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .types import normalize


@dataclass(frozen=True)
class Limits:
    """Bounds that keep any formula cheap to compile and to evaluate.

    max_length: characters of source (Salesforce allows 3,900).
    max_depth: nesting of the expression tree (operators, calls, parentheses).
    max_text: characters in any Text value the formula builds.
    regex_timeout: seconds one REGEX() match may take.
    """

    max_length: int = 3900
    max_depth: int = 100
    max_text: int = 131072
    regex_timeout: float = 0.25


DEFAULT_LIMITS = Limits()

UTC = dt.UTC


def utcnow() -> dt.datetime:
    """The current instant, aware, in UTC."""
    return dt.datetime.now(UTC)


class EvalEnv:
    """What functions registered with ``needs_env`` get besides their arguments.

    ``limits`` bound what they may build (text length, regex time); ``tz`` is the time
    zone dates are taken in (UTC unless the run configures one).  The clock and prior
    values are read by the compiled code itself (NOW, TODAY, ISCHANGED, PRIORVALUE).
    """

    __slots__ = ("limits", "tz")

    def __init__(self, limits: Limits = DEFAULT_LIMITS, tz: dt.tzinfo | None = None) -> None:
        self.limits = limits
        self.tz = tz or UTC


_MISSING = object()


def lookup(values: Any, path: str) -> Any:
    """Read a field or a path from a mapping, a nested mapping, or a resolver.

    An object with a ``resolve(path)`` method is asked directly (records and lookups).
    A mapping is tried for the whole path first (``{"Account.Name": ...}``), then one
    segment at a time through nested mappings or resolvers.  A missing name is blank.
    """
    resolve = getattr(values, "resolve", None)
    if resolve is not None and not isinstance(values, Mapping):
        return normalize(resolve(path))
    if not isinstance(values, Mapping):
        return None
    value = values.get(path, _MISSING)
    if value is not _MISSING:
        return normalize(value)
    if "." not in path:
        return None
    current: Any = values
    parts = path.split(".")
    for index, part in enumerate(parts):
        if current is None:
            return None
        resolve = getattr(current, "resolve", None)
        if resolve is not None and not isinstance(current, Mapping):
            return normalize(resolve(".".join(parts[index:])))
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return normalize(current)
