"""What a formula sees while it evaluates: limits, the clock, prior values, field lookup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import FormulaRuntimeError
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
    """One evaluation's context: the captured clock, prior values, limits.

    ``now`` is read once per evaluation, so NOW(), TODAY() and TIMENOW() agree.
    ``prior`` is the mapping of values before an update; ``None`` means the record is new.
    ``tz`` is the time zone TODAY() and DATEVALUE(DateTime) use (UTC by default).
    """

    __slots__ = ("_clock", "_now", "limits", "prior", "tz")

    def __init__(
        self,
        prior: Mapping[str, Any] | Any | None = None,
        now: dt.datetime | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        limits: Limits = DEFAULT_LIMITS,
        tz: dt.tzinfo | None = None,
    ) -> None:
        self._now = now
        self._clock = clock
        self.prior = prior
        self.limits = limits
        self.tz = tz or UTC

    @property
    def now(self) -> dt.datetime:
        now = self._now
        if now is None:
            now = self._now = self._clock()
        if now.tzinfo is not UTC:
            now = self._now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
        return now

    @property
    def today(self) -> dt.date:
        now = self.now
        return now.date() if self.tz is UTC else now.astimezone(self.tz).date()

    @property
    def is_new(self) -> bool:
        return self.prior is None

    def prior_value(self, path: str) -> Any:
        """The value ``path`` had before the update (blank when the record is new)."""
        if self.prior is None:
            return None
        return lookup(self.prior, path)

    def check_text(self, value: str | None) -> str | None:
        """Refuse a Text value longer than the limit; pass it through otherwise."""
        if value is not None and len(value) > self.limits.max_text:
            raise FormulaRuntimeError(
                f"Text is too long ({len(value):,} characters). "
                f"Maximum length is {self.limits.max_text:,} characters"
            )
        return value


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


def getter(values: Any) -> Callable[[str], Any]:
    """A function from a field path to its normalised value, for one evaluation."""
    if values is None:
        return _blank
    return lambda path: lookup(values, path)


def _blank(path: str) -> None:
    return None
