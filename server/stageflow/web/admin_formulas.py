"""The formula playground (``/admin/formulas``): try a formula on a real record.

Admins write a formula, choose an object and, optionally, one of its records; the page
shows the result type, the fields the formula reads and its value on that record, or
each problem where it is: a formula error with its line, column and a caret under the
source, an unknown object or record at its field.  The form is a GET, so a result has
an address to share.  Checking and evaluating are :mod:`stageflow.formula_tools`', as
for ``/api/formulas/…``: the same formula gets the same answer in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from flask import render_template, request

from .. import formula_tools
from ..core import current
from ..grammar import Formula, FormulaError
from ..grammar.library.text import format_value
from ..records import RecordNotFound
from . import bp
from .admin_people import admin_required
from .errors import sentence
from .fields import Input

#: The id prefix of the playground's inputs (``playground-formula``).
PREFIX = "playground"


@dataclass(frozen=True)
class Trial:
    """One try of a formula: what was asked, and what came of it.

    ``errors`` are the problems by input (``formula``, ``object``, ``record``);
    ``formula_error`` is the formula's own, whose caret the page shows.  ``value`` is
    the value as the formula reference writes it, set only when it was evaluated.
    """

    formula: str = ""
    object: str = ""
    record: str = ""
    type: str = ""
    fields: tuple[str, ...] = ()
    value: str | None = None
    formula_error: FormulaError | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def asked(self) -> bool:
        """Whether the form was sent (the page opened bare shows no result)."""
        return bool(self.formula or self.object or self.record)


def try_formula(text: str, object_name: str, record_id: str) -> Trial:
    """Check ``text`` against the object's fields and evaluate it on the record.

    The value is given when the record is found, or when the formula reads no field (it
    is the same on every record).
    """
    errors: dict[str, str] = {}
    schema = None
    if object_name:
        try:
            schema = formula_tools.object_schema(object_name)
        except RecordNotFound as error:
            errors["object"] = sentence(str(error))
    record = None
    if record_id and not object_name:
        errors["record"] = "Choose the object of the record too."
    elif record_id and "object" not in errors:
        try:
            record = formula_tools.stored_record(object_name, record_id)
        except RecordNotFound as error:
            errors["record"] = sentence(str(error))
    trial = Trial(text, object_name, record_id, errors=errors)
    if not text.strip():
        if trial.asked:
            errors.setdefault("formula", "Write a formula to check.")
        return trial
    try:
        formula = formula_tools.check_formula(text, schema)
    except FormulaError as error:
        return failed(trial, error)
    trial = replace(trial, type=formula.type, fields=formula.fields)
    if errors or (record is None and formula.fields):
        return trial
    return evaluated(trial, formula, record)


def evaluated(trial: Trial, formula: Formula, record: formula_tools.StoredRecord | None) -> Trial:
    """``trial`` with the formula's value on ``record`` (or on no record), or with its
    run-time error."""
    try:
        value = formula_tools.evaluate_formula(
            formula, record.values if record else None, record.prior if record else None
        )
    except FormulaError as error:
        return failed(trial, error)
    return replace(trial, value=format_value(value))


def failed(trial: Trial, error: FormulaError) -> Trial:
    """``trial`` with a formula error, at the formula's input (the page shows where it is,
    with the caret)."""
    errors = {**trial.errors, "formula": sentence(error.message)}
    return replace(trial, formula_error=error, errors=errors)


def playground_inputs(trial: Trial, objects: Mapping[str, str]) -> dict[str, Input]:
    """The form's inputs by name, showing what was asked and each problem at its input.

    ``objects`` are the objects to choose from (name → label).
    """
    options = (("", "(none: the formula reads no fields)"), *objects.items())
    return {
        "formula": Input("formula", "Formula", "textarea", trial.formula, required=True,
                         error=trial.errors.get("formula", ""), prefix=PREFIX,
                         hint='Field names of the object, functions, operators: '
                              'IF(Amount > 100, "big", "small").'),
        "object": Input("object", "Object", "select", trial.object, options=options,
                        error=trial.errors.get("object", ""), prefix=PREFIX,
                        hint="The formula may read this object's fields, through lookups."),
        "record": Input("record", "Record id", "text", trial.record,
                        error=trial.errors.get("record", ""), prefix=PREFIX,
                        hint="Blank: check the formula only. Given: its value on that record."),
    }  # fmt: skip


@bp.get("/admin/formulas")
@admin_required
def admin_formulas() -> str | tuple[str, int]:
    """The playground; the form's values in the query string (``?formula=…&object=…``)."""
    trial = try_formula(*(request.args.get(name, "") for name in ("formula", "object", "record")))
    objects = {obj.name: obj.label or obj.name for obj in current().records.objects()}
    if trial.object:
        objects.setdefault(trial.object, trial.object)  # an unknown one asked stays chosen
    html = render_template(
        "admin/formulas.html", trial=trial, inputs=playground_inputs(trial, objects)
    )
    return (html, 400) if trial.asked and trial.errors else html
