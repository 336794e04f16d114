"""``GET /api/health``: is the server up, can it reach its database, is work being done."""

from __future__ import annotations

from flask import Response, jsonify

from .. import __version__
from ..core import current
from ..db import check_database
from ..models import Job
from . import bp
from .access import operation


@bp.get("/health")
@operation("Liveness: database, workers, queued jobs", tag="meta", access="public")
def health() -> tuple[Response, int]:
    """200 with ``database: "ok"`` when the database answers, else 503 with its error.

    ``workers`` counts this process's worker threads alive (0 when jobs are done by
    separate ``stageflow worker`` processes); ``jobs`` counts jobs queued or leased.
    """
    problem = check_database()
    workers = current().workers
    body = {
        "status": "ok" if problem is None else "error",
        "database": "ok" if problem is None else problem,
        "version": __version__,
        "workers": workers.alive if workers is not None else 0,
        "jobs": Job.select().count() if problem is None else None,
    }
    return jsonify(body), 200 if problem is None else 503
