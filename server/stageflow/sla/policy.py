"""A step's ``sla`` as the engine and the sweep read it: due time, warning, rungs.

The definition keeps the ``sla`` mapping as the admin wrote it (durations as text); a
:class:`SlaPolicy` reads it once per use.  An item's *ladder* is what the sweep fires
for it, in order: the warning (``warn`` before the due time, if set), then each
escalation rung (``after`` past the due time).  The item's ``escalation_level`` counts
the ladder's steps already fired, and its ``next_check_at`` is the time of the first
one not fired yet.

Durations on a calendar count working time (:mod:`stageflow.sla.calendars`); a rung
``after: 0m`` fires at the due time itself, even when that is the end of a working day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..definitions import store
from ..definitions.durations import parse_duration
from ..definitions.spec import CalendarSpec
from .calendars import BusinessCalendar, calendar_time, calendar_time_before

#: What an item's SLA looks like to people: due later, due soon, overdue.
ON_TRACK, AT_RISK, BREACHED = "on_track", "at_risk", "breached"


@dataclass(frozen=True)
class Rung:
    """One escalation: ``after`` past the due time, reassign, notify and set fields.

    ``reassign`` and each of ``notify`` are a target (``queue:tier2``), ``assignee``
    (notify only) or a formula (text starting with ``=``); ``set`` maps record fields to
    values or ``=`` formulas.
    """

    number: int  # 1, 2, … in the order written
    after: str
    reassign: str | None = None
    notify: tuple[str, ...] = ()
    set: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Checkpoint:
    """A step of an item's ladder: when it fires, and the rung (None: the warning)."""

    at: dt.datetime
    rung: Rung | None


@dataclass(frozen=True)
class SlaPolicy:
    """A step's ``sla``: ``due`` is a duration text or a formula giving a date and time."""

    due: str
    due_is_formula: bool
    calendar: str | None = None
    warn: str | None = None
    rungs: tuple[Rung, ...] = ()
    restart_on_reassign: bool = False

    @classmethod
    def of(cls, sla: Mapping[str, Any] | None) -> SlaPolicy | None:
        """The policy of a step's ``sla`` mapping, or None when the step has none."""
        if not sla:
            return None
        due = str(sla["due"])
        rungs = tuple(
            Rung(
                number=i,
                after=str(rung["after"]),
                reassign=rung.get("reassign"),
                notify=tuple(rung.get("notify") or ()),
                set=dict(rung.get("set") or {}),
            )
            for i, rung in enumerate(sla.get("escalations") or (), start=1)
        )
        return cls(
            due=due.removeprefix("=") if is_due_formula(due) else due,
            due_is_formula=is_due_formula(due),
            calendar=sla.get("calendar"),
            warn=sla.get("warn"),
            rungs=rungs,
            restart_on_reassign=bool(sla.get("restart_on_reassign", False)),
        )

    def due_after(self, start: dt.datetime, calendar: BusinessCalendar | None) -> dt.datetime:
        """The due time of a duration ``due`` counted from ``start``."""
        return calendar_time(start, self.due, calendar)

    def warn_at(self, due_at: dt.datetime, calendar: BusinessCalendar | None) -> dt.datetime | None:
        """When the item is at risk: ``warn`` before the due time (None without ``warn``)."""
        if self.warn is None:
            return None
        return calendar_time_before(due_at, self.warn, calendar)

    def ladder(self, due_at: dt.datetime, calendar: BusinessCalendar | None) -> list[Checkpoint]:
        """What the sweep fires for an item due at ``due_at``, in order."""
        steps = []
        warn_at = self.warn_at(due_at, calendar)
        if warn_at is not None:
            steps.append(Checkpoint(warn_at, None))
        for rung in self.rungs:
            at = due_at if parse_duration(rung.after) == 0 else calendar_time(
                due_at, rung.after, calendar
            )  # fmt: skip
            steps.append(Checkpoint(at, rung))
        return steps

    def rungs_fired(self, level: int) -> int:
        """How many escalation rungs an item at ``escalation_level`` has passed."""
        return max(0, level - (1 if self.warn is not None else 0))


def is_due_formula(due: str) -> bool:
    """Whether a ``due`` text is a formula rather than a duration (``4h``, ``PT4H``)."""
    try:
        parse_duration(due)
    except ValueError:
        return True
    return False


def business_calendar(name: str | None) -> BusinessCalendar | None:
    """The active calendar of that name (None for no name).

    Raises :class:`~stageflow.definitions.store.DefinitionNotFound` when no calendar of
    that name is active.
    """
    if name is None:
        return None
    _, spec = store.active_spec("calendar", name)
    assert isinstance(spec, CalendarSpec)  # noqa: S101 - the store keeps kinds apart
    return _built(spec)


# Built once per calendar version: specs are cached (and never change) per version.
_BUILT: dict[int, tuple[CalendarSpec, BusinessCalendar]] = {}


def _built(spec: CalendarSpec) -> BusinessCalendar:
    hit = _BUILT.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    calendar = BusinessCalendar.from_spec(spec)
    _BUILT[id(spec)] = (spec, calendar)
    return calendar


def sla_state(
    due_at: dt.datetime | None, warn_at: dt.datetime | None, moment: dt.datetime
) -> str | None:
    """``on_track``, ``at_risk`` (past the warning) or ``breached`` (past due) at ``moment``."""
    if due_at is None:
        return None
    if moment >= due_at:
        return BREACHED
    if warn_at is not None and moment >= warn_at:
        return AT_RISK
    return ON_TRACK
