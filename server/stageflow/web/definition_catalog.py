"""What the admin pages read about deployed definitions: each one's active and latest
version, its versions' history, and how many runs each orchestration (and version) has.

Every list is read with a fixed number of queries, however many definitions and runs
there are: run counts are one grouped query, never one per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from peewee import JOIN, Case, Expression, Field, fn

from ..engine.states import ACTIVE, HALTED
from ..extension import StepType
from ..models import Definition, DefinitionVersion, Run, User
from .diagram import FlowInfo

#: The kinds of definition the orchestrations page lists, in its order, with headings.
#: (Directories are people: the people page shows them.)
SECTIONS = {
    "orchestration": "Orchestrations",
    "flow": "Flows",
    "object": "Objects",
    "calendar": "Calendars",
}

#: What a definition's row says after its label, by kind: a key of its parsed spec.
DETAIL_KEYS = {"flow": "type", "object": "source", "calendar": "time_zone"}


@dataclass(frozen=True)
class RunCounts:
    """How many runs: going on (not started or in progress), halted (suspended or in
    error, waiting for an admin), and in all."""

    running: int = 0
    halted: int = 0
    total: int = 0


def run_counts(key: Field, condition: Expression | None = None) -> dict[int, RunCounts]:
    """Runs counted by ``key`` (a column of :class:`Run` or :class:`DefinitionVersion`,
    e.g. the version's definition) in one grouped query; ``condition`` narrows them."""

    def counting(statuses: Collection[str]) -> Any:
        return fn.SUM(Case(None, [(Run.status.in_([str(s) for s in statuses]), 1)], 0))

    query = (
        Run.select(
            key.alias("key"),
            counting(ACTIVE).alias("running"),
            counting(HALTED).alias("halted"),
            fn.COUNT(Run.id).alias("total"),
        )
        .join(DefinitionVersion)
        .group_by(key)
    )
    if condition is not None:
        query = query.where(condition)
    return {
        row["key"]: RunCounts(int(row["running"] or 0), int(row["halted"] or 0), row["total"])
        for row in query.dicts()
    }


@dataclass(frozen=True)
class DefinitionRow:
    """A deployed definition as the list shows it."""

    kind: str
    name: str
    label: str
    detail: str  # a flow's step type, an object's record source, a calendar's time zone
    active_version: int | None
    latest_version: int
    updated_at: dt.datetime  # when its latest version was deployed
    runs: RunCounts


def definition_rows() -> dict[str, list[DefinitionRow]]:
    """Every definition of the :data:`SECTIONS` kinds, by kind then name, with its active
    and latest versions (and runs, for orchestrations)."""
    latest = (
        DefinitionVersion.select(
            DefinitionVersion.definition, fn.MAX(DefinitionVersion.version).alias("latest")
        )
        .group_by(DefinitionVersion.definition)
        .alias("latest")
    )
    # Per definition: its latest version and its active one (the same row, or two).
    query = (
        DefinitionVersion.select(
            DefinitionVersion.definition,
            DefinitionVersion.version,
            DefinitionVersion.active,
            DefinitionVersion.parsed,
            DefinitionVersion.created_at,
            Definition.kind,
            Definition.name,
            latest.c.latest,
        )
        .join(Definition)
        .join_from(
            DefinitionVersion, latest, on=(DefinitionVersion.definition == latest.c.definition_id)
        )
        .where(
            Definition.kind.in_(list(SECTIONS))
            & ((DefinitionVersion.active == True) | (DefinitionVersion.version == latest.c.latest))  # noqa: E712
        )
        .order_by(Definition.name, DefinitionVersion.version)
    )
    found: dict[int, list[Any]] = {}
    for row in query.objects():
        found.setdefault(row.definition_id, []).append(row)
    runs = run_counts(DefinitionVersion.definition)
    rows: dict[str, list[DefinitionRow]] = {kind: [] for kind in SECTIONS}
    for definition_id, versions in found.items():
        rows[versions[0].kind].append(definition_row(versions, runs.get(definition_id)))
    return rows


def definition_row(versions: list[Any], runs: RunCounts | None) -> DefinitionRow:
    """A definition's row from its latest and active versions (oldest first)."""
    latest = versions[-1]
    active = next((v for v in versions if v.active), None)
    shown: Mapping[str, Any] = (active or latest).parsed or {}
    detail = shown.get(DETAIL_KEYS.get(latest.kind, ""), "")
    return DefinitionRow(
        kind=latest.kind,
        name=latest.name,
        label=str(shown.get("label") or ""),
        detail=str(detail or ""),
        active_version=active.version if active is not None else None,
        latest_version=latest.version,
        updated_at=latest.created_at,
        runs=runs or RunCounts(),
    )


@dataclass(frozen=True)
class VersionRow:
    """A version of an orchestration as its history shows it."""

    id: int
    version: int
    active: bool
    created_at: dt.datetime
    created_by: str
    source: str
    content_hash: str
    runs: RunCounts


def version_rows(definition: Definition) -> list[VersionRow]:
    """Every version of a definition, newest first, with who deployed it and its runs."""
    query = (
        DefinitionVersion.select(
            DefinitionVersion.id,
            DefinitionVersion.version,
            DefinitionVersion.active,
            DefinitionVersion.created_at,
            DefinitionVersion.source,
            DefinitionVersion.content_hash,
            User.name.alias("created_by_name"),
        )
        .join(User, JOIN.LEFT_OUTER, on=(DefinitionVersion.created_by == User.id))
        .where(DefinitionVersion.definition == definition)
        .order_by(DefinitionVersion.version.desc())
    )
    runs = run_counts(Run.orchestration, DefinitionVersion.definition == definition)
    return [
        VersionRow(
            id=row.id,
            version=row.version,
            active=bool(row.active),
            created_at=row.created_at,
            created_by=row.created_by_name or "",
            source=row.source or "",
            content_hash=row.content_hash,
            runs=runs.get(row.id, RunCounts()),
        )
        for row in query.objects()
    ]


def flow_infos(names: Collection[str], step_types: Mapping[str, StepType]) -> dict[str, FlowInfo]:
    """The active versions of the flows named, for a diagram: each one's step type and
    whether a person does it (read in one query)."""
    if not names:
        return {}
    query = (
        DefinitionVersion.select(Definition.name, DefinitionVersion.parsed)
        .join(Definition)
        .where(
            (Definition.kind == "flow")
            & Definition.name.in_(sorted(names))
            & (DefinitionVersion.active == True)  # noqa: E712 (builds SQL)
        )
    )
    infos = {}
    for row in query.objects():
        type_name = str((row.parsed or {}).get("type", ""))
        step_type = step_types.get(type_name)
        infos[row.name] = FlowInfo(type_name, bool(step_type and step_type.interactive))
    return infos
