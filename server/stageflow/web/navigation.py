"""What every page's header shows: the signed-in user and the navigation."""

from __future__ import annotations

from typing import Any

from flask import g

from ..core import current
from . import bp


@bp.context_processor
def navigation() -> dict[str, Any]:
    """The objects the navigation links to (one per deployed object) and how many open
    work items are the user's (My Work's count), once signed in."""
    if g.get("user") is None:
        return {"nav_objects": [], "my_work_count": None}
    return {"nav_objects": current().records.objects(), "my_work_count": work_counts()["mine"]}


def work_counts() -> dict[str, int]:
    """How many items each of the signed-in user's work lists holds (asked once a request)."""
    if "work_counts" not in g:
        g.work_counts = current().work.counts(g.user)
    return g.work_counts
