"""Request bodies and query parameters: declared once, checked, and documented.

A view declares its JSON body as a mapping of field names to :class:`Field`; the same
declaration checks the request (:func:`json_body`: bad JSON, wrong types, unknown or
missing fields → 400 naming each field) and describes it in the OpenAPI document
(:func:`json_schema`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import request

from .errors import ApiError

#: Largest JSON body accepted (a bigger one is answered 413).
MAX_JSON_BYTES = 1024 * 1024

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float, Decimal),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}
_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a JSON object",
    "array": "a JSON array",
}


@dataclass(frozen=True)
class Field:
    """One field of a JSON body or one query parameter.

    ``type`` is a JSON Schema type name, or several joined by ``|`` (``"string|integer"``);
    ``"any"`` accepts every value.  ``fields`` declares an object's own fields (checked
    the same way); without it an object may hold anything.
    """

    type: str
    required: bool = False
    description: str = ""
    fields: Mapping[str, Field] | None = None
    example: Any = None
    enum: tuple[str, ...] = ()

    @property
    def types(self) -> list[str]:
        return self.type.split("|")


Body = Mapping[str, Field]


class FreeForm(dict):
    """A body of any fields (a record's values): only checked to be a JSON object."""

    def __init__(self, description: str = "") -> None:
        super().__init__()
        self.description = description


def _type_problem(spec: Field, value: Any) -> str | None:
    if spec.type == "any":
        return None
    for name in spec.types:
        expected = _PYTHON_TYPES[name]
        if isinstance(value, expected) and not (name != "boolean" and isinstance(value, bool)):
            if spec.enum and value not in spec.enum:
                return f"must be one of {', '.join(spec.enum)}"
            return None
    return f"must be {' or '.join(_TYPE_WORDS[t] for t in spec.types)}"


def check_fields(schema: Body, data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Every problem of ``data`` against ``schema``, as ``{field path: message}``."""
    problems: dict[str, str] = {}
    if isinstance(schema, FreeForm):
        return problems
    for name in data:
        if name not in schema:
            known = ", ".join(schema) or "none"
            problems[prefix + name] = f"unknown field (known fields: {known})"
    for name, spec in schema.items():
        if name not in data or data[name] is None:
            if spec.required:
                problems[prefix + name] = "is required"
            continue
        value = data[name]
        if problem := _type_problem(spec, value):
            problems[prefix + name] = problem
        elif spec.fields is not None and isinstance(value, dict):
            problems.update(check_fields(spec.fields, value, f"{prefix}{name}."))
    return problems


def json_body(schema: Body) -> dict[str, Any]:
    """The request's JSON object, checked against ``schema``; ApiError 400/415 if not.

    An empty body reads as ``{}``, so actions whose fields are all optional can be
    posted without one.  Numbers with a fraction are read as Decimal (no float error).
    """
    request.max_content_length = MAX_JSON_BYTES
    raw = request.get_data(cache=True)
    if not raw.strip():
        data: Any = {}
    else:
        if not request.is_json:
            raise ApiError(
                415,
                "unsupported_media_type",
                f"Send JSON with Content-Type: application/json, not {request.mimetype or 'none'}",
            )
        try:
            data = json.loads(raw, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as error:
            where = (
                f" at line {error.lineno}, column {error.colno}"
                if isinstance(error, json.JSONDecodeError)
                else ""
            )
            raise ApiError(400, "invalid_json", f"The body is not valid JSON{where}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_body", "The body must be a JSON object")
    if problems := check_fields(schema, data):
        raise ApiError(400, "invalid_body", _summary(problems), problems)
    return data


def _summary(problems: Mapping[str, str]) -> str:
    return "; ".join(f"{name}: {problem}" for name, problem in problems.items())


def json_schema(schema: Body) -> dict[str, Any]:
    """``schema`` as an OpenAPI (JSON Schema) object."""
    if isinstance(schema, FreeForm):
        return {"type": "object", "additionalProperties": True, "description": schema.description}
    properties = {name: field_schema(spec) for name, spec in schema.items()}
    out: dict[str, Any] = {"type": "object", "properties": properties}
    out["additionalProperties"] = False
    required = [name for name, spec in schema.items() if spec.required]
    if required:
        out["required"] = required
    return out


def field_schema(spec: Field) -> dict[str, Any]:
    """One field as an OpenAPI schema."""
    if spec.fields is not None:
        out = json_schema(spec.fields)
    elif spec.type == "any":
        out = {}
    elif len(spec.types) > 1:
        out = {"oneOf": [{"type": t} for t in spec.types]}
    else:
        out = {"type": spec.type}
    if spec.description:
        out["description"] = spec.description
    if spec.enum:
        out["enum"] = list(spec.enum)
    if spec.example is not None:
        out["example"] = spec.example
    return out


def query_args(declared: Body, *, extra: bool = False) -> dict[str, str]:
    """The query string, checked: unknown names (unless ``extra``) and bad integers → 400."""
    problems: dict[str, str] = {}
    args: dict[str, str] = {}
    for name, value in request.args.items():
        spec = declared.get(name)
        if spec is None and not extra:
            problems[name] = f"unknown query parameter (known: {', '.join(declared) or 'none'})"
            continue
        if spec is not None and spec.type == "integer" and not value.strip().isdigit():
            problems[name] = "must be a whole number"
        if spec is not None and spec.enum and value not in spec.enum:
            problems[name] = f"must be one of {', '.join(spec.enum)}"
        args[name] = value
    if problems:
        raise ApiError(400, "invalid_query", _summary(problems), problems)
    return args
