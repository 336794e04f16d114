"""Definition versions in the database: deploy, activate, and read specs back.

A deploy is atomic: validated documents (from :mod:`stageflow.definitions.loader`) are
written in one transaction.  A document whose content is unchanged creates no new
version.  Objects, flows, calendars and directories take effect when deployed;
orchestrations run only once a version is activated (``activate=True`` on deploy, or
:func:`activate`), and a run keeps the version it started on.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..db import database
from ..models import (
    Definition,
    DefinitionVersion,
    Group,
    GroupMembership,
    Queue,
    QueueMembership,
    User,
)
from .spec import DirectorySpec, Spec, TeamSpec, from_data, to_data


class DeployableDocument(Protocol):
    """What the loader hands over for each validated document."""

    kind: str
    name: str
    spec: Spec
    text: str
    hash: str


class DefinitionNotFound(LookupError):
    """No definition (or version) of that kind and name."""


@dataclass(frozen=True)
class Deployed:
    """What a deploy did with one document."""

    kind: str
    name: str
    version: int
    created: bool  # False: the content was unchanged
    active: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "version": self.version,
            "created": self.created,
            "active": self.active,
        }


def deploy(
    documents: Iterable[DeployableDocument],
    *,
    activate: bool = False,
    actor: User | None = None,
    source: str | None = None,
) -> list[Deployed]:
    """Store every document as a new version (or none, when unchanged), atomically."""
    results = []
    forget_active()  # also when the deploy rolls back
    with database.atomic():
        for document in documents:
            origin = source or getattr(getattr(document, "position", None), "file", None)
            results.append(_deploy_one(document, activate, actor, origin))
            if document.kind == "directory":
                apply_directory(document.spec)  # type: ignore[arg-type]
    return results


def _deploy_one(
    document: DeployableDocument, activate: bool, actor: User | None, source: str | None
) -> Deployed:
    definition, _ = Definition.get_or_create(kind=document.kind, name=document.name)
    latest = (
        DefinitionVersion.select()
        .where(DefinitionVersion.definition == definition)
        .order_by(DefinitionVersion.version.desc())
        .first()
    )
    takes_effect = activate or document.kind != "orchestration"
    if latest is not None and latest.content_hash == document.hash:
        if takes_effect and not latest.active:
            _make_active(latest)
        return Deployed(document.kind, document.name, latest.version, False, latest.active)
    version = DefinitionVersion.create(
        definition=definition,
        version=(latest.version + 1) if latest else 1,
        content=document.text,
        content_hash=document.hash,
        parsed=to_data(document.spec),
        source=source,
        created_by=actor,
    )
    if takes_effect:
        _make_active(version)
    return Deployed(document.kind, document.name, version.version, True, version.active)


def _make_active(version: DefinitionVersion) -> None:
    forget_active()
    (
        DefinitionVersion.update(active=False)
        .where(
            (DefinitionVersion.definition == version.definition_id)
            & (DefinitionVersion.active == True)  # noqa: E712 (builds SQL)
        )
        .execute()
    )
    version.active = True
    version.save(only=[DefinitionVersion.active])


def activate(kind: str, name: str, version: int | None) -> DefinitionVersion:
    """Make ``version`` (None: the latest) the active one; deactivate the others."""
    with database.atomic():
        row = find_version(kind, name, version)
        _make_active(row)
    return row


def deactivate(kind: str, name: str) -> None:
    """Leave no version active: no new runs start; running ones go on."""
    definition = _definition(kind, name)
    forget_active()
    DefinitionVersion.update(active=False).where(
        DefinitionVersion.definition == definition
    ).execute()


def _definition(kind: str, name: str) -> Definition:
    definition = Definition.get_or_none(kind=kind, name=name)
    if definition is None:
        raise DefinitionNotFound(f"No {kind} named {name!r} is deployed")
    return definition


def find_version(kind: str, name: str, version: int | None = None) -> DefinitionVersion:
    """A stored version: the given number, or the latest.  DefinitionNotFound if none."""
    definition = _definition(kind, name)
    query = DefinitionVersion.select().where(DefinitionVersion.definition == definition)
    if version is None:
        row = query.order_by(DefinitionVersion.version.desc()).first()
    else:
        row = query.where(DefinitionVersion.version == version).first()
    if row is None:
        raise DefinitionNotFound(f"{kind} {name!r} has no version {version}")
    return row


#: How long a process trusts what it read about active versions.  A deploy in this
#: process is seen at once; one in another process within this many seconds.
ACTIVE_CACHE_SECONDS = 2.0
_ACTIVE: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], tuple[Any, float]]] = (
    weakref.WeakKeyDictionary()
)


def forget_active() -> None:
    """Drop what this process remembers about active versions (after a change)."""
    _ACTIVE.pop(database.obj, None)


def active_version_id(kind: str, name: str) -> int:
    """The id of the active version, remembered for a moment (hot path of the engine)."""
    cache = _ACTIVE.setdefault(database.obj, {})
    hit = cache.get((kind, name))
    now = time.monotonic()
    if hit is not None and hit[1] > now:
        return hit[0]
    version_id = active_version(kind, name).id
    cache[kind, name] = (version_id, now + ACTIVE_CACHE_SECONDS)
    return version_id


def active_version_ids(kind: str) -> dict[str, int]:
    """Every active version's id of one kind, by name (remembered like the one above)."""
    cache = _ACTIVE.setdefault(database.obj, {})
    hit = cache.get((kind, "*"))
    now = time.monotonic()
    if hit is not None and hit[1] > now:
        return hit[0]  # type: ignore[return-value]
    query = (
        DefinitionVersion.select(DefinitionVersion.id, Definition.name)
        .join(Definition)
        .where((Definition.kind == kind) & (DefinitionVersion.active == True))  # noqa: E712
    )
    found = {row.name: row.id for row in query.objects()}
    cache[kind, "*"] = (found, now + ACTIVE_CACHE_SECONDS)  # type: ignore[assignment]
    return found


def active_version(kind: str, name: str) -> DefinitionVersion:
    """The active version of a definition.  DefinitionNotFound if none is active."""
    row = (
        DefinitionVersion.select(DefinitionVersion.id, DefinitionVersion.version)
        .join(Definition)
        .where(
            (Definition.kind == kind)
            & (Definition.name == name)
            & (DefinitionVersion.active == True)  # noqa: E712 (builds SQL)
        )
        .first()
    )
    if row is None:
        raise DefinitionNotFound(f"No active version of {kind} {name!r}")
    return row


# Versions never change, so their specs are cached, per database (tests and tools may
# open several in one process).
_SPECS: weakref.WeakKeyDictionary[Any, dict[int, Spec]] = weakref.WeakKeyDictionary()


def spec_of(version_id: int, kind: str) -> Spec:
    """The spec stored in a version (cached: versions never change)."""
    cache = _SPECS.setdefault(database.obj, {})
    spec = cache.get(version_id)
    if spec is None:
        row = DefinitionVersion.get_by_id(version_id)
        spec = cache[version_id] = from_data(kind, row.parsed)
    return spec


def active_spec(kind: str, name: str) -> tuple[int, Spec]:
    """The active version's id and spec.  DefinitionNotFound if none is active."""
    version_id = active_version_id(kind, name)
    return version_id, spec_of(version_id, kind)


def active_specs(kind: str | None = None) -> dict[str, dict[str, Spec]]:
    """Every active spec by kind and name (the context for validating a deploy)."""
    query = (
        DefinitionVersion.select(DefinitionVersion.id, Definition.kind, Definition.name)
        .join(Definition)
        .where(DefinitionVersion.active == True)  # noqa: E712 (builds SQL)
    )
    if kind is not None:
        query = query.where(Definition.kind == kind)
    specs: dict[str, dict[str, Spec]] = {}
    for row in query.objects():
        specs.setdefault(row.kind, {})[row.name] = spec_of(row.id, row.kind)
    return specs


# -- the directory: users, groups and queues -------------------------------------------


def apply_directory(directory: DirectorySpec) -> None:
    """Create the users, groups and queues a directory names; set memberships.

    Users not yet known are created without a password (they cannot sign in until one is
    set with the CLI); known users get the email, admin flag and manager given.
    """
    users = {
        u.name: u for u in User.select().where(User.name.in_([u.name for u in directory.users]))
    }
    for spec in directory.users:
        user = users.get(spec.name) or User(name=spec.name)
        user.email = spec.email or user.email
        user.is_admin = spec.admin or bool(user.is_admin)
        user.is_active = spec.active
        user.save()
        users[spec.name] = user
    for spec in directory.users:
        if spec.manager:
            manager = users.get(spec.manager) or User.get(User.name == spec.manager)
            User.update(manager=manager).where(User.name == spec.name).execute()
    _apply_teams(directory.groups, Group, GroupMembership, "group")
    _apply_teams(directory.queues, Queue, QueueMembership, "queue")


def _apply_teams(teams: Iterable[TeamSpec], model: Any, membership: Any, field: str) -> None:
    for spec in teams:
        team, _ = model.get_or_create(name=spec.name)
        membership.delete().where(getattr(membership, field) == team).execute()
        members = User.select().where(User.name.in_(list(spec.members)))
        membership.insert_many([{field: team, "user": user} for user in members]).execute()


def version_summary(row: DefinitionVersion) -> Mapping[str, Any]:
    """A version as the API shows it."""
    return {
        "version": row.version,
        "active": row.active,
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by.name if row.created_by_id else None,
        "source": row.source,
        "content": row.content,
    }
