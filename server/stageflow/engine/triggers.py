"""Record-triggered orchestrations: which runs a record change starts.

Every active orchestration with ``trigger: {type: record}`` is indexed by its object,
with its condition compiled once; the index is rebuilt only when the set of active
orchestration versions changes.  On each change of a record (created or updated,
through any record source) the orchestrations of its object whose ``when`` matches are
asked in turn:

- the condition (none: TRUE) must hold on the record as it is now, with the record as
  it was (``ISCHANGED``, ``PRIORVALUE``, ``$Record__Prior``) for updates;
- with ``only_when_changed``, an update starts a run only if the condition did not
  already hold on the record as it was (false → true).

The runs start in the transaction that is telling of the change: the record write's
own for the built-in source, the change feed's for the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..definitions import store
from ..definitions.spec import OrchestrationSpec
from ..definitions.validate import USER_GLOBALS, record_schema
from ..grammar import FormulaError, compile_formula
from ..models import User
from ..records import FormulaRecord, RecordChange
from .context import RecordValues

if TYPE_CHECKING:
    from .runs import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trigger:
    """One record-triggered orchestration, ready to test."""

    orchestration: str
    version_id: int
    when: str
    condition: Any  # a compiled Formula, or None: always
    only_when_changed: bool
    #: The condition reads only the record's own fields (no lookups, no ``$`` globals):
    #: it is given them as a plain dict, its fastest way in.
    plain: bool = False

    def wants(self, operation: str) -> bool:
        """Whether a change of this kind (``created``/``updated``) may start a run."""
        return self.when == "created_or_updated" or self.when == operation


class Triggers:
    """The record triggers of the active orchestrations, by object."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._built_from: Mapping[str, int] | None = None
        self._by_object: dict[str, list[Trigger]] = {}
        #: per object, the fields its plain triggers' conditions read
        self._plain_fields: dict[str, tuple[str, ...]] = {}

    def for_object(self, object_name: str) -> list[Trigger]:
        """The triggers on ``object_name``, in orchestration name order."""
        active = store.active_version_ids("orchestration")
        if active != self._built_from:
            self._by_object = self._build(active)
            self._plain_fields = {
                name: tuple({f for t in triggers if t.plain and t.condition is not None
                             for f in t.condition.fields})
                for name, triggers in self._by_object.items()
            }  # fmt: skip
            self._built_from = active
        return self._by_object.get(object_name, [])

    def _build(self, active: Mapping[str, int]) -> dict[str, list[Trigger]]:
        by_object: dict[str, list[Trigger]] = {}
        for name in sorted(active):
            spec = store.spec_of(active[name], "orchestration")
            assert isinstance(spec, OrchestrationSpec)  # noqa: S101 - the store keeps kinds apart
            trigger = spec.trigger
            if trigger.type != "record" or not trigger.object:
                continue
            condition = trigger.condition and self._compile(trigger.condition, trigger.object)
            fields = condition.fields if condition else ()
            plain = all("." not in f and not f.startswith("$") for f in fields)
            by_object.setdefault(trigger.object, []).append(Trigger(
                name, active[name], trigger.when, condition, trigger.only_when_changed, plain
            ))  # fmt: skip
        return by_object

    def _compile(self, condition: str, object_name: str) -> Any:
        """The condition compiled against the object's schema, so that it is checked and
        compiled for those types (fast); without one if the object changed since."""
        functions = self.engine.functions
        try:
            spec = self.engine.records.object_spec(object_name)
            objects = {o.name: o for o in self.engine.records.objects()}
            schema = {**record_schema(spec, objects), **USER_GLOBALS}
            return compile_formula(condition, schema, expected="Checkbox", functions=functions)
        except (FormulaError, LookupError):
            return compile_formula(condition, functions=functions)

    def on_change(self, change: RecordChange) -> list[int]:
        """Start the runs this change calls for; return their ids."""
        if change.operation not in ("created", "updated"):
            return []
        triggers = [t for t in self.for_object(change.spec.name) if t.wants(change.operation)]
        if not triggers:
            return []
        engine = self.engine
        now = engine.clock.now()
        record = FormulaRecord(change.spec, change.record)
        prior_cache: list[Mapping[str, Any] | None] = []

        def prior() -> Mapping[str, Any] | None:
            if not prior_cache:
                raw = change.prior() if change.operation == "updated" else None
                prior_cache.append(None if raw is None else FormulaRecord(change.spec, raw))
            return prior_cache[0]

        users: list[Mapping[str, Any]] = []

        def user() -> Mapping[str, Any]:
            if not users:
                users.append(_user_values(change.actor))
            return users[0]

        values = RecordValues(record, engine.follow, prior=prior, user=user)
        fields = self._plain_fields.get(change.spec.name, ())
        plain = {name: record.get(name) for name in fields}
        before = _Prior(prior, engine, user) if change.operation == "updated" else None
        started = []
        for trigger in triggers:
            if not self._holds(trigger, plain if trigger.plain else values, before, now):
                continue
            if trigger.only_when_changed and change.operation == "updated":
                was = prior()
                if was is not None:
                    old = ({name: was.get(name) for name in fields} if trigger.plain
                           else RecordValues(was, engine.follow, user=user))  # fmt: skip
                    if self._holds(trigger, old, None, now):
                        continue  # true → true: nothing new
            run = engine.start_triggered(
                trigger.orchestration, trigger.version_id,
                (change.spec.name, str(change.record["Id"])), change.actor,
            )  # fmt: skip
            started.append(run)
        return started

    @staticmethod
    def _holds(trigger: Trigger, values: Any, prior: Any, now: Any) -> bool:
        if trigger.condition is None:
            return True
        try:
            return trigger.condition.test(values, prior, now=now)
        except FormulaError as error:
            # A condition that cannot be evaluated on this record starts nothing; the
            # record change itself stands.
            log.warning("trigger of %s: condition failed: %s", trigger.orchestration, error)
            return False


class _Prior:
    """The record as it was, for ``ISCHANGED``/``PRIORVALUE``: loaded on first use."""

    def __init__(self, load: Any, engine: Engine, user: Callable[[], Mapping[str, Any]]) -> None:
        self._load = load
        self._engine = engine
        self._user = user

    def resolve(self, path: str) -> Any:
        """The value the field path had before the update."""
        return RecordValues(self._load(), self._engine.follow, user=self._user).resolve(path)


def _user_values(name: str | None) -> Mapping[str, Any]:
    """``$User`` for a change made by ``name`` (the system: blank)."""
    if not name:
        return {}
    user = User.get_or_none(User.name == name)
    if user is None:
        return {"Name": name}
    return {"Name": user.name, "Id": str(user.id), "Email": user.email,
            "IsAdmin": bool(user.is_admin)}  # fmt: skip
