"""``GET /api/openapi.json``: the OpenAPI 3.1 document, generated from the routes.

Every ``/api`` route in the app's URL map is described from its :func:`~.access.operation`
declaration: path parameters from the URL rule, query parameters, the body, the
success response, the errors it can answer and whether it needs a token.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from flask import Flask, Response, current_app, jsonify

from .. import __version__
from . import bp
from .access import Operation, operation, operation_of
from .schema import field_schema, json_schema

OPENAPI_VERSION = "3.1.0"
_PATH_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")
_CONVERTER_TYPES = {"int": "integer", "float": "number"}
_ERROR_TEXT = {
    400: "Bad input; `error.details` says which field and why",
    401: "No token, or an unknown or revoked one",
    403: "The token's user may not do this",
    404: "Not found",
    409: "Conflicts with the current state (e.g. the run already finished)",
    413: "The body is too large",
    415: "Wrong Content-Type",
}


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document for every ``/api`` route of ``app``."""
    spec = APISpec(
        title="Stageflow REST API",
        version=__version__,
        openapi_version=OPENAPI_VERSION,
        info={"description": "Orchestrations, runs and records. See docs/api.md."},
        security=[{"bearer": []}],  # every operation, unless it says security: []
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", _ERROR_SCHEMA)
    spec.components.schema("Page", _PAGE_SCHEMA)
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api"):
            continue
        declared = operation_of(rule.endpoint)
        path = _PATH_ARGUMENT.sub(r"{\g<name>}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, declared, method)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(rule: Any, declared: Operation | None, method: str) -> dict[str, Any]:
    if declared is None:  # a route added without @operation still appears, flagged
        declared = Operation(summary=f"{method} {rule.rule} (undocumented)", tag="other")
    parameters = [
        {"name": m["name"], "in": "path", "required": True,
         "schema": {"type": _CONVERTER_TYPES.get(m["converter"] or "", "string")}}
        for m in _PATH_ARGUMENT.finditer(rule.rule)
    ]  # fmt: skip
    parameters += [
        {"name": name, "in": "query", "required": spec.required, "schema": field_schema(spec)}
        for name, spec in declared.query.items()
    ]
    takes_input = declared.body is not None or declared.query or declared.extra_query
    errors = {400} if takes_input else set()
    if declared.access != "public":
        errors |= {401}
    if declared.access == "admin":
        errors |= {403}
    if parameters and any(p["in"] == "path" for p in parameters):
        errors |= {403, 404, 409} if method == "POST" else {403, 404}
    if declared.body is not None:
        errors |= {413, 415}
    out: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_"),
        "summary": declared.summary,
        "tags": [declared.tag],
        "parameters": parameters,
        "responses": {str(declared.status): _success(declared)}
        | {str(code): _error(code) for code in sorted(errors)},
    }
    if declared.description:
        out["description"] = declared.description
    if declared.access == "public":
        out["security"] = []
    if declared.body is not None:
        out["requestBody"] = _request_body(declared)
    return out


def _success(declared: Operation) -> dict[str, Any]:
    if declared.result == "empty":
        return {"description": "Done"}
    page = {"$ref": "#/components/schemas/Page"}
    schema = page if declared.result == "page" else {"type": "object"}
    return {"description": "Success", "content": {"application/json": {"schema": schema}}}


def _error(code: int) -> dict[str, Any]:
    return {
        "description": _ERROR_TEXT[code],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _request_body(declared: Operation) -> dict[str, Any]:
    if declared.body_media_type == "application/json":
        schema = json_schema(declared.body or {})
        required = any(f.required for f in (declared.body or {}).values())
    else:
        schema, required = {"type": "string"}, True
    return {"required": required, "content": {declared.body_media_type: {"schema": schema}}}


_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"description": "Field → problem, a list of errors, or null"},
            },
        }
    },
}
_PAGE_SCHEMA = {
    "type": "object",
    "required": ["items", "next"],
    "properties": {
        "items": {"type": "array", "items": {"type": "object"}},
        "next": {"type": ["string", "null"], "description": "Pass as ?cursor= for the next page"},
    },
}


@bp.get("/openapi.json")
@operation("This OpenAPI document", tag="meta", access="public")
def openapi_document() -> Response:
    return jsonify(build_document(current_app))
