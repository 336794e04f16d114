"""What every page's header shows: the signed-in user and the navigation."""

from __future__ import annotations

from typing import Any

from flask import g

from ..core import current
from . import bp


@bp.context_processor
def navigation() -> dict[str, Any]:
    """The objects the navigation links to (one per deployed object, once signed in)."""
    if g.get("user") is None:
        return {"nav_objects": []}
    return {"nav_objects": current().records.objects()}
