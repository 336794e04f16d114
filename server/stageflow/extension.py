"""The public plugin API: what a plugin's ``register_*`` hooks return, and what they get.

A plugin imports these from :mod:`stageflow` and subclasses the one it extends::

    from stageflow import BackgroundStepType, Parameter, hookimpl

    class Shout(BackgroundStepType):
        def run(self, context):
            return {"text": context.parameters["text"].upper()}

    @hookimpl
    def register_step_types():
        return [Shout(name="shout", parameters={"text": Parameter("Text", required=True)},
                      outputs={"text": "Text"})]

The hooks themselves are documented in :mod:`stageflow.hookspecs` and ``docs/plugins.md``.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: A record: ``Id``, ``Owner``, ``CreatedAt``, ``UpdatedAt`` plus the object's fields.
Record = dict[str, Any]


# -- step types ------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """One parameter a step type takes in a flow definition.

    ``type`` is a formula type name (``Text``, ``Number``, ``Checkbox``, ``Date``, …),
    ``Map`` (a mapping, e.g. field → formula) or ``List``.
    """

    type: str = "Text"
    required: bool = False
    description: str = ""
    default: Any = None
    #: The engine passes the value as written, ``=`` formulas and all: the step type
    #: evaluates them itself (a form's fields, whose formulas read the form's values).
    raw: bool = False


@dataclass(frozen=True)
class StepContext:
    """What a step sees when it runs: its parameters (formulas already evaluated) and run.

    ``attempt`` counts from 1; the engine sets ``run_id`` and ``step_run_id``.
    """

    step: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    stage: str = ""
    run_id: int | None = None
    step_run_id: int | None = None
    attempt: int = 1
    record: Mapping[str, Any] | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    #: The run's record as ``(object, id)``, if it has one.
    record_ref: tuple[str, str] | None = None
    #: What the engine offers steps: ``services.records`` (a RecordService: get, create,
    #: update, query, all validated against the object's schema) and
    #: ``services.launch(name, inputs=…, record=…)`` (starts another orchestration).
    services: Any = None

    @property
    def idempotency_key(self) -> str:
        """Unique per step run and attempt: pass it on to external systems to de-duplicate."""
        return f"{self.step_run_id}:{self.attempt}"


class StepWaiting(Exception):
    """Raised by a step that cannot finish yet: the engine keeps it InProgress.

    The engine asks the step again on every later event of its run (``wait``), or
    finishes it itself when what it waits for happens (a child run ending).
    """


class StepError(Exception):
    """A step failed.  ``retry=False`` when another attempt cannot succeed.

    An interactive step refusing what a person submitted gives ``errors``: field name →
    what is wrong (``_form`` for the whole form), shown at each field.
    """

    def __init__(
        self, message: str, *, retry: bool = True, errors: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry
        self.errors = dict(errors or {})


@dataclass
class StepType:
    """The code behind a flow: its name, parameters and outputs.

    Do not subclass this directly: subclass :class:`BackgroundStepType` (write ``run``)
    or :class:`InteractiveStepType` (write ``render`` and ``complete``).
    ``outputs`` maps output names to formula types, so that ``$Steps.NAME.OUTPUT`` in
    formulas is type-checked when a definition is deployed.
    """

    name: str
    label: str = ""
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    interactive: bool = field(default=False, init=False)

    def validate_parameters(self, parameters: Mapping[str, Any]) -> list[str]:
        """Every problem with a flow's parameters: unknown names, missing required ones."""
        problems = [
            f"unknown parameter {name!r} for step type {self.name!r}"
            f" (it takes: {', '.join(self.parameters) or 'no parameters'})"
            for name in parameters
            if name not in self.parameters
        ]
        problems += [
            f"step type {self.name!r} needs the parameter {name!r}"
            for name, spec in self.parameters.items()
            if spec.required and parameters.get(name) is None
        ]
        return problems

    def output_schema(self, parameters: Mapping[str, Any]) -> Mapping[str, str]:
        """The outputs of a flow with these parameters (override when they vary, as forms do)."""
        return self.outputs

    def _checked_outputs(self, outputs: Any) -> dict[str, Any]:
        if outputs is None:
            return {}
        if not isinstance(outputs, Mapping) or not all(isinstance(k, str) for k in outputs):
            raise StepError(
                f"step type {self.name!r} returned {type(outputs).__name__}, "
                "not a mapping of output names to values",
                retry=False,
            )
        return dict(outputs)


@dataclass
class BackgroundStepType(StepType):
    """A step that runs without a person, as a durable job.  Plugins write :meth:`run`.

    The engine calls :meth:`execute`, which checks the parameters, turns every failure
    into a :class:`StepError` and checks the outputs; it may run more than once for one
    step (at least once), so effects should use ``context.idempotency_key``.
    """

    def run(self, context: StepContext) -> Mapping[str, Any] | None:
        """Do the work; return the step's outputs.  Raise :class:`StepError` to fail."""
        raise NotImplementedError(f"step type {self.name!r} must implement run(context)")

    def execute(self, context: StepContext) -> dict[str, Any]:
        """Run the step with the bookkeeping around it; raises only :class:`StepError`."""
        problems = self.validate_parameters(context.parameters)
        if problems:
            raise StepError("; ".join(problems), retry=False)
        try:
            outputs = self.run(context)
        except (StepError, StepWaiting):
            raise
        except Exception as error:
            raise StepError(f"{type(error).__name__}: {error}") from error
        return self._checked_outputs(outputs)


@dataclass
class InteractiveStepType(StepType):
    """A step a person completes (a form, an approval).  Plugins write both methods."""

    interactive: bool = field(default=True, init=False)

    def render(self, context: StepContext) -> Mapping[str, Any]:
        """What the work item shows: e.g. ``{"fields": [...], "values": {...}}``."""
        raise NotImplementedError(f"step type {self.name!r} must implement render(context)")

    def complete(self, context: StepContext, submitted: Mapping[str, Any]) -> Mapping[str, Any]:
        """Validate what the person submitted and return the outputs.

        Raise :class:`StepError` with a message the person can act on to refuse it.
        """
        raise NotImplementedError(f"step type {self.name!r} must implement complete()")

    def finish(self, context: StepContext, submitted: Mapping[str, Any]) -> dict[str, Any]:
        """Call :meth:`complete` and check its outputs (what the engine calls)."""
        return self._checked_outputs(self.complete(context, submitted))


# -- record sources --------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of a query: the records and the cursor of the next page (None: last)."""

    records: list[Record]
    cursor: str | None = None


@dataclass(frozen=True)
class Change:
    """One entry of a record source's change feed."""

    object: str
    id: str
    operation: str  # "created" | "updated" | "deleted"
    values: Mapping[str, Any]  # the record after the change (empty when deleted)
    prior: Mapping[str, Any] | None  # the record before the change (None when created)
    cursor: str  # pass it to ``changes(since=...)`` to read what came after


class RecordSource(ABC):
    """Where the records of some objects live: Stageflow's own tables, or another system.

    Set ``name`` (what ``source:`` in an object definition refers to).  Ids are strings.
    Every method names the object, so one source can serve many objects.
    """

    name: str = ""
    #: True when the source writes to Stageflow's own database, in the caller's
    #: transaction (the built-in source): triggers then fire in the same transaction as
    #: the write.  Other sources' changes reach triggers through :meth:`changes`.
    transactional: bool = False

    def objects(self) -> Mapping[str, Mapping[str, str]]:
        """Objects this source defines itself: ``{object: {field: field type}}``.

        Field types are record field types (``text``, ``number``, ``date``…).  An object
        defined in YAML with ``source: NAME`` takes precedence (and adds labels, access
        and validation rules).  Sources that only store YAML-defined objects return ``{}``.
        """
        return {}

    @abstractmethod
    def get(self, object: str, id: str) -> Record | None:
        """The record with this id, or None."""

    @abstractmethod
    def query(
        self,
        object: str,
        where: Mapping[str, Any] | None = None,
        *,
        order_by: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page:
        """Records whose fields equal ``where``'s values, at most ``limit``, after ``cursor``.

        ``where`` may name system fields too (``Owner`` by user name).  ``order_by`` is a
        field name, ``-`` in front for descending; None sorts by ``Id``.  The cursor is
        the source's own text, from the previous :class:`Page`.
        """

    @abstractmethod
    def create(self, object: str, values: Mapping[str, Any], *, owner: str | None = None) -> Record:
        """Store a new record and return it with its ``Id`` and timestamps."""

    @abstractmethod
    def update(self, object: str, id: str, values: Mapping[str, Any]) -> Record:
        """Change some fields of a record; return the whole record.  KeyError if missing."""

    @abstractmethod
    def delete(self, object: str, id: str) -> None:
        """Remove a record.  KeyError if missing."""

    def prior(self, object: str, id: str) -> Record | None:
        """The record as it was before its last update (``$Record__Prior`` in runs), or
        None when the source does not keep it."""
        return None

    @abstractmethod
    def changes(self, object: str, since: str | None = None) -> Iterable[Change]:
        """The changes after cursor ``since`` (None: from the start), oldest first.

        Triggers and waiting steps follow this feed, so changes made outside Stageflow
        start orchestrations too.
        """


# -- formula functions -----------------------------------------------------------------


@dataclass(frozen=True)
class FormulaFunction:
    """A function plugins add to the formula language, type-checked like a built-in.

    ``signature`` is a text such as ``"(Text, [Number]) -> Text"`` or a list of
    overloads (see :mod:`stageflow.grammar.functions`).  ``implementation`` gets Python
    values (Decimal, str, bool, date, datetime, time, None) and returns one.  ``doc``
    defaults to the implementation's docstring.  With ``blanks="propagate"`` a blank
    argument makes the result blank without calling the implementation; ``"accept"``
    passes ``None`` on.
    """

    name: str
    signature: str | Sequence[str]
    implementation: Callable[..., Any]
    doc: str | None = None
    blanks: str = "propagate"


# -- notifications ---------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """A person to notify."""

    name: str
    email: str | None = None


@dataclass(frozen=True)
class Message:
    """A notification: who, what, and a link to the thing it is about."""

    recipients: tuple[Recipient, ...]
    subject: str
    body: str = ""
    link: str | None = None


@dataclass
class NotificationChannel:
    """A way to tell people something (email, chat, webhook, the log).  Write :meth:`send`."""

    name: str
    label: str = ""

    def send(self, message: Message) -> None:
        """Deliver the message; raise an exception when it could not be delivered."""
        raise NotImplementedError(f"notification channel {self.name!r} must implement send()")


# -- assignees and run events ----------------------------------------------------------


class Directory(Protocol):
    """The people Stageflow knows, as ``resolve_assignee`` sees them."""

    def user(self, name: str) -> Mapping[str, Any] | None:
        """The user's ``name``, ``email``, ``manager`` and ``active``, or None."""


@dataclass(frozen=True)
class AssigneeContext:
    """Where an assignee is being resolved: the run, its record, and the directory."""

    directory: Directory
    run_id: int | None = None
    stage: str = ""
    step: str = ""
    record: Mapping[str, Any] | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunEvent:
    """One transition in a run's event log: who, what, when, from → to, and why.

    ``kind`` is ``run``, ``stage``, ``step`` or ``work_item``; ``name`` is the stage or
    step name (empty for the run itself); ``actor`` is a user name, or None for the system.
    """

    run_id: int
    orchestration: str
    kind: str
    name: str
    from_status: str | None
    to_status: str
    at: dt.datetime
    actor: str | None = None
    reason: str = ""
