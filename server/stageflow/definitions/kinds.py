"""The shape of each kind of definition document, and the specs built from it.

This is the first pass: each document on its own.  Formulas are recorded as
:class:`FormulaSite` s on the context and type-checked in the second pass
(:mod:`stageflow.definitions.validate`), once every object, flow and step is known.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import spec as S
from .durations import DURATION_HELP, parse_duration
from .shapes import (
    INVALID,
    Checker,
    Context,
    Key,
    anything,
    boolean,
    integer,
    list_of,
    mapping,
    name,
    one_of,
    suggestion,
    text,
    wrong_type,
)
from .steptypes import StepType
from .yamlio import Path, json_safe

# -- formulas --------------------------------------------------------------------------


@dataclass(frozen=True)
class FormulaSite:
    """A formula found in a document, to type-check once the schemas are known.

    ``scope`` says which names it sees: ``record`` (a trigger condition: the object's
    fields), ``run`` (stages and steps: record, inputs, steps, stages, user, run) or
    ``form`` (a form's fields).  ``skip`` is the length of a leading ``=``; ``literal``
    marks a value written as a literal and turned into a formula (errors point at it).
    ``expected`` is the result type (``Checkbox``, ``Text``, ``DateTime``…).
    """

    path: Path
    text: str
    scope: str
    expected: str | None = None
    skip: int = 0
    literal: bool = False


def formula_literal(value: Any) -> str:
    """A formula giving ``value``: ``"text"``, ``42``, ``TRUE``, ``DATEVALUE("…")``."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return format(Decimal(str(value)), "f")  # formulas have no exponent notation
    if isinstance(value, dt.datetime):
        return f'DATETIMEVALUE("{value.isoformat()}")'
    if isinstance(value, dt.date):
        return f'DATEVALUE("{value.isoformat()}")'
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def formula(scope: str, expected: str | None = None) -> Checker:
    """A formula-valued key (``condition``, ``entry``, ``exit``): text, or true/false.

    A leading ``=`` is allowed and dropped.
    """

    def check(ctx: Context, path: Path, value: Any) -> Any:
        if isinstance(value, bool):
            return formula_literal(value)
        if not isinstance(value, str):
            return wrong_type(ctx, path, value, "a formula")
        skip = 1 if value.startswith("=") else 0
        ctx.formulas.append(FormulaSite(path, value[skip:], scope, expected, skip))
        return value[skip:]

    return check


#: An assignee written as a literal target: ``queue:tier1``, ``user:alice``, ``group:x``.
ASSIGNEE_TARGET = re.compile(r"[a-z_]+:[\w.@-]+\Z")


def assignee(ctx: Context, path: Path, value: Any) -> Any:
    """``kind:name`` (kept as a text formula giving it), or a Text formula."""
    if isinstance(value, str) and ASSIGNEE_TARGET.match(value):
        return formula_literal(value)
    return formula("run", "Text")(ctx, path, value)


def duration(ctx: Context, path: Path, value: Any) -> Any:
    """A duration, as seconds."""
    try:
        return parse_duration(value)
    except ValueError:
        return ctx.error(path, f"invalid duration {value!r}: {DURATION_HELP}")


def duration_text(ctx: Context, path: Path, value: Any) -> Any:
    """A duration, checked and kept as written (SLA settings stay as the admin wrote them)."""
    return value if duration(ctx, path, value) is not INVALID else INVALID


# -- fields ----------------------------------------------------------------------------

_PICKLISTS = ("picklist", "multipicklist")


def _required(form: bool) -> Checker:
    def check(ctx: Context, path: Path, value: Any) -> Any:
        if form and isinstance(value, str) and value.startswith("="):
            ctx.formulas.append(FormulaSite(path, value[1:], "form", "Checkbox", 1))
            return value[1:]
        if isinstance(value, bool):
            return value
        return wrong_type(ctx, path, value, "true, false or a formula starting with ="
                          if form else "true or false")  # fmt: skip

    return check


def _default(ctx: Context, path: Path, value: Any) -> Any:
    # The field's type is only known once the whole field is read: see _check_field.
    if isinstance(value, str) and value.startswith("="):
        return value[1:]
    if isinstance(value, list | dict) or value is None:
        return wrong_type(ctx, path, value, "a value or a formula starting with =")
    return formula_literal(value)


def _check_field(scope: str) -> Any:
    def after(ctx: Context, path: Path, values: dict) -> Any:
        type_ = values["type"]
        if type_ in _PICKLISTS and not values.get("values"):
            return ctx.error(path, f"a {type_} field needs a list of values")
        if "values" in values and type_ not in _PICKLISTS:
            ctx.error((*path, "values"), "values are only for picklist fields", at_key=True)
        if type_ == "lookup" and not values.get("object"):
            return ctx.error(path, "a lookup field needs the object it points to")
        if "object" in values and type_ != "lookup":
            ctx.error((*path, "object"), "object is only for lookup fields", at_key=True)
        if "scale" in values and type_ != "number":
            ctx.error((*path, "scale"), "scale is only for number fields", at_key=True)
        raw = ctx.document.data_at((*path, "default"))
        literal = isinstance(raw, str) and not raw.startswith("=")
        if type_ == "picklist" and literal and raw not in values["values"]:
            choices = ", ".join(values["values"])
            ctx.error((*path, "default"), f"default {raw!r} is not one of the values: {choices}")
        if "default" in values:
            is_formula = isinstance(raw, str) and raw.startswith("=")
            ctx.formulas.append(FormulaSite(
                (*path, "default"), values["default"], scope, S.FIELD_TYPES[type_],
                skip=1 if is_formula else 0, literal=not is_formula,
            ))  # fmt: skip
        return values

    return after


def field_list(form: bool = False) -> Checker:
    """The ``fields`` of an object (or of a form flow, whose ``required`` may be a formula)."""
    scope = "form" if form else "record"
    field_keys = {
        "name": Key(name, required=True),
        "type": Key(one_of(*S.FIELD_TYPES), required=True),
        "label": Key(text),
        "required": Key(_required(form)),
        "default": Key(_default),
        "values": Key(list_of(text, unique=("", "value"))),
        "scale": Key(integer(0, 18)),
        "object": Key(name),
    }
    field = mapping("field", field_keys, build=S.FieldSpec, after=_check_field(scope))
    return list_of(field, unique=("name", "field"), non_empty=True)


def validation_list(scope: str) -> Checker:
    """``validations``: ``{condition, message}`` rules (refused when the condition is FALSE)."""
    rule = mapping("validation", {
        "condition": Key(formula(scope, "Checkbox"), required=True),
        "message": Key(text, required=True),
    }, build=S.ValidationSpec)  # fmt: skip
    return list_of(rule)


# -- object ----------------------------------------------------------------------------

OBJECT = mapping("object", {
    "kind": Key(text),
    "name": Key(name, required=True),
    "label": Key(text),
    "source": Key(name),
    "access": Key(one_of("private", "read", "read_write")),
    "fields": Key(field_list(), required=True),
    "validations": Key(validation_list("record")),
}, build=lambda kind, **values: S.ObjectSpec(**values))  # fmt: skip


# -- flow ------------------------------------------------------------------------------

_LITERAL_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "Text": ((str,), "text"),
    "Picklist": ((str,), "text"),
    "Number": ((int, float), "a number"),
    "Checkbox": ((bool,), "true or false"),
    "Date": ((dt.date, str), "a date"),
    "DateTime": ((dt.datetime, str), "a date and time"),
    "Time": ((str,), "a time"),
    "Map": ((dict,), "a mapping"),
    "List": ((list,), "a list"),
}


def parameter_value(ctx: Context, path: Path, value: Any, type_: str) -> Any:
    """A parameter's value: a formula (``=…``, checked later) or a literal of its type."""
    if isinstance(value, str) and value.startswith("="):
        return value
    accepted, words = _LITERAL_TYPES.get(type_, ((object,), ""))
    if (isinstance(value, bool) and type_ != "Checkbox") or not isinstance(value, accepted):
        return wrong_type(ctx, path, value, words + " or a formula starting with =")
    return json_safe(value)


def _flow_keys(step_type: StepType) -> dict[str, Key]:
    keys = {"kind": Key(text), "name": Key(name, required=True),
            "type": Key(text, required=True), "label": Key(text)}  # fmt: skip
    for param, parameter in step_type.parameters.items():
        if param == "fields":
            keys[param] = Key(field_list(form=True), required=parameter.required)
        elif param == "validations":
            keys[param] = Key(validation_list("form"), required=parameter.required)
        else:
            keys[param] = Key(
                lambda ctx, path, value, t=parameter.type: parameter_value(ctx, path, value, t),
                required=parameter.required,
            )
    return keys


def _build_flow(kind: str, name: str, type: str, label: str = "", fields: tuple = (),
                validations: tuple = (), **params: Any) -> S.FlowSpec:  # fmt: skip
    return S.FlowSpec(name, type, label, params, fields, validations)


def check_flow(ctx: Context, data: dict, step_types: Mapping[str, StepType]) -> Any:
    """A flow document: its step type decides which other keys it takes."""
    type_name = data.get("type")
    step_type = step_types.get(type_name) if isinstance(type_name, str) else None
    if step_type is not None:
        what = f"flow of type {type_name!r}"
        return mapping(what, _flow_keys(step_type), build=_build_flow)(ctx, (), data)
    # Without its step type, only the common keys can be checked.
    common = {"name": Key(name, required=True), "type": Key(text, required=True)}
    mapping("flow", {**{key: Key(anything) for key in data}, **common})(ctx, (), data)
    if isinstance(type_name, str):
        known = sorted(step_types)
        ctx.error(("type",), f"unknown step type {type_name!r}" + suggestion(type_name, known))
    return INVALID


# -- orchestration ---------------------------------------------------------------------


def _check_trigger(ctx: Context, path: Path, values: dict) -> Any:
    if values.get("type", "autolaunched") == "record":
        if "object" not in values:
            return ctx.error(path, "a record trigger needs the object whose records start runs")
        return values
    for key in ("object", "when", "condition", "only_when_changed"):
        if key in values:
            ctx.error((*path, key), f"{key} is only for record triggers (type: record)",
                      at_key=True)  # fmt: skip
    return values


TRIGGER = mapping("trigger", {
    "type": Key(one_of("record", "autolaunched")),
    "object": Key(name),
    "when": Key(one_of("created", "updated", "created_or_updated")),
    "condition": Key(formula("record", "Checkbox")),
    "only_when_changed": Key(boolean),
}, build=S.TriggerSpec, after=_check_trigger)  # fmt: skip


def _input_default(ctx: Context, path: Path, value: Any) -> Any:
    if isinstance(value, list | dict):
        return wrong_type(ctx, path, value, "a single value")
    return json_safe(value)


INPUT = mapping("input", {
    "name": Key(name, required=True),
    "type": Key(one_of(*S.FIELD_TYPES)),
    "required": Key(boolean),
    "default": Key(_input_default),
}, build=S.InputSpec)  # fmt: skip

RETRY = mapping("retry", {
    "attempts": Key(integer(1, 100), required=True),
    "backoff": Key(duration),
}, build=S.RetrySpec)  # fmt: skip


def _due(ctx: Context, path: Path, value: Any) -> Any:
    """``due``: a duration, or a formula giving a date and time."""
    if isinstance(value, str) and not value.lstrip()[:1].isdigit():
        try:
            parse_duration(value)  # an ISO 8601 duration (PT4H) starts with a letter too
        except ValueError:
            formula("run", "DateTime")(ctx, path, value)  # checked in the second pass
            return value
    return duration_text(ctx, path, value)


def sla_target(ctx: Context, path: Path, value: Any) -> Any:
    """An escalation's target: ``kind:name`` or ``assignee`` (kept as written, checked in
    the second pass), or a Text formula starting with ``=``."""
    if isinstance(value, str) and value.startswith("="):
        formula("run", "Text")(ctx, path, value)
        return value
    return text(ctx, path, value)


def _set_values(ctx: Context, path: Path, value: Any) -> Any:
    # Field names and formula types depend on the orchestration's object: second pass.
    if not isinstance(value, dict) or not value:
        return wrong_type(ctx, path, value, "a mapping of record fields to values")
    return json_safe(value)


ESCALATION = mapping("escalation", {
    "after": Key(duration_text, required=True),
    "reassign": Key(sla_target),
    "notify": Key(list_of(sla_target, result=list)),
    "set": Key(_set_values),
})  # fmt: skip


def _check_rungs(ctx: Context, path: Path, values: dict) -> Any:
    """Escalations come in order: each ``after`` later than the one before."""
    rungs = values.get("escalations") or []
    for i, (before, rung) in enumerate(itertools.pairwise(rungs), start=1):
        if parse_duration(rung["after"]) <= parse_duration(before["after"]):
            ctx.error((*path, "escalations", i, "after"), f"escalations must come in order:"
                      f" after {rung['after']!r} is not later than the previous escalation's"
                      f" {before['after']!r}")  # fmt: skip
    return values


SLA = mapping("sla", {
    "due": Key(_due, required=True),
    "calendar": Key(name),
    "warn": Key(duration_text),
    "restart_on_reassign": Key(boolean),
    "escalations": Key(list_of(ESCALATION, result=list)),
}, after=_check_rungs)  # fmt: skip


def _step_inputs(ctx: Context, path: Path, value: Any) -> Any:
    # Which keys a step may override depends on its flow: checked in the second pass.
    if not isinstance(value, dict):
        return wrong_type(ctx, path, value, "a mapping of flow parameters")
    return json_safe(value)


STEP = mapping("step", {
    "name": Key(name, required=True),
    "flow": Key(name, required=True),
    "label": Key(text),
    "entry": Key(formula("run", "Checkbox")),
    "exit": Key(formula("run", "Checkbox")),
    "assignee": Key(assignee),
    "inputs": Key(_step_inputs),
    "retry": Key(RETRY),
    "sla": Key(SLA),
}, build=S.StepSpec)  # fmt: skip

STAGE = mapping("stage", {
    "name": Key(name, required=True),
    "label": Key(text),
    "entry": Key(formula("run", "Checkbox")),
    "exit": Key(formula("run", "Checkbox")),
    "steps": Key(list_of(STEP, non_empty=True), required=True),
}, build=S.StageSpec)  # fmt: skip


def _check_orchestration(ctx: Context, path: Path, values: dict) -> Any:
    steps = [
        (i, j, step)
        for i, stage in enumerate(ctx.document.data.get("stages") or [])
        if isinstance(stage, dict) and isinstance(stage.get("steps"), list)
        for j, step in enumerate(stage["steps"])
        if isinstance(step, dict)
    ]
    first: dict[str, Path] = {}
    for i, j, step in steps:
        step_name, where = step.get("name"), ("stages", i, "steps", j, "name")
        if step_name in first:
            position = ctx.document.value_position(first[step_name])
            ctx.error(where, f"duplicate step {step_name!r} (first defined at {position})",
                      broken=False)  # fmt: skip
        elif isinstance(step_name, str):
            first[step_name] = where
    trigger = values.get("trigger") or S.TriggerSpec()
    if values.get("object") and trigger.object and values["object"] != trigger.object:
        ctx.error(("object",), f"the orchestration's object {values['object']!r} is not"
                  f" its trigger's object {trigger.object!r}")  # fmt: skip
    values["object"] = trigger.object or values.get("object")
    values.pop("kind", None)
    return values


ORCHESTRATION = mapping("orchestration", {
    "kind": Key(text),
    "name": Key(name, required=True),
    "label": Key(text),
    "object": Key(name),
    "trigger": Key(TRIGGER),
    "inputs": Key(list_of(INPUT, unique=("name", "input"))),
    "stages": Key(list_of(STAGE, unique=("name", "stage"), non_empty=True), required=True),
}, build=S.OrchestrationSpec, after=_check_orchestration)  # fmt: skip


# -- calendar --------------------------------------------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"\s*(\d\d):(\d\d)\s*-\s*(\d\d):(\d\d)\s*\Z")
HOURS_HELP = 'write working hours as "09:00-17:00", several as "09:00-12:00, 13:00-17:00"'


def time_zone(ctx: Context, path: Path, value: Any) -> Any:
    """An IANA time zone name (``Europe/Berlin``)."""
    if not isinstance(value, str):
        return wrong_type(ctx, path, value, "a time zone name")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ctx.error(path, f"unknown time zone {value!r}: use a name such as"
                         " Europe/Berlin or America/New_York")  # fmt: skip
    return value


def _days(key: Any) -> list[int] | None:
    parts = key.split("-") if isinstance(key, str) else []
    if not 1 <= len(parts) <= 2 or any(p not in WEEKDAYS for p in parts):
        return None
    first, last = WEEKDAYS.index(parts[0]), WEEKDAYS.index(parts[-1])
    return list(range(first, last + 1)) if first <= last else None


def _ranges(ctx: Context, path: Path, value: Any) -> Any:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in items):
        return ctx.error(path, f"invalid working hours {value!r}: {HOURS_HELP}")
    ranges = []
    for part in ",".join(items).split(","):
        match = _RANGE.match(part)
        if not match:
            return ctx.error(path, f"invalid working hours {part.strip()!r}: {HOURS_HELP}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            return ctx.error(path, f"invalid time in {part.strip()!r}: use 00:00 to 24:00")
        if (h1, m1) >= (h2, m2):
            return ctx.error(path, f"working hours {part.strip()!r} end before they start")
        ranges.append((f"{h1:02}:{m1:02}", f"{h2:02}:{m2:02}"))
    ranges.sort()
    for (_, end), (start, _) in itertools.pairwise(ranges):
        if start < end:
            return ctx.error(path, f"working hours {value!r} overlap")
    return tuple(ranges)


def hours(ctx: Context, path: Path, value: Any) -> Any:
    """Weekly hours: ``{mon-fri: "09:00-17:00", sat: "10:00-14:00"}`` → ``{0: ((…),)}``."""
    if not isinstance(value, dict):
        return wrong_type(ctx, path, value, "a mapping of weekdays to working hours")
    result: dict[int, Any] = {}
    valid = True
    for key, ranges in value.items():
        days = _days(key)
        if days is None:
            ctx.error((*path, key), f"invalid weekday {key!r}: use mon, tue, wed, thu, fri, sat,"
                      " sun or a range such as mon-fri", at_key=True)  # fmt: skip
            valid = False
            continue
        for day in days:
            if day in result:
                ctx.error((*path, key), f"{WEEKDAYS[day]} has working hours twice", at_key=True)
                valid = False
        checked = _ranges(ctx, (*path, key), ranges)
        valid = valid and checked is not INVALID
        result.update({day: checked for day in days})
    if valid and not any(result.values()):
        return ctx.error(path, f"a calendar needs working hours on some day: {HOURS_HELP}")
    return dict(sorted(result.items())) if valid else INVALID


_MONTH_DAY = re.compile(r"(\d\d)-(\d\d)\Z")


def _holiday_date(ctx: Context, path: Path, value: Any, yearly: bool) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.strftime("%m-%d") if yearly else value.isoformat()
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
            return day.strftime("%m-%d") if yearly else day.isoformat()
        except ValueError:
            match = _MONTH_DAY.match(value)
            if yearly and match and _valid_month_day(int(match[1]), int(match[2])):
                return value
    expected = "a date (2026-12-25), or MM-DD with yearly: true"
    return ctx.error(path, f"invalid holiday {value!r}: use {expected}")


def _valid_month_day(month: int, day: int) -> bool:
    try:
        dt.date(2000, month, day)  # a leap year: 02-29 is a valid yearly holiday
    except ValueError:
        return False
    return True


def holiday(ctx: Context, path: Path, value: Any) -> Any:
    """A holiday: a date, or ``{date: MM-DD, yearly: true}``."""
    if isinstance(value, dict):
        checked = mapping("holiday", {"date": Key(lambda c, p, v: v, required=True),
                                      "yearly": Key(boolean)})(ctx, path, value)  # fmt: skip
        if checked is INVALID:
            return INVALID
        return _holiday_date(ctx, (*path, "date"), checked["date"], checked.get("yearly", False))
    return _holiday_date(ctx, path, value, False)


CALENDAR = mapping("calendar", {
    "kind": Key(text),
    "name": Key(name, required=True),
    "label": Key(text),
    "time_zone": Key(time_zone, required=True),
    "hours": Key(hours, required=True),
    "holidays": Key(list_of(holiday)),
}, build=lambda kind, label="", **values: S.CalendarSpec(**values))  # fmt: skip


# -- directory -------------------------------------------------------------------------

_USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*\Z")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\Z")


def user_name(ctx: Context, path: Path, value: Any) -> Any:
    """A user name: letters, digits, ``_ . @ -``."""
    if not isinstance(value, str):
        return wrong_type(ctx, path, value, "a user name")
    if not _USER_NAME.match(value):
        ctx.error(path, f"invalid user name {value!r}: use letters, digits and _ . @ -",
                  broken=False)  # fmt: skip
    return value


def email(ctx: Context, path: Path, value: Any) -> Any:
    """An email address."""
    if not isinstance(value, str):
        return wrong_type(ctx, path, value, "an email address")
    if not _EMAIL.match(value):
        ctx.error(path, f"invalid email address {value!r}", broken=False)
    return value


USER = mapping("user", {
    "name": Key(user_name, required=True),
    "email": Key(email),
    "manager": Key(user_name),
    "admin": Key(boolean),
    "active": Key(boolean),
}, build=S.UserSpec)  # fmt: skip


def _team(what: str) -> Checker:
    return mapping(what, {
        "name": Key(name, required=True),
        "members": Key(list_of(user_name, unique=("", "member"))),
    }, build=S.TeamSpec)  # fmt: skip


DIRECTORY = mapping("directory", {
    "kind": Key(text),
    "users": Key(list_of(USER, unique=("name", "user"))),
    "groups": Key(list_of(_team("group"), unique=("name", "group"))),
    "queues": Key(list_of(_team("queue"), unique=("name", "queue"))),
}, build=lambda kind, **values: S.DirectorySpec(**values))  # fmt: skip


SHAPES: dict[str, Checker] = {
    "object": OBJECT,
    "orchestration": ORCHESTRATION,
    "calendar": CALENDAR,
    "directory": DIRECTORY,
}


def check_document(ctx: Context, step_types: Mapping[str, StepType]) -> Any:
    """The spec of a document whose ``kind`` is known, or INVALID (errors on ``ctx``)."""
    data = ctx.document.data
    if data["kind"] == "flow":
        return check_flow(ctx, data, step_types)
    return SHAPES[data["kind"]](ctx, (), data)
