"""Definitions as the engine sees them: plain, immutable specs.

The YAML loader (:mod:`stageflow.definitions.loader`) validates a document and builds
one of these; the engine only ever reads specs, never YAML.  Specs are separate from the
runtime state (runs, stage runs, step runs in :mod:`stageflow.models`), as in
SpiffWorkflow's split of task specs and tasks.

Formula-valued attributes (``entry``, ``exit``, ``condition``, ``assignee`` and any
parameter string starting with ``=``) hold the formula text; the loader has already
type-checked them, and :class:`Formula` values are compiled (and cached) on use.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Any

#: The kinds of definition document.
KINDS = ("object", "flow", "orchestration", "calendar", "directory")

#: Record field types, and the formula type each reads as.
FIELD_TYPES = {
    "text": "Text",
    "textarea": "Text",
    "email": "Text",
    "url": "Text",
    "number": "Number",
    "checkbox": "Checkbox",
    "date": "Date",
    "datetime": "DateTime",
    "time": "Time",
    "picklist": "Picklist",
    "multipicklist": "MultiPicklist",
    "user": "Text",
    "lookup": "Text",
}

#: Fields every record has, and their formula types.
SYSTEM_FIELDS = {
    "Id": "Text",
    "Owner": "Text",
    "CreatedAt": "DateTime",
    "UpdatedAt": "DateTime",
    "CreatedBy": "Text",
    "UpdatedBy": "Text",
}


@dataclass(frozen=True)
class Position:
    """Where a document or value stands in its file (1-based)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class FieldSpec:
    """A field of an object, or of a form flow.

    ``required`` is a bool or a formula text (forms: required when it holds);
    ``default`` a formula text; ``values`` the picklist values; ``object`` the lookup's
    target object; ``scale`` the decimal places of a number.
    """

    name: str
    type: str
    label: str = ""
    required: bool | str = False
    default: str | None = None
    values: tuple[str, ...] = ()
    scale: int | None = None
    object: str | None = None

    @property
    def formula_type(self) -> str:
        return FIELD_TYPES[self.type]


@dataclass(frozen=True)
class ValidationSpec:
    """A validation rule: the record (or form) is refused when ``condition`` is FALSE."""

    condition: str
    message: str


@dataclass(frozen=True)
class ObjectSpec:
    """A record type: its fields, where its records live, who may see them."""

    name: str
    fields: tuple[FieldSpec, ...]
    source: str = "builtin"
    access: str = "private"  # private | read | read_write
    label: str = ""
    validations: tuple[ValidationSpec, ...] = ()

    def field(self, name: str) -> FieldSpec | None:
        """The field of that name, or None."""
        return next((f for f in self.fields if f.name == name), None)

    @functools.cached_property
    def value_types(self) -> dict[str, str]:
        """The formula type of each field and system field, by name."""
        return {**SYSTEM_FIELDS, **{f.name: f.formula_type for f in self.fields}}

    def formula_schema(
        self, objects: dict[str, ObjectSpec] | None = None, *, prefix: str = "", depth: int = 2
    ) -> dict[str, str]:
        """Formula types of this object's fields and system fields, and through lookups
        (``Account.Name``) up to ``depth`` levels into ``objects``."""
        schema = {prefix + name: type_ for name, type_ in SYSTEM_FIELDS.items()}
        for spec in self.fields:
            schema[prefix + spec.name] = spec.formula_type
            target = (objects or {}).get(spec.object or "")
            if spec.type == "lookup" and target is not None and depth > 0:
                schema.update(
                    target.formula_schema(objects, prefix=f"{prefix}{spec.name}.", depth=depth - 1)
                )
        return schema


@dataclass(frozen=True)
class FlowSpec:
    """A reusable unit of work: a step type and its parameters.

    ``params`` holds every key of the document other than kind/name/type/label; the step
    type's parameter schema says what is allowed.  Form flows also carry ``fields`` and
    ``validations``.
    """

    name: str
    type: str
    label: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    fields: tuple[FieldSpec, ...] = ()
    validations: tuple[ValidationSpec, ...] = ()


@dataclass(frozen=True)
class RetrySpec:
    """How often a background step is tried, and the wait before try n+1:
    ``backoff * 2 ** (n - 1)`` seconds."""

    attempts: int = 1
    backoff: float = 10.0


@dataclass(frozen=True)
class StepSpec:
    """A step of a stage: the flow it calls and when it may start and finish."""

    name: str
    flow: str
    label: str = ""
    entry: str | None = None  # Checkbox formula; None: starts with the stage
    exit: str | None = None  # interactive steps: completes the work item when TRUE
    assignee: str | None = None  # Text formula; interactive steps only
    inputs: dict[str, Any] = field(default_factory=dict)  # overrides the flow's params
    retry: RetrySpec = field(default_factory=RetrySpec)
    sla: dict[str, Any] | None = None  # validated and used by the SLA feature


@dataclass(frozen=True)
class StageSpec:
    """A stage: its steps run in parallel; stages run in sequence."""

    name: str
    steps: tuple[StepSpec, ...]
    label: str = ""
    entry: str | None = None  # FALSE: the stage is Skipped
    exit: str | None = None  # None: every step Completed or Skipped


@dataclass(frozen=True)
class TriggerSpec:
    """What starts a run: a record change, or an explicit launch (``autolaunched``)."""

    type: str = "autolaunched"  # record | autolaunched
    object: str | None = None
    when: str = "created_or_updated"  # created | updated | created_or_updated
    condition: str | None = None
    only_when_changed: bool = False


@dataclass(frozen=True)
class InputSpec:
    """An input a run is launched with (``$Input.name``)."""

    name: str
    type: str = "text"  # a record field type
    required: bool = False
    default: Any = None


@dataclass(frozen=True)
class OrchestrationSpec:
    """An orchestration: a trigger, inputs and stages in sequence."""

    name: str
    stages: tuple[StageSpec, ...]
    label: str = ""
    trigger: TriggerSpec = field(default_factory=TriggerSpec)
    inputs: tuple[InputSpec, ...] = ()
    object: str | None = None  # the object of the run's record (the trigger's, if any)

    def stage(self, name: str) -> StageSpec | None:
        """The stage of that name, or None."""
        return next((s for s in self.stages if s.name == name), None)


@dataclass(frozen=True)
class CalendarSpec:
    """Business hours: a time zone, working hours per weekday, holidays.

    ``hours`` maps weekday numbers (0 = Monday) to ``(start, end)`` pairs of
    ``"HH:MM"``; ``holidays`` holds ISO dates, and ``MM-DD`` for yearly ones.
    """

    name: str
    time_zone: str
    hours: dict[int, tuple[tuple[str, str], ...]]
    holidays: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserSpec:
    name: str
    email: str | None = None
    manager: str | None = None
    admin: bool = False
    active: bool = True


@dataclass(frozen=True)
class TeamSpec:
    """A group or a queue and its members (user names)."""

    name: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class DirectorySpec:
    """People: users, groups and queues (passwords are never in YAML)."""

    users: tuple[UserSpec, ...] = ()
    groups: tuple[TeamSpec, ...] = ()
    queues: tuple[TeamSpec, ...] = ()


Spec = ObjectSpec | FlowSpec | OrchestrationSpec | CalendarSpec | DirectorySpec


#: The spec class of each kind of document.
SPEC_CLASSES: dict[str, type] = {
    "object": ObjectSpec,
    "flow": FlowSpec,
    "orchestration": OrchestrationSpec,
    "calendar": CalendarSpec,
    "directory": DirectorySpec,
}


def to_data(spec: Any) -> Any:
    """A spec as JSON-ready data (stored with each definition version)."""
    if dataclasses.is_dataclass(spec):
        return {f.name: to_data(getattr(spec, f.name)) for f in dataclasses.fields(spec)}
    if isinstance(spec, (list, tuple)):
        return [to_data(item) for item in spec]
    if isinstance(spec, dict):
        return {str(key): to_data(value) for key, value in spec.items()}
    return spec


def from_data(kind: str, data: dict[str, Any]) -> Spec:
    """Rebuild the spec of a ``kind`` from :func:`to_data`'s output."""
    return _build(SPEC_CLASSES[kind], data)


def _build(annotation: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        classes = [a for a in options if dataclasses.is_dataclass(a)]
        return _build(classes[0], data) if classes and isinstance(data, dict) else data
    if dataclasses.is_dataclass(annotation):
        hints = typing.get_type_hints(annotation)
        names = {f.name for f in dataclasses.fields(annotation)}
        return annotation(**{k: _build(hints[k], v) for k, v in data.items() if k in names})
    if origin is tuple:
        args = typing.get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], item) for item in data)
        return tuple(_build(a, item) for a, item in zip(args, data, strict=False))
    if origin is dict:
        key_type, value_type = typing.get_args(annotation)
        return {key_type(k) if key_type is int else k: _build(value_type, v)
                for k, v in data.items()}  # fmt: skip
    return data
