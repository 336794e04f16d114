"""``GET /api/health``: is the server up, and can it reach its database."""

from __future__ import annotations

from flask import Response, jsonify

from .. import __version__
from ..db import check_database
from . import bp


@bp.get("/health")
def health() -> tuple[Response, int]:
    """200 with ``database: "ok"`` when the database answers, else 503 with its error."""
    problem = check_database()
    body = {
        "status": "ok" if problem is None else "error",
        "database": "ok" if problem is None else problem,
        "version": __version__,
    }
    return jsonify(body), 200 if problem is None else 503
