"""What a run's formulas read: its record, inputs, steps, stages, the run and the user.

:class:`RunValues` answers ``resolve(path)`` for the formula evaluator, reading lazily:
a condition that never mentions the record never loads it.  Bare field names and
``$Record.Field`` read the run's record; ``Account.Name`` follows the lookup ``Account``
to its record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..definitions.spec import FIELD_TYPES, OrchestrationSpec
from ..grammar import types as T


class RunValues:
    """Formula values of one run, at one moment of one transaction."""

    def __init__(
        self,
        *,
        run: Any,
        spec: OrchestrationSpec,
        stages: Mapping[str, Any],
        steps: Mapping[str, Any],
        record: Callable[[], Mapping[str, Any] | None],
        prior: Callable[[], Mapping[str, Any] | None],
        follow: Callable[[Mapping[str, Any], str], Mapping[str, Any] | None],
        user: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        self.run = run
        self.spec = spec
        self.stages = stages
        self.steps = steps
        self._record = record
        self._prior = prior
        self._follow = follow
        self._user = user
        self._cache: dict[str, Any] = {}

    def resolve(self, path: str) -> Any:
        """The value of a field path, or None (blank)."""
        if path in self._cache:
            return self._cache[path]
        value = self._resolve(path)
        self._cache[path] = value
        return value

    def _resolve(self, path: str) -> Any:
        head, _, rest = path.partition(".")
        if head == "$Record":
            return self._on_record(self._record(), rest)
        if head == "$Record__Prior":
            return self._on_record(self._prior(), rest)
        if head == "$Input":
            return self._input(rest)
        if head == "$Steps":
            name, _, attribute = rest.partition(".")
            row = self.steps.get(name)
            if row is None:
                return None
            if attribute == "Status":
                return row.status
            return T.normalize((row.outputs or {}).get(attribute))
        if head == "$Stages":
            name, _, attribute = rest.partition(".")
            row = self.stages.get(name)
            return row.status if row is not None and attribute == "Status" else None
        if head == "$Run":
            return {"Id": str(self.run.id), "StartedAt": self.run.started_at}.get(rest)
        if head == "$User":
            return T.normalize((self._user() if self._user else {}).get(rest))
        return self._on_record(self._record(), path)

    def _input(self, name: str) -> Any:
        value = (self.run.inputs or {}).get(name)
        declared = next((i for i in self.spec.inputs if i.name == name), None)
        if declared is None:
            return T.normalize(value)
        try:
            return T.coerce(value, FIELD_TYPES.get(declared.type, T.ANY))
        except ValueError:
            return None

    def _on_record(self, record: Mapping[str, Any] | None, path: str) -> Any:
        return _on_record(record, path, self._follow)


class RecordValues:
    """Formula values of a record that changed, for a trigger's condition.

    Bare field names and ``$Record.Field`` read the record (lookups followed);
    ``$Record__Prior`` reads it as it was and ``$User`` whoever made the change (each
    loaded only if a formula asks).
    """

    def __init__(
        self,
        record: Mapping[str, Any] | None,
        follow: Callable[[Mapping[str, Any], str], Mapping[str, Any] | None],
        *,
        prior: Callable[[], Mapping[str, Any] | None] | None = None,
        user: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        self._record = record
        self._follow = follow
        self._prior = prior
        self._user = user

    def resolve(self, path: str) -> Any:
        """The value of a field path, or None (blank)."""
        head, _, rest = path.partition(".")
        if head == "$Record":
            return _on_record(self._record, rest, self._follow)
        if head == "$Record__Prior":
            prior = self._prior() if self._prior is not None else None
            return _on_record(prior, rest, self._follow)
        if head == "$User":
            return T.normalize((self._user() if self._user else {}).get(rest))
        return _on_record(self._record, path, self._follow)


def _on_record(
    record: Mapping[str, Any] | None,
    path: str,
    follow: Callable[[Mapping[str, Any], str], Mapping[str, Any] | None],
) -> Any:
    while record is not None:
        head, dot, rest = path.partition(".")
        if not dot:
            return record.get(head)
        record = follow(record, head)
        path = rest
    return None
