"""A work item's form as HTML inputs, what a person posts as values for its step type,
and a finished item's outputs as text to read.

The work service describes an item's form (``item["form"]``): a ``form`` step's fields,
an ``approval``'s decisions, or whatever an interactive step type of a plugin declares.
Each becomes a :class:`~stageflow.definitions.spec.FieldSpec`, so the inputs, the posted
values and the display of outputs are those of record forms (:mod:`.fields`); the step
type checks the values when the form is sent, and its errors come back by field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from ..definitions.spec import FieldSpec
from .fields import (
    INPUT_TYPES,
    Input,
    display,
    display_value,
    field_inputs,
    label_of,
    posted_fields,
    shown_values,
    submitted_values,
)
from .zone import server_zone

#: The key of an error about the whole form rather than one of its fields.
FORM_ERROR = "_form"

#: An approval's comment: asked for with the decision, required to reject.
COMMENT_HINT = "Required when you reject: say why."


@dataclass(frozen=True)
class WorkForm:
    """A work item's form as a page draws it: its inputs (with values and errors at their
    fields) and the errors that belong to no field, shown above it."""

    item_id: int
    inputs: list[Input]
    error: str = ""

    @property
    def has_errors(self) -> bool:
        """Whether the form was sent and refused."""
        return bool(self.error) or any(i.error for i in self.inputs)


def form_fields(form: Mapping[str, Any] | None) -> list[FieldSpec]:
    """The fields of a work item's form: its declared fields, then (an approval) the
    decision and a comment."""
    form = form or {}
    fields = [_field_spec(field) for field in form.get("fields") or ()]
    decisions = tuple(str(d) for d in form.get("decisions") or ())
    if decisions:
        fields += [
            FieldSpec("decision", "picklist", label="Decision", required=True, values=decisions),
            FieldSpec("comment", "textarea", label="Comment"),
        ]
    return fields


def _field_spec(field: Mapping[str, Any]) -> FieldSpec:
    kind = field.get("type") or "text"
    return FieldSpec(
        name=str(field["name"]),
        type=kind if kind in INPUT_TYPES else "text",
        label=field.get("label") or "",
        required=field.get("required") or False,
        values=tuple(str(v) for v in field.get("values") or ()),
        scale=field.get("scale"),
    )


def work_form(
    item: Mapping[str, Any],
    shown: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> WorkForm:
    """The form of ``item``: showing its default values, or ``shown`` (what was sent)
    with ``errors`` at their fields."""
    fields = form_fields(item.get("form"))
    if shown is None:
        shown = shown_values(fields, (item.get("form") or {}).get("values") or {}, server_zone())
    errors = errors or {}
    names = {field.name for field in fields}
    prefix = f"item-{item['id']}"
    inputs = [
        dataclasses.replace(i, prefix=prefix, hint=_hint(item, i))
        for i in field_inputs(fields, shown, errors)
    ]
    above = [
        message if name == FORM_ERROR else f"{name}: {message}"
        for name, message in errors.items()
        if name not in names
    ]
    return WorkForm(item_id=item["id"], inputs=inputs, error=" ".join(above))


def _hint(item: Mapping[str, Any], shown: Input) -> str:
    is_comment = shown.name == "comment" and (item.get("form") or {}).get("decisions")
    return COMMENT_HINT if is_comment and not shown.hint else shown.hint


def posted_work(
    item: Mapping[str, Any], form: MultiDict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a work item's form sent: as its inputs show it again, and as the values the
    work service takes (text, a list for a multi-select, ``"true"`` for a checked box)."""
    fields = form_fields(item.get("form"))
    shown = posted_fields(fields, form)
    return shown, submitted_values(fields, shown, server_zone())


def outputs(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A finished item's outputs as (label, text) pairs: its form's fields in order, then
    any other output the step type gave."""
    values = item.get("outputs") or {}
    zone = server_zone()
    fields = form_fields(item.get("form"))
    shown = [(label_of(f), display(f, values.get(f.name), zone)) for f in fields]
    known = {field.name for field in fields}
    others = [(name, display_value(value, zone)) for name, value in values.items()
              if name not in known]  # fmt: skip
    return shown + others
