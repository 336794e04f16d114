"""The formula tools: type-check a formula, or evaluate it on given values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, jsonify

from .. import formula_tools
from ..grammar import FormulaError
from ..grammar import types as T
from ..grammar.library.text import format_value
from ..records import to_json_value
from . import bp
from .access import operation
from .errors import ApiError
from .schema import Field

FORMULA = Field("string", required=True, example='IF(Amount > 100, "big", "small")')
SCHEMA = Field("object", description='Field types, e.g. {"Amount": "Number"}')
CHECK = {
    "formula": FORMULA,
    "object": Field("string", description="Check against this deployed object's fields"),
    "schema": SCHEMA,
    "expected": Field("string", description="The type the result must have, e.g. Checkbox"),
}
EVALUATE = {
    "formula": FORMULA,
    "values": Field("object", description="Field values (converted to the schema's types)"),
    "prior": Field("object", description="Values before an update (ISCHANGED, PRIORVALUE)"),
    "object": CHECK["object"],
    "schema": SCHEMA,
}


def _schema(body: Mapping[str, Any]) -> dict[str, str] | None:
    schema: dict[str, str] = {}
    if object_name := body.get("object"):
        schema.update(formula_tools.object_schema(object_name))
    problems = {}
    for name, type_name in (body.get("schema") or {}).items():
        try:
            schema[name] = T.type_name(type_name)
        except ValueError as error:
            problems[f"schema.{name}"] = str(error)
    if problems:
        raise ApiError(400, "invalid_body", "; ".join(problems.values()), problems)
    return schema or None


def _values(raw: Mapping[str, Any] | None, schema: Mapping[str, str], what: str) -> dict:
    values, problems = {}, {}
    for name, value in (raw or {}).items():
        try:
            values[name] = T.coerce(value, schema.get(name, T.ANY))
        except ValueError as error:
            problems[f"{what}.{name}"] = str(error)
    if problems:
        raise ApiError(400, "invalid_body", "; ".join(problems.values()), problems)
    return values


def _formula_error(error: FormulaError) -> ApiError:
    return ApiError(400, "invalid_formula", error.message, formula_tools.error_details(error))


@bp.post("/formulas/check")
@operation("Type-check a formula", tag="formulas", body=CHECK,
           description="200 with the result type and the fields read; 400 with the error's "
                       "kind, message, line and column.")  # fmt: skip
def check_formula(body: dict[str, Any]) -> Response:
    try:
        compiled = formula_tools.check_formula(body["formula"], _schema(body),
                                              expected=body.get("expected"))  # fmt: skip
    except FormulaError as error:
        raise _formula_error(error) from None
    return jsonify({"type": compiled.type, "fields": list(compiled.fields)})


@bp.post("/formulas/evaluate")
@operation("Evaluate a formula on given values", tag="formulas", body=EVALUATE)
def evaluate_formula(body: dict[str, Any]) -> Response:
    schema = _schema(body)
    values = _values(body.get("values"), schema or {}, "values")
    prior = _values(body.get("prior"), schema or {}, "prior") if "prior" in body else None
    try:
        compiled = formula_tools.check_formula(body["formula"], schema)
        value = formula_tools.evaluate_formula(compiled, values, prior)
    except FormulaError as error:
        raise _formula_error(error) from None
    return jsonify({"type": compiled.type, "value": to_json_value(value),
                    "display": format_value(value)})  # fmt: skip
