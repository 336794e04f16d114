"""Who may read and edit which records.

As in Salesforce, from the widest grant to the narrowest:

- admins may read and edit every record;
- the object's ``access`` (its org-wide default): ``read_write`` lets everyone read and
  edit, ``read`` lets everyone read, ``private`` lets no one but those below;
- a record's owner may read and edit it;
- a share gives a user, or every member of a group or queue, ``read`` or ``edit``
  (edit includes read) on one record.

The engine's own reads and writes run as the system (``user=None``) and are never
refused.  :func:`check_access` is the one function every page, API call and the work
list ask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .db import database
from .definitions.spec import ObjectSpec
from .models import Group, GroupMembership, Queue, QueueMembership, RecordShare, User

ACTIONS = ("read", "edit")
GRANTEE_KINDS = ("user", "group", "queue")


class AccessDenied(PermissionError):
    """The user may not do this to the record; the message says what was refused."""


class ShareError(ValueError):
    """A share that cannot be made: an unknown grantee or level."""


def check_access(
    user: User | None, spec: ObjectSpec, record: Mapping[str, Any], action: str
) -> bool:
    """Whether ``user`` may ``action`` (``read`` or ``edit``) this record of ``spec``.

    ``user=None`` is the system (the engine): always allowed.
    """
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    if user is None or user.is_admin:
        return True
    if not user.is_active:
        return False
    if spec.access == "read_write" or (spec.access == "read" and action == "read"):
        return True
    if record.get("Owner") is not None and record.get("Owner") == user.name:
        return True
    levels = ("read", "edit") if action == "read" else ("edit",)
    return _shared(user, spec.name, str(record.get("Id")), levels)


def require_access(
    user: User | None, spec: ObjectSpec, record: Mapping[str, Any], action: str
) -> None:
    """Raise :class:`AccessDenied` unless :func:`check_access` allows it."""
    if not check_access(user, spec, record, action):
        verb = "open" if action == "read" else "change"
        raise AccessDenied(
            f"You may not {verb} {spec.name} {record.get('Id')}: ask its owner or an admin "
            "to share it with you"
        )


def grantees(user: User) -> list[tuple[str, str]]:
    """What shares may name to reach ``user``: the user, their groups and queues."""
    found = [("user", user.name)]
    found += [("group", g.name) for g in Group.select(Group.name).join(GroupMembership)
              .where(GroupMembership.user == user.id)]  # fmt: skip
    found += [("queue", q.name) for q in Queue.select(Queue.name).join(QueueMembership)
              .where(QueueMembership.user == user.id)]  # fmt: skip
    return found


def _shared(user: User, object_name: str, record_id: str, levels: tuple[str, ...]) -> bool:
    shares = RecordShare.select(RecordShare.grantee_kind, RecordShare.grantee_name).where(
        (RecordShare.object == object_name)
        & (RecordShare.record_id == record_id)
        & RecordShare.level.in_(levels)
    )
    granted = {(s.grantee_kind, s.grantee_name) for s in shares}
    return bool(granted) and any(g in granted for g in grantees(user))


def parse_grantee(text: str) -> tuple[str, str]:
    """``user:NAME``, ``group:NAME`` or ``queue:NAME`` as (kind, name) of someone who exists."""
    kind, _, name = str(text).partition(":")
    if kind not in GRANTEE_KINDS or not name:
        raise ShareError(f"share with user:NAME, group:NAME or queue:NAME, not {text!r}")
    model = {"user": User, "group": Group, "queue": Queue}[kind]
    if model.get_or_none(model.name == name) is None:
        raise ShareError(f"there is no {kind} named {name!r}")
    return kind, name


def share(object_name: str, record_id: str, grantee: str, level: str) -> dict[str, str]:
    """Share a record with ``grantee`` at ``level`` (replacing an earlier share to them)."""
    if level not in ACTIONS:
        raise ShareError(f"level must be read or edit, not {level!r}")
    kind, name = parse_grantee(grantee)
    with database.atomic():
        RecordShare.delete().where(
            (RecordShare.object == object_name)
            & (RecordShare.record_id == str(record_id))
            & (RecordShare.grantee_kind == kind)
            & (RecordShare.grantee_name == name)
        ).execute()
        RecordShare.create(object=object_name, record_id=str(record_id), grantee_kind=kind,
                           grantee_name=name, level=level)  # fmt: skip
    return {"to": f"{kind}:{name}", "level": level}


def unshare(object_name: str, record_id: str, grantee: str) -> bool:
    """Remove the share to ``grantee``; whether there was one."""
    kind, _, name = str(grantee).partition(":")
    removed = (
        RecordShare.delete()
        .where(
            (RecordShare.object == object_name)
            & (RecordShare.record_id == str(record_id))
            & (RecordShare.grantee_kind == kind)
            & (RecordShare.grantee_name == name)
        )
        .execute()
    )
    return bool(removed)


def shares_of(object_name: str, record_id: str) -> list[dict[str, str]]:
    """A record's shares, as ``{"to": "kind:name", "level": …}``, in the order made."""
    rows = (
        RecordShare.select()
        .where((RecordShare.object == object_name) & (RecordShare.record_id == str(record_id)))
        .order_by(RecordShare.id)
    )
    return [{"to": f"{r.grantee_kind}:{r.grantee_name}", "level": r.level} for r in rows]
