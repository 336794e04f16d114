"""Who may call what: bearer-token authentication and the ``@operation`` declaration.

Every ``/api`` route needs ``Authorization: Bearer <token>`` unless its operation is
declared ``access="public"``.  The :func:`operation` decorator is the single place a
route states its access (``public``, ``user``, ``admin``), its body and query
parameters, and its summary: the wrapper enforces them and :mod:`.openapi` documents
them, so the document cannot drift from the code.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g, request

from ..auth import user_for_token
from ..core import current
from ..models import User
from . import bp
from .errors import ApiError
from .schema import Body, json_body, query_args

ACCESS_LEVELS = ("public", "user", "admin")


@dataclass(frozen=True)
class Operation:
    """What a route declares about itself (see :func:`operation`)."""

    summary: str
    tag: str
    access: str = "user"
    body: Body | None = None
    body_media_type: str = "application/json"
    query: Body = field(default_factory=dict)
    extra_query: bool = False  # other query names are allowed (record field filters)
    status: int = 200
    description: str = ""
    result: str = "object"  # the response: "object", "page" (items + next) or "empty"


def operation(
    summary: str,
    *,
    tag: str,
    access: str = "user",
    body: Body | None = None,
    body_media_type: str = "application/json",
    query: Body | None = None,
    extra_query: bool = False,
    status: int = 200,
    description: str = "",
    result: str = "object",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API route's access, body, query and summary; enforce and document them.

    With ``body``, the checked JSON body is passed to the view as ``body=``.  ``admin``
    routes answer 403 to other users; ``public`` ones need no token.
    """
    if access not in ACCESS_LEVELS:
        raise ValueError(f"access must be one of {ACCESS_LEVELS}, not {access!r}")
    declared = Operation(
        summary, tag, access, body, body_media_type, dict(query or {}), extra_query, status,
        description, result,
    )  # fmt: skip

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Any:
            if access == "admin" and not current_user().is_admin:
                raise ApiError(403, "forbidden", f"Only an admin may do this: {summary.lower()}")
            query_args(declared.query, extra=extra_query)
            if body is not None and body_media_type == "application/json":
                kwargs["body"] = json_body(body)
            return view(**kwargs)

        wrapper.operation = declared  # type: ignore[attr-defined]
        return wrapper

    return decorate


def operation_of(endpoint: str | None) -> Operation | None:
    """The declared operation of an endpoint, if it has one."""
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "operation", None)


def current_user() -> User:
    """The user the request's token belongs to (only inside authenticated routes)."""
    user = g.get("api_user")
    if user is None:
        raise ApiError(401, "unauthorized", "This route needs a bearer token")
    return user


def require_owner_or_admin(owner_id: int | None, what: str) -> None:
    """403 unless the caller is an admin or the user ``owner_id`` names."""
    user = current_user()
    if not user.is_admin and owner_id != user.id:
        raise ApiError(403, "forbidden", f"You may only see {what} you started")


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@bp.before_request
def _authenticate() -> None:
    declared = operation_of(request.endpoint)
    if declared is not None and declared.access == "public":
        return
    token = bearer_token(request.headers)
    if token is None:
        raise ApiError(
            401,
            "unauthorized",
            "Send an API token as 'Authorization: Bearer <token>' "
            "(create one with: stageflow users token NAME)",
        )
    user = user_for_token(token, current().clock.now())
    if user is None:
        raise ApiError(401, "invalid_token", "The token is unknown, revoked, or its user inactive")
    g.api_user = user
