"""The built-in web pages: the ``web`` blueprint, with session login and CSRF protection.

The pages are a plugin like any other: they reach the app through ``register_routes``,
and ``startup`` turns on CSRF protection for every form the app serves.  The JSON API
is exempt: it authenticates with bearer tokens, which a forged cross-site form cannot
send.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect

from . import api, web
from .hookspecs import hookimpl


@hookimpl
def register_routes() -> list[Blueprint]:
    """The pages: login, records (``stageflow.web``)."""
    return [web.bp]


@hookimpl(tryfirst=True)  # before other plugins' startup, which may exempt their APIs
def startup(app: Flask) -> None:
    """Protect every form with a CSRF token; keep session cookies off cross-site requests,
    away from scripts, and (when ``base_url`` is ``https://…``) off plain HTTP.

    ``app.extensions["csrf"]`` is the :class:`~flask_wtf.csrf.CSRFProtect`: a plugin whose
    routes authenticate with tokens exempts its blueprint with it.
    """
    # (Flask's defaults are set already, so these are assigned, not set by default.)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    # Served over HTTPS (base_url says so): the cookie never travels over plain HTTP.
    app.config["SESSION_COOKIE_SECURE"] = str(app.config.get("BASE_URL", "")).startswith("https://")
    csrf = CSRFProtect(app)
    csrf.exempt(api.bp)
