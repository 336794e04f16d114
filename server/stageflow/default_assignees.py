"""The built-in assignee kind ``manager:NAME``: the manager of user NAME.

An example of ``resolve_assignee``: a plugin can add kinds the same way (``team_lead:``,
``on_call:`` …).  Users get managers in a directory definition (``manager:``).
"""

from __future__ import annotations

from .engine.assignment import AssignmentError
from .extension import AssigneeContext
from .hookspecs import hookimpl


@hookimpl
def resolve_assignee(reference: str, context: AssigneeContext) -> str | None:
    """``manager:NAME``: the manager of user NAME."""
    kind, _, name = reference.partition(":")
    if kind != "manager":
        return None
    user = context.directory.user(name)
    if user is None:
        raise AssignmentError(f"manager:{name}: there is no user named {name!r}")
    if not user.get("manager"):
        raise AssignmentError(f"manager:{name}: {name} has no manager; set one in a directory")
    return f"user:{user['manager']}"
