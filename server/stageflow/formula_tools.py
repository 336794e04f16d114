"""Checking and evaluating formulas as the server does, for the formula tools.

The REST API's ``/api/formulas/…`` and the admins' formula playground (``/admin/formulas``)
both use these, so that a formula gets the same type, errors and value in either:
compiled with the functions the plugins registered, against an object's fields as a
record's formulas see them, and evaluated on a stored record with lookups followed as
the engine follows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .core import current
from .definitions.validate import record_schema
from .engine.context import RecordValues
from .grammar import Formula, FormulaError, compile_formula
from .records import FormulaRecord


def object_schema(object_name: str) -> dict[str, str]:
    """The formula types of an object's fields, through lookups, bare and as ``$Record.``
    and ``$Record__Prior.`` (what a formula on its records may read).

    :class:`~stageflow.records.RecordNotFound` when no such object is deployed or
    defined by a record source.
    """
    records = current().records
    spec = records.object_spec(object_name)
    return record_schema(spec, {obj.name: obj for obj in records.objects()})


def check_formula(
    text: str, schema: Mapping[str, str] | None = None, *, expected: str | None = None
) -> Formula:
    """The formula compiled with the server's functions (built-in and plugins').

    Raises :class:`~stageflow.grammar.FormulaError` (syntax or type).
    """
    return compile_formula(text, schema, expected=expected,
                           functions=current().registry.functions)  # fmt: skip


def evaluate_formula(formula: Formula, values: Any, prior: Any = None) -> Any:
    """The formula's value on ``values`` (and ``prior``) at the server clock's now.

    Raises :class:`~stageflow.grammar.FormulaRuntimeError`.
    """
    return formula.evaluate(values, prior, now=current().clock.now())


def error_details(error: FormulaError) -> dict[str, Any]:
    """A formula error for people and programs: kind, message, line, column, caret."""
    return {**error.to_dict(), "caret": error.caret()}


@dataclass(frozen=True)
class StoredRecord:
    """A stored record as formulas read it: its values (lookups followed on demand) and,
    when its source keeps it, the record before its last update (``ISCHANGED``)."""

    values: RecordValues
    prior: RecordValues | None


def stored_record(object_name: str, record_id: str) -> StoredRecord:
    """The formula values of a record, read as the system (admins see every record).

    :class:`~stageflow.records.RecordNotFound` when the object or the record does not
    exist.
    """
    sf = current()
    spec = sf.records.object_spec(object_name)
    record = sf.records.get(object_name, record_id)
    raw_prior = sf.records.source_for(spec).prior(object_name, str(record_id))
    before = None if raw_prior is None else FormulaRecord(spec, raw_prior)
    prior = None if before is None else RecordValues(before, sf.engine.follow)
    values = RecordValues(FormulaRecord(spec, record), sf.engine.follow, prior=lambda: before)
    return StoredRecord(values, prior)
