"""Record fields as HTML form inputs, and form input back as record values.

A stored record holds JSON-ready values (numbers, ISO text, booleans); a form shows and
sends text.  :func:`form_values` turns a record into what the inputs show, and
:func:`posted_values` a form that was sent; :func:`record_values` turns either into
values for :class:`~stageflow.records.RecordService`, which converts and validates them
(its errors name the field, and :func:`inputs` puts each one at its input).  Date-times are
shown and entered in the server's time zone (the ``timezone`` setting).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from ..definitions.spec import FieldSpec, ObjectSpec

#: The HTML input of each field type (``select`` and ``multiselect`` are <select>s).
INPUT_TYPES = {
    "text": "text",
    "textarea": "textarea",
    "email": "email",
    "url": "url",
    "number": "number",
    "checkbox": "checkbox",
    "date": "date",
    "datetime": "datetime-local",
    "time": "time",
    "picklist": "select",
    "multipicklist": "multiselect",
    "user": "text",
    "lookup": "text",
}

#: How a filter asks for a field: a checkbox is yes/no/any, long text is one line.
FILTER_INPUT_TYPES = {**INPUT_TYPES, "textarea": "text", "checkbox": "select",
                      "multipicklist": "text"}  # fmt: skip

#: The system fields a record page shows under the values, with their labels.
SYSTEM_LABELS = {
    "Owner": "Owner",
    "CreatedAt": "Created",
    "CreatedBy": "Created by",
    "UpdatedAt": "Updated",
    "UpdatedBy": "Updated by",
}

MULTI_SEPARATOR = ";"
YES, NO = "true", "false"


@dataclass(frozen=True)
class Input:
    """One form input as a template draws it.

    ``value`` is the text shown (a list of chosen values for a multi-select, a bool for a
    checkbox); ``options`` are (value, label) pairs of a select; ``error`` is what is
    wrong with the submitted value; ``prefix`` starts the HTML ids, so that several forms
    on one page (the Work Guide's) keep their ids apart.
    """

    name: str
    label: str
    type: str
    value: Any = ""
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()
    step: str | None = None
    hint: str = ""
    error: str = ""
    prefix: str = "field"

    @property
    def id(self) -> str:
        """The HTML id of the input (its label points at it)."""
        return f"{self.prefix}-{self.name}"


def label_of(field: FieldSpec) -> str:
    """What people read for a field: its label, or its name."""
    return field.label or field.name


def number_step(field: FieldSpec) -> str:
    """The ``step`` of a number input: ``0.01`` for scale 2, ``1`` for 0, ``any`` if unset."""
    if field.scale is None:
        return "any"
    return "1" if field.scale == 0 else f"0.{'0' * (field.scale - 1)}1"


def inputs(
    spec: ObjectSpec, values: Mapping[str, Any], errors: Mapping[str, str] | None = None
) -> list[Input]:
    """The inputs of a record form, showing ``values`` (as :func:`form_values` gives them)."""
    return field_inputs(spec.fields, values, errors)


def field_inputs(
    fields: Iterable[FieldSpec],
    values: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
) -> list[Input]:
    """The inputs of any form of ``fields`` (a record's, a work item's), showing ``values``
    (as :func:`shown_values` or :func:`posted_fields` give them) and ``errors`` by field."""
    errors = errors or {}
    return [_input(field, INPUT_TYPES[field.type], values, errors) for field in fields]


def filter_inputs(
    spec: ObjectSpec, values: Mapping[str, Any], errors: Mapping[str, str] | None = None
) -> list[Input]:
    """The inputs of a record list's filters (blank: no filter), plus the owner's."""
    errors = errors or {}
    found = [
        _input(field, FILTER_INPUT_TYPES[field.type], values, errors, filtering=True)
        for field in spec.fields
    ]
    return [*found, _input(owner_field(), "text", values, errors, filtering=True)]


def _input(
    field: FieldSpec,
    kind: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    *,
    filtering: bool = False,
) -> Input:
    options: tuple[tuple[str, str], ...] = ()
    if field.type == "checkbox" and filtering:
        options = (("", "Any"), (YES, "Yes"), (NO, "No"))
    elif kind == "select":
        options = (("", "Any" if filtering else "—"), *((v, v) for v in field.values))
    elif kind == "multiselect":
        options = tuple((v, v) for v in field.values)
    hint = "" if filtering else _hint(field)
    return Input(
        name=field.name,
        label=label_of(field),
        type=kind,
        value=values.get(field.name, [] if kind == "multiselect" else ""),
        required=field.required is True and not filtering,
        options=options,
        step=number_step(field) if kind == "number" else None,
        hint=hint,
        error=errors.get(field.name, ""),
    )


def _hint(field: FieldSpec) -> str:
    """What a form says under a field: when a conditionally required field is required,
    and what a field left blank becomes."""
    notes = []
    if isinstance(field.required, str):
        notes.append(required_hint(field.required))
    if field.default is not None:
        notes.append(default_hint(field.default))
    return " ".join(notes)


def required_hint(condition: str) -> str:
    """The note of a field required only when a formula holds (shown as optional)."""
    return f"Optional; required when {condition.strip().removeprefix('=')}."


def default_hint(default: str) -> str:
    """What a field left blank becomes: a literal default as it reads, else the formula."""
    text = default.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'" and text[0] not in text[1:-1]:
        return f"Left blank: {text[1:-1]}"
    return f"Left blank: ={text.removeprefix('=')}"


# -- record values → what inputs show -------------------------------------------------


def form_values(spec: ObjectSpec, record: Mapping[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """A stored record's values as its form's inputs show them."""
    return shown_values(spec.fields, record, zone)


def shown_values(
    fields: Iterable[FieldSpec], values: Mapping[str, Any], zone: ZoneInfo
) -> dict[str, Any]:
    """Stored (JSON-ready) values of ``fields`` as a form's inputs show them."""
    return {field.name: _shown(field, values.get(field.name), zone) for field in fields}


def _shown(field: FieldSpec, value: Any, zone: ZoneInfo) -> Any:
    if field.type == "checkbox":
        return value is True
    if field.type == "multipicklist":
        chosen = (
            value if isinstance(value, list | tuple) else str(value or "").split(MULTI_SEPARATOR)
        )
        return [str(v) for v in chosen if v]
    if value is None:
        return ""
    if field.type == "datetime":
        moment = _datetime(value)
        return moment.astimezone(zone).replace(tzinfo=None).isoformat() if moment else value
    return str(value)


def _datetime(value: Any) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def display(field: FieldSpec, value: Any, zone: ZoneInfo) -> str:
    """A stored value as text to read (a record page, a list cell)."""
    if field.type == "number" and field.scale is not None and isinstance(value, int | float):
        return f"{Decimal(str(value)):.{field.scale}f}"
    if field.type == "checkbox":
        return "Yes" if value is True else "No" if value is False else ""
    if field.type == "multipicklist":
        return ", ".join(_shown(field, value, zone))
    return display_value(value, zone) if field.type == "datetime" else _shown(field, value, zone)


def display_value(value: Any, zone: ZoneInfo) -> str:
    """A date-time (ISO text or datetime) as ``2026-01-05 10:00 CET``; others as text."""
    moment = value if isinstance(value, dt.datetime) else _datetime(value) if value else None
    if moment is None:
        return "" if value is None else str(value)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


# -- what a form sent → record values ---------------------------------------------------


def posted_values(spec: ObjectSpec, form: MultiDict[str, str]) -> dict[str, Any]:
    """What a record form sent, as its inputs show it again (to correct a mistake).

    An unchecked checkbox is not sent at all: it is off.
    """
    return posted_fields(spec.fields, form)


def posted_fields(fields: Iterable[FieldSpec], form: MultiDict[str, str]) -> dict[str, Any]:
    """What a form of ``fields`` sent, as its inputs show it again (see :func:`posted_values`)."""
    shown: dict[str, Any] = {}
    for field in fields:
        if field.type == "checkbox":
            shown[field.name] = form.get(field.name, "") not in ("", NO)
        elif field.type == "multipicklist":
            shown[field.name] = [v for v in form.getlist(field.name) if v]
        else:
            shown[field.name] = form.get(field.name, "").strip()
    return shown


def record_values(spec: ObjectSpec, shown: Mapping[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """Values as inputs show them (:func:`posted_values`, :func:`form_values`) as values
    for RecordService, which converts and validates them: text ("" for blank), a
    checkbox as a boolean (on or off, nothing to validate), a multi-select's choices
    joined with ``;``, a date-time with ``zone``'s offset."""
    return {field.name: _value(field, shown.get(field.name), zone) for field in spec.fields}


def submitted_values(
    fields: Iterable[FieldSpec], shown: Mapping[str, Any], zone: ZoneInfo
) -> dict[str, Any]:
    """Values as inputs show them, as a form posts them to a step type, which converts
    and validates them: text ("" for blank), a multi-select's choices as a list, a
    checked checkbox as ``"true"`` (an unchecked one is left out), a date-time with
    ``zone``'s offset."""
    submitted: dict[str, Any] = {}
    for field in fields:
        value = shown.get(field.name)
        if field.type == "checkbox":
            if value is True:
                submitted[field.name] = YES
        elif field.type == "multipicklist":
            submitted[field.name] = list(value or ())
        else:
            submitted[field.name] = _value(field, value, zone)
    return submitted


def changed_values(
    spec: ObjectSpec, shown: Mapping[str, Any], before: Mapping[str, Any], zone: ZoneInfo
) -> dict[str, Any]:
    """The values of ``shown`` that differ from ``before`` (both as inputs show them)."""
    now, then = record_values(spec, shown, zone), record_values(spec, before, zone)
    return {
        field.name: now[field.name]
        for field in spec.fields
        if _key(field, now[field.name]) != _key(field, then[field.name])
    }


def _key(field: FieldSpec, value: Any) -> Any:
    """A value to compare: numbers by what they are worth (``12.50`` is ``12.5``)."""
    if field.type != "number" or not value:
        return value
    try:
        return Decimal(value)
    except InvalidOperation:
        return value


def filter_values(spec: ObjectSpec, args: MultiDict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    """The filters a record list was asked for: the fields (and ``Owner``) given a value."""
    where: dict[str, Any] = {}
    for field in [*spec.fields, owner_field()]:
        text = args.get(field.name, "").strip()
        if text:
            shown = text == YES if field.type == "checkbox" else text
            where[field.name] = _value(field, shown, zone)
    return where


def _value(field: FieldSpec, shown: Any, zone: ZoneInfo) -> Any:
    if field.type == "checkbox":
        return shown is True
    if field.type == "multipicklist" and not isinstance(shown, str):  # a filter is text
        return MULTI_SEPARATOR.join(shown or ())
    text = str(shown or "").strip()
    return _zoned(text, zone) if field.type == "datetime" and text else text


def _zoned(text: str, zone: ZoneInfo) -> str:
    """A datetime-local input's value with the zone's offset (unparsable: as it came)."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).isoformat()


def columns(spec: ObjectSpec) -> list[FieldSpec]:
    """The fields a record list shows: all but long text, then the owner."""
    return [*(field for field in spec.fields if field.type != "textarea"), owner_field()]


def owner_field() -> FieldSpec:
    """The ``Owner`` system field, as lists and filters treat it."""
    return FieldSpec("Owner", "user", label=SYSTEM_LABELS["Owner"])
