"""The server's time zone, in which every page shows and takes date-times."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

from . import bp
from .fields import display_value


def server_zone() -> ZoneInfo:
    """The time zone of the ``timezone`` setting."""
    return ZoneInfo(current_app.config["TIMEZONE"])


@bp.app_template_filter("local_time")
def local_time(value: Any) -> str:
    """A date-time (ISO text or datetime) as pages show it: ``2026-01-05 10:00 CET``."""
    return display_value(value, server_zone())
