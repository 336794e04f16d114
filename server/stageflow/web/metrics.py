"""``GET /metrics``: the figures of :mod:`stageflow.metrics` for Prometheus to scrape.

Who may read them depends on the ``metrics_token`` setting.  Set, the scraper sends
that token as ``Authorization: Bearer …`` (and nothing else is accepted: a monitoring
system holds no admin's rights).  Empty, the route asks what the API asks: the bearer
token of an admin (``stageflow users token NAME``).  The figures describe the whole
server, so they are never shown to other users.
"""

from __future__ import annotations

import hmac

from flask import Response, request

from .. import metrics
from ..api.access import bearer_token
from ..auth import user_for_token
from ..core import current
from . import bp


def refusal() -> Response | None:
    """Why the request may not read the metrics (a 401 or 403 response), or None."""
    token = bearer_token(request.headers)
    expected = str(current().config.get("metrics_token") or "")
    if token is None:
        return refused(401, "Send the metrics token (or, without one set, an admin's API "
                            "token) as 'Authorization: Bearer <token>'.")  # fmt: skip
    if expected:
        if hmac.compare_digest(token.encode(), expected.encode()):
            return None
        return refused(401, "The token is not the metrics_token setting.")
    user = user_for_token(token, current().clock.now())
    if user is None:
        return refused(401, "The token is unknown, revoked, or its user inactive.")
    if not user.is_admin:
        return refused(403, "Only an admin's token may read the metrics.")
    return None


def refused(status: int, message: str) -> Response:
    """A plain-text refusal; a 401 says which scheme to authenticate with."""
    response = Response(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="stageflow metrics"'
    return response


@bp.get("/metrics")
def metrics_page() -> Response:
    """Runs, open and overdue work, jobs and step durations, in Prometheus's text format."""
    refused_response = refusal()
    if refused_response is not None:
        return refused_response
    text = metrics.exposition(metrics.collect(current().clock.now()))
    return Response(text, content_type=metrics.CONTENT_TYPE)
