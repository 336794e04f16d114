"""Who gets the work of an interactive step: ``user:``, ``queue:`` and ``group:`` targets.

An ``assignee`` formula gives a reference.  The three built-in kinds name a user, a
queue or a group, which must exist (and a user must be active).  Any other kind, such
as ``manager:alice``, is asked of the plugins' ``resolve_assignee`` hook (the built-in
plugin :mod:`stageflow.default_assignees` answers ``manager:NAME``).  A reference
nobody resolves, or a target that does not exist, is an :class:`AssignmentError`: the
step goes to ``Error`` with its message, which says what an admin can fix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .. import fastsql
from ..extension import AssigneeContext
from ..models import Group, Queue, User

KINDS = ("user", "queue", "group")

#: The plugins' ``resolve_assignee`` hook, as the engine calls it.
Resolver = Callable[[str, AssigneeContext], "str | None"]


class AssignmentError(ValueError):
    """An assignee that cannot be given work; the message says why and what to fix."""


class Directory:
    """The users Stageflow knows, for ``resolve_assignee`` implementations."""

    def user(self, name: str) -> Mapping[str, Any] | None:
        """The user's ``name``, ``email``, ``manager`` and ``active``, or None."""
        row = User.get_or_none(User.name == name)
        if row is None:
            return None
        manager = row.manager.name if row.manager_id else None
        return {"name": row.name, "email": row.email, "manager": manager,
                "active": bool(row.is_active)}  # fmt: skip


def parse_target(reference: str) -> tuple[str, str]:
    """``kind:NAME`` as (kind, name) of an existing user (active), queue or group."""
    kind, _, name = str(reference).partition(":")
    if kind not in KINDS or not name:
        raise AssignmentError(f"assignee {reference!r} is not user:NAME, queue:NAME or group:NAME")
    model = {"user": User, "queue": Queue, "group": Group}[kind]
    row = next(iter(fastsql.select_where(model, model.name, name)), None)
    if row is None:
        raise AssignmentError(
            f"there is no {kind} named {name!r}: create it (a directory definition or "
            f"stageflow {kind}s create) or fix the assignee, then retry the step"
        )
    if kind == "user" and not row.is_active:
        raise AssignmentError(
            f"user {name!r} is deactivated: reactivate them or fix the assignee, then retry"
        )
    return kind, name


def resolve(
    reference: str, context: Callable[[], AssigneeContext], resolver: Resolver | None
) -> tuple[str, str]:
    """The target of an assignee reference (built-in kinds, then the plugins').

    ``context`` builds what the plugins are told, only when one is asked.
    """
    kind = str(reference).partition(":")[0]
    if kind not in KINDS and resolver is not None:
        resolved = resolver(reference, context())
        if resolved is None:
            raise AssignmentError(f"no plugin resolves the assignee {reference!r}")
        return parse_target(resolved)
    return parse_target(reference)
