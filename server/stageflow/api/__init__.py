"""The JSON REST API under ``/api``."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

# Importing the modules registers their routes and error handlers on bp.
from . import (  # noqa: E402, F401
    access,
    definitions,
    errors,
    formulas,
    health,
    openapi,
    orchestrations,
    records,
    runs,
    work,
)
