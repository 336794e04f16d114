"""The JSON REST API under ``/api``."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from . import errors, health  # noqa: E402, F401  (register their routes and handlers on bp)
