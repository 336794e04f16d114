"""API errors as JSON: ``{"error": {"code", "message", "details"}}`` (DESIGN.md §9)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..access import AccessDenied, ShareError
from ..definitions.errors import DefinitionErrors
from ..definitions.store import DefinitionNotFound
from ..engine.runs import EngineError
from ..records import RecordError, RecordNotFound
from . import bp


class ApiError(Exception):
    """An error to answer with ``status`` and a JSON body; raise it from any API view."""

    def __init__(self, status: int, code: str, message: str, details: Any | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def error_response(
    status: int, code: str, message: str, details: Any | None = None
) -> tuple[Response, int]:
    """The JSON response every API error uses."""
    body = {"error": {"code": code, "message": message, "details": details}}
    return jsonify(body), status


@bp.app_errorhandler(ApiError)
def _api_error(error: ApiError) -> tuple[Response, int]:
    return error_response(error.status, error.code, error.message, error.details)


@bp.app_errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    # Registered app-wide because a URL that matches no route (404, 405) never reaches
    # the blueprint's own handlers; pages outside /api keep Flask's HTML errors.
    if not _is_api_request():
        return error
    details = None
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        details = {"allowed_methods": sorted(error.valid_methods)}
    code = (error.name or "error").lower().replace(" ", "_")
    status = error.code or 500
    if status >= 500:
        # Never show a server error's internals to the caller; the log has them.
        return error_response(status, code, "The server failed; the error has been logged.")
    return error_response(status, code, error.description or error.name, details)


def _is_api_request() -> bool:
    prefix = bp.url_prefix or "/api"
    return request.path == prefix or request.path.startswith(prefix + "/")


# -- the core's exceptions, as API errors (raised from this blueprint's views only) ----

_STATUS_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 409: "conflict"}


@bp.errorhandler(EngineError)
def _engine_error(error: EngineError) -> tuple[Response, int]:
    return error_response(error.code, _STATUS_CODES.get(error.code, "error"), error.message)


@bp.errorhandler(RecordError)
def _record_error(error: RecordError) -> tuple[Response, int]:
    return error_response(400, "invalid_record", str(error), error.errors)


@bp.errorhandler(AccessDenied)
def _access_denied(error: AccessDenied) -> tuple[Response, int]:
    return error_response(403, "forbidden", str(error))


@bp.errorhandler(ShareError)
def _share_error(error: ShareError) -> tuple[Response, int]:
    return error_response(400, "invalid_share", str(error))


@bp.errorhandler(RecordNotFound)
@bp.errorhandler(DefinitionNotFound)
def _not_found(error: LookupError) -> tuple[Response, int]:
    return error_response(404, "not_found", str(error.args[0]) if error.args else str(error))


@bp.errorhandler(DefinitionErrors)
def _definition_errors(error: DefinitionErrors) -> tuple[Response, int]:
    details = [
        {
            "file": e.position.file,
            "line": e.position.line,
            "column": e.position.column,
            "message": e.message,
            "text": str(e),
        }
        for e in error.errors
    ]
    count = len(details)
    message = f"The deploy was refused ({count} error{'s' if count != 1 else ''}); nothing changed"
    return error_response(400, "invalid_definitions", message, details)
