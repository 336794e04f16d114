"""The escalation sweep: fire every SLA warning and escalation that is due, exactly once.

Each open work item with an ``sla`` stores the time the sweep must next look at it
(``next_check_at``, indexed) and how far up its ladder it is (``escalation_level``; see
:mod:`stageflow.sla.policy`).  :func:`sweep` reads the items whose check time has come,
oldest first and in batches, and handles each holding its run, in a transaction shared
with a few other items (one by one if anything unexpected fails):

* every ladder step that is due fires, in order — several at once after downtime;
* each is claimed by a conditional update, ``… SET escalation_level = L + 1,
  next_check_at = <the next step's time> WHERE id = ? AND escalation_level = L``: of two
  schedulers sweeping the same database, only the one whose update changed the row
  performs the step's actions, in the same transaction, so each fires once;
* a rung reassigns (through the engine's reassign code, refusing a target who cannot
  open the run's record, as for people), sets fields of the run's record (as the
  system), and notifies; a warning tells the assignee the item is due soon (skipped when
  the item is already overdue);
* every step is logged in the run's event log with a reason starting "SLA".

Notifications are sent after the commit.  Items completed or canceled are not open, so
they never escalate.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

from .. import fastsql
from ..engine.assignment import AssignmentError
from ..engine.runs import SYSTEM, Engine, RunState
from ..engine.states import OPEN_WORK, Status
from ..grammar import FormulaError
from ..models import WorkItem
from ..notify import Notifier
from ..records import RecordError, RecordNotFound
from ..work import WorkService
from .policy import Checkpoint, Rung, SlaPolicy

log = logging.getLogger(__name__)

#: Items read per query of the sweep.
BATCH = 200
#: Items escalated in one transaction.
TOGETHER = 50
#: How long an item whose escalation failed unexpectedly waits before it is tried again.
RETRY_DELAY = dt.timedelta(minutes=1)

_OPEN = list(OPEN_WORK)


def sweep(
    engine: Engine,
    work: WorkService,
    notifier: Notifier | None,
    now: dt.datetime,
    *,
    batch: int = BATCH,
) -> int:
    """Fire every warning and escalation due at ``now``; return how many fired.

    ``work`` gives the record-access rule of reassignments; ``notifier`` (None: nobody
    is told) sends the messages.  Safe to run in several processes at once.
    """
    fired = 0
    after: tuple[dt.datetime, int] | None = None
    while rows := due_items(now, after, batch):
        for start in range(0, len(rows), TOGETHER):
            fired += escalate_many(engine, work, notifier, rows[start : start + TOGETHER], now)
        after = (rows[-1].next_check_at, rows[-1].id)
    return fired


def due_items(
    now: dt.datetime, after: tuple[dt.datetime, int] | None = None, limit: int = BATCH
) -> list[WorkItem]:
    """Open items whose check time is ``now`` or earlier (their id, run and check time),
    in order of check time then id, starting after ``after`` (a check time and id)."""
    query = WorkItem.select(WorkItem.id, WorkItem.run, WorkItem.next_check_at).where(
        (WorkItem.next_check_at <= now) & WorkItem.status.in_(_OPEN)
    )
    if after is not None:
        at, item_id = after
        query = query.where(
            (WorkItem.next_check_at > at)
            | ((WorkItem.next_check_at == at) & (WorkItem.id > item_id))
        )
    return list(query.order_by(WorkItem.next_check_at, WorkItem.id).limit(limit))


def next_check() -> dt.datetime | None:
    """The earliest check time of any open item (None: nothing to watch)."""
    row = (
        WorkItem.select(WorkItem.next_check_at)
        .where(WorkItem.next_check_at.is_null(False) & WorkItem.status.in_(_OPEN))
        .order_by(WorkItem.next_check_at)
        .first()
    )
    return row.next_check_at if row is not None else None


def escalate_many(
    engine: Engine,
    work: WorkService,
    notifier: Notifier | None,
    items: Sequence[WorkItem],
    now: dt.datetime,
) -> int:
    """Fire what is due at ``now`` for these items (their id and run), in one
    transaction; return how many fired.

    If anything unexpected fails, the transaction is rolled back and each item is done
    again alone, so one broken item cannot hold up the others; a failing item is logged
    and tried again :data:`RETRY_DELAY` later.
    """
    ladders = [_Ladder(engine, work, item.id, item.run_id, now) for item in items]
    try:
        engine._transaction(lambda: [state for ladder in ladders for state in ladder.climb()])
    except Exception:
        if len(ladders) == 1:
            log.exception("SLA escalation of work item %s failed; trying again later", items[0].id)
            _postpone(items[0].id, now + RETRY_DELAY)
            return 0
        return sum(escalate_many(engine, work, notifier, [item], now) for item in items)
    if notifier is not None:
        for notice in (notice for ladder in ladders for notice in ladder.notices):
            notice(notifier)
    return sum(ladder.fired for ladder in ladders)


def _postpone(item_id: int, moment: dt.datetime) -> None:
    try:
        WorkItem.update(next_check_at=moment).where(
            (WorkItem.id == item_id) & (WorkItem.next_check_at < moment)
        ).execute()
    except Exception:  # the database itself failed: the next sweep tries again anyway
        log.exception("could not postpone the SLA check of work item %s", item_id)


#: A message to send after the commit, given the notifier.
Notice = Callable[[Notifier], None]


class _Ladder:
    """One item's due warnings and rungs, fired in one transaction of its run."""

    def __init__(
        self, engine: Engine, work: WorkService, item_id: int, run_id: int, now: dt.datetime
    ) -> None:
        self.engine = engine
        self.work = work
        self.item_id = item_id
        self.run_id = run_id
        self.now = now
        self.fired = 0
        self.notices: list[Notice] = []

    def climb(self) -> list[RunState]:
        """The transaction's work: claim and fire each due step of the ladder in turn."""
        self.fired, self.notices = 0, []
        state = self.engine.load(self.run_id, SYSTEM)
        item = _read(self.item_id)  # now that the run is ours
        if item is None:
            return [state]
        step = next(s for s in state.steps.values() if s.id == item.step_run_id)
        policy = SlaPolicy.of(self.engine._spec_of(state, step)[1].sla)
        if not _watched(item, step.status) or policy is None or item.due_at is None:
            _stop_watching(item)
            return [state]
        points = policy.ladder(item.due_at, self.engine._calendar(policy))
        while _watched(item, step.status) and item.next_check_at <= self.now:
            level = item.escalation_level
            following = points[level + 1].at if level + 1 < len(points) else None
            if not _claim(item, level, following):
                break  # another sweep fired it
            if level < len(points):
                self._fire(state, item, step, points[level], len(policy.rungs))
        return [state]

    def _fire(
        self, state: RunState, item: WorkItem, step: Any, point: Checkpoint, rungs: int
    ) -> None:
        due = item.due_at.isoformat()
        if point.rung is None:
            if self.now >= item.due_at:
                return  # overdue already: the rungs say so
            assignee = (item.assignee_kind, item.assignee_name)
            note = f"This work is due at {due}."
            self.notices.append(lambda n: n.work_due(item.id, [assignee], overdue=False, note=note))
            self._log(state, step, f"SLA warning: due at {due}; told {_name(assignee)}",
                      {"warning": True, "due_at": due})  # fmt: skip
            self.fired += 1
            return
        rung = point.rung
        outcomes = []
        original = (item.assignee_kind, item.assignee_name)
        first = len(state.events)  # the rung's own line goes before its actions' lines
        if rung.reassign:
            outcomes.append(self._reassign(state, item, step, rung))
        if rung.set:
            outcomes.append(self._set(state, rung))
        if rung.notify:
            outcomes.append(self._notify(state, item, step, rung, original))
        reason = f"SLA escalation {rung.number} of {rungs}: overdue since {due}"
        self._log(state, step, "; ".join([reason, *outcomes]),
                  {"rung": rung.number, "due_at": due, "actions": outcomes})  # fmt: skip
        state.events.insert(first, state.events.pop())
        if rung.set:  # the record changed: exit conditions may hold now
            self.engine._advance(state)
            _refresh(item)
        self.fired += 1

    def _log(self, state: RunState, step: Any, reason: str, data: dict[str, Any]) -> None:
        self.engine._event(state, "sla", f"step:{step.name}", None, None, reason, data)

    def _target(self, state: RunState, step: Any, written: str) -> tuple[str, str]:
        """The (kind, name) a target or ``=`` formula names; FormulaError, AssignmentError."""
        reference = self.engine._value(state, written) if written.startswith("=") else written
        return self.engine._resolve_target(state, step, str(reference or ""))

    def _reassign(self, state: RunState, item: WorkItem, step: Any, rung: Rung) -> str:
        written = str(rung.reassign)
        try:
            target = self._target(state, step, written)
        except (FormulaError, AssignmentError) as error:
            return f"not reassigned ({written}): {_message(error)}"
        blocked = self.work.cannot_open(item, target, state.run)
        if blocked:
            return f"reassignment to {_name(target)} refused: they cannot open {blocked}"
        why = f"SLA escalation {rung.number}: overdue since {item.due_at.isoformat()}"
        self.engine._reassign(state, item, target, SYSTEM, why, restart_sla=False)
        self.notices.append(lambda n: n.work_reassigned(item.id, None, why))
        return f"reassigned to {_name(target)}"

    def _notify(
        self, state: RunState, item: WorkItem, step: Any, rung: Rung, assignee: tuple[str, str]
    ) -> str:
        targets, problems = [], []
        for written in rung.notify:
            try:
                targets.append(assignee if written == "assignee" else
                               self._target(state, step, written))  # fmt: skip
            except (FormulaError, AssignmentError) as error:
                problems.append(f"{written}: {_message(error)}")
        note = f"This work was due at {item.due_at.isoformat()}."
        if targets:
            self.notices.append(lambda n: n.work_due(item.id, targets, overdue=True, note=note))
        told = f"told {', '.join(map(_name, targets))}" if targets else "told nobody"
        return told + (f" (not told: {'; '.join(problems)})" if problems else "")

    def _set(self, state: RunState, rung: Rung) -> str:
        run = state.run
        if not run.record_object:
            return "fields not set: the run has no record"
        try:
            values = self.engine._value(state, dict(rung.set))
            self.engine.records.update(run.record_object, run.record_id, values)
        except (FormulaError, RecordError, RecordNotFound) as error:
            return f"fields not set: {_message(error)}"
        state.record_cache.clear()
        return "set " + ", ".join(f"{field} = {value!r}" for field, value in values.items())


# The hot statements of the sweep, compiled once (see :mod:`stageflow.fastsql`).
_CLAIM = (
    "UPDATE work_items SET escalation_level = ?, next_check_at = ?"
    " WHERE id = ? AND escalation_level = ?"
)


def _read(item_id: int) -> WorkItem | None:
    return next(iter(fastsql.select_where(WorkItem, WorkItem.id, item_id)), None)


def _refresh(item: WorkItem) -> None:
    """Read the item's row again into ``item`` (the run may have closed it)."""
    again = _read(item.id)
    if again is not None:
        item.__data__ = again.__data__


def _claim(item: WorkItem, level: int, following: dt.datetime | None) -> bool:
    """The conditional update that makes this sweep the one to fire ``level``; on
    success ``item`` holds the new level and check time."""
    check = WorkItem.next_check_at.db_value(following)
    cursor = fastsql.execute(_CLAIM, (level + 1, check, item.id, level))
    if cursor.rowcount != 1:
        return False
    item.__data__.update(escalation_level=level + 1, next_check_at=following)
    return True


def _watched(item: WorkItem, step_status: str) -> bool:
    """Whether the sweep still has something to do for the item."""
    return (
        item.status in OPEN_WORK
        and step_status == Status.IN_PROGRESS
        and item.next_check_at is not None
    )


def _stop_watching(item: WorkItem) -> None:
    if item.next_check_at is not None:
        item.next_check_at = None
        fastsql.update_rows([item], [WorkItem.next_check_at])


def _name(target: tuple[str, str]) -> str:
    return f"{target[0]}:{target[1]}"


def _message(error: Exception) -> str:
    return getattr(error, "message", None) or str(error)
