"""The engine's side of human work: claim, release, complete and reassign work items.

Each action is one event of the item's run, in one transaction, logged in the run's
event log.  A work item changes state by a conditional update (``… WHERE status IN
(open) …``), so of two people completing (or claiming) the same item at once exactly
one succeeds; the other gets a 409 with a sentence that says what happened.
Completing validates the submitted values with the step type (a form's fields and
rules), stores the outputs (``$Steps.NAME.FIELD``), applies the form's optional
``update_record`` to the run's record, completes the step and moves the run on.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import fastsql
from ..definitions import store
from ..definitions.spec import FlowSpec, StepSpec
from ..extension import InteractiveStepType, StepError
from ..grammar import FormulaError
from ..models import StageRun, StepRun, User, WorkItem
from ..records import RecordError, RecordNotFound
from ..sla.calendars import BusinessCalendar
from ..sla.policy import SlaPolicy, business_calendar
from .errors import EngineError
from .states import Status, WorkItemStatus

if TYPE_CHECKING:
    from .runs import Engine, RunState

log = logging.getLogger(__name__)

OPEN = (WorkItemStatus.ASSIGNED, WorkItemStatus.IN_PROGRESS)


class SlaError(ValueError):
    """A due time that cannot be worked out (its formula failed); the message says why."""


class WorkItemActions:
    """Work-item events, mixed into :class:`~stageflow.engine.runs.Engine`."""

    def complete_work(
        self: Engine, item_id: int, submitted: Mapping[str, Any], actor: User
    ) -> WorkItem:
        """Validate ``submitted`` with the step type and complete the item and its step.

        EngineError 400 (with ``errors`` by field) for values the form refuses, 409 when
        the item is no longer open.
        """

        def work() -> RunState:
            item, state = self._open_item(item_id, actor.name)
            step = self._item_step(state, item)
            stage, spec = self._spec_of(state, step)
            flow, step_type = self._interactive(step)
            context = self._context(state, stage, spec, step, flow)
            try:
                outputs = step_type.finish(context, submitted)
            except StepError as error:
                raise _refused(error.message, getattr(error, "errors", None)) from None
            now = self.clock.now()
            done = (
                WorkItem.update(
                    status=WorkItemStatus.COMPLETED,
                    completed_at=now,
                    completed_by=actor.id,
                    outputs=outputs,
                    next_check_at=None,
                )
                .where((WorkItem.id == item.id) & WorkItem.status.in_(OPEN))
                .execute()
            )
            if done != 1:
                raise _conflict(f"Work item {item.id} was completed by someone else just now")
            self._update_record_from(state, context.parameters, outputs)
            self._item_event(state, item, WorkItemStatus.COMPLETED, f"completed by {actor.name}")
            self._complete_step(state, step, outputs)
            self._advance(state)
            return state

        self._transaction(work)
        return WorkItem.get_by_id(item_id)

    def claim_work(self: Engine, item_id: int, actor: User) -> WorkItem:
        """Take an item of a queue or group: it is the actor's until released (409 if
        someone holds it or it is closed)."""

        def work() -> RunState:
            item, state = self._open_item(item_id, actor.name)
            taken = (
                WorkItem.update(claimed_by=actor.id, status=WorkItemStatus.IN_PROGRESS)
                .where(
                    (WorkItem.id == item.id)
                    & WorkItem.status.in_(OPEN)
                    & WorkItem.claimed_by.is_null()
                )
                .execute()
            )
            if taken != 1:
                holder = item.claimed_by.name if item.claimed_by_id else "someone else"
                raise _conflict(f"Work item {item.id} is already claimed by {holder}")
            self._item_event(state, item, WorkItemStatus.IN_PROGRESS, f"claimed by {actor.name}")
            return state

        self._transaction(work)
        return WorkItem.get_by_id(item_id)

    def release_work(self: Engine, item_id: int, actor: User) -> WorkItem:
        """Give a claimed item back to its queue or group."""

        def work() -> RunState:
            item, state = self._open_item(item_id, actor.name)
            given = (
                WorkItem.update(claimed_by=None, status=WorkItemStatus.ASSIGNED)
                .where(
                    (WorkItem.id == item.id)
                    & WorkItem.status.in_(OPEN)
                    & (WorkItem.claimed_by == item.claimed_by_id)
                )
                .execute()
            )
            if given != 1 or item.claimed_by_id is None:
                raise _conflict(f"Work item {item.id} is not claimed")
            self._item_event(state, item, WorkItemStatus.ASSIGNED, f"released by {actor.name}")
            return state

        self._transaction(work)
        return WorkItem.get_by_id(item_id)

    def reassign_work(
        self: Engine, item_id: int, target: tuple[str, str], actor: str, reason: str = ""
    ) -> WorkItem:
        """Give an open item to another user, queue or group (checked by the caller);
        the run's log records who, from whom, to whom and why.  The caller tells the new
        assignee (see :meth:`stageflow.notify.Notifier.work_reassigned`).  A step whose
        ``sla`` has ``restart_on_reassign`` starts the item's SLA clock again."""

        def work() -> RunState:
            item, state = self._open_item(item_id, actor)
            self._reassign(state, item, target, actor, reason, restart_sla=True)
            return state

        self._transaction(work)
        return WorkItem.get_by_id(item_id)

    def _reassign(
        self: Engine,
        state: RunState,
        item: WorkItem,
        target: tuple[str, str],
        actor: str,
        reason: str,
        *,
        restart_sla: bool,
    ) -> None:
        """Reassign an open item of ``state``'s run, in its transaction, and log it
        (``item`` holds the new values).

        ``restart_sla`` (people's reassignments, not escalations) restarts the SLA clock
        from now when the step asks for it.
        """
        step = self._item_step(state, item)
        before = f"{item.assignee_kind}:{item.assignee_name}"
        after = f"{target[0]}:{target[1]}"
        changes: dict[str, Any] = {
            "assignee_kind": target[0],
            "assignee_name": target[1],
            "claimed_by": None,
            "status": WorkItemStatus.ASSIGNED,
        }
        data: dict[str, Any] = {"from": before, "to": after, "by": actor, "reason": reason}
        spec = self._spec_of(state, step)[1]
        policy = SlaPolicy.of(spec.sla) if restart_sla else None
        if policy is not None and policy.restart_on_reassign:
            try:
                due_at, next_check = self._sla_clock(state, spec, self.clock.now())
            except SlaError as error:
                data["sla"] = f"the SLA clock was not restarted: {error}"
            else:
                changes.update(due_at=due_at, next_check_at=next_check, escalation_level=0)
                data["sla"] = f"SLA clock restarted: due {due_at.isoformat() if due_at else '-'}"
                if next_check is not None:
                    state.checks.append(next_check)
        old_status = item.status
        for name, value in changes.items():
            setattr(item, name, value)
        fastsql.update_rows([item], [getattr(WorkItem, name) for name in changes])
        item._dirty.clear()
        why = f"reassigned by {actor} from {before} to {after}" + (f": {reason}" if reason else "")
        self._event(state, "work_item", f"step:{step.name}", old_status,
                    WorkItemStatus.ASSIGNED, why, data=data)  # fmt: skip

    def _sla_clock(
        self: Engine, state: RunState, spec: StepSpec, start: dt.datetime
    ) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The due time and first SLA check time of an item of ``spec`` whose clock starts
        at ``start`` (both None without an ``sla``).

        A duration is counted on the step's calendar (working time) or in calendar time;
        a formula gives the due time itself (blank: no due time).  SlaError when the
        formula fails or gives something else than a date and time.
        """
        policy = SlaPolicy.of(spec.sla)
        if policy is None:
            return None, None
        calendar = self._calendar(policy)
        if not policy.due_is_formula:
            due_at = policy.due_after(start, calendar)
        else:
            try:
                value = self._value(state, "=" + policy.due)
            except FormulaError as error:
                raise SlaError(f"SLA due formula failed: {error.message}") from None
            due_at = _moment(value)
            if due_at is None:
                return None, None
        ladder = policy.ladder(due_at, calendar)
        return due_at, ladder[0].at if ladder else None

    def _calendar(self: Engine, policy: SlaPolicy) -> BusinessCalendar | None:
        """The step's business calendar; calendar time (logged) if it is no longer active."""
        try:
            return business_calendar(policy.calendar)
        except store.DefinitionNotFound:
            log.warning("calendar %r is not active: SLA times counted in calendar time",
                        policy.calendar)  # fmt: skip
            return None

    def render_work(self: Engine, item: WorkItem) -> Mapping[str, Any]:
        """What the item's step type shows (a form's fields and instructions)."""

        def work() -> RunState:
            state = self.load(item.run_id)
            step = self._item_step(state, item)
            stage, spec = self._spec_of(state, step)
            flow, step_type = self._interactive(step)
            context = self._context(state, stage, spec, step, flow)
            state.rendered = {"type": flow.type, **step_type.render(context)}
            return state

        return self._transaction(work).rendered

    # -- helpers -------------------------------------------------------------------------

    def _open_item(self: Engine, item_id: int, actor: str) -> tuple[WorkItem, RunState]:
        item = WorkItem.get_or_none(WorkItem.id == item_id)
        if item is None:
            raise _missing(item_id)
        state = self.load(item.run_id, actor)
        item = WorkItem.get_by_id(item_id)  # again, now that the run is ours
        if item.status not in OPEN:
            raise _conflict(f"Work item {item.id} is already {item.status}")
        return item, state

    def _item_event(
        self: Engine,
        state: RunState,
        item: WorkItem,
        status: str,
        reason: str,
        data: dict[str, Any] | None = None,
    ) -> None:
        step = self._item_step(state, item)
        self._event(state, "work_item", f"step:{step.name}", item.status, status, reason, data)

    def _item_step(self: Engine, state: RunState, item: WorkItem) -> Any:
        step = next(s for s in state.steps.values() if s.id == item.step_run_id)
        if step.status != Status.IN_PROGRESS:
            raise _conflict(f"The step of work item {item.id} is {step.status}")
        return step

    def _spec_of(self: Engine, state: RunState, step: StepRun) -> tuple[StageRun, StepSpec]:
        """A step run's stage run and its spec in the run's orchestration."""
        stage = next(s for s in state.stages if s.id == step.stage_run_id)
        return stage, next(s for s, row in state.steps_of(stage) if row.id == step.id)

    def _interactive(self: Engine, step: Any) -> tuple[FlowSpec, InteractiveStepType]:
        flow = store.spec_of(step.flow_version_id, "flow")
        step_type = self.step_types.get(flow.type)  # type: ignore[union-attr]
        if not isinstance(step_type, InteractiveStepType):
            raise _conflict(f"No plugin provides the interactive step type {flow.type!r}")  # type: ignore[union-attr]
        return flow, step_type  # type: ignore[return-value]

    def _update_record_from(
        self: Engine, state: RunState, parameters: Mapping[str, Any], outputs: Mapping[str, Any]
    ) -> None:
        """A form's ``update_record``: ``{RecordField: form field}``, written to the run's
        record with the completion (validated like any record change)."""
        mapping = parameters.get("update_record")
        run = state.run
        if not mapping or not run.record_object:
            return
        values = {field: outputs.get(str(source)) for field, source in mapping.items()}
        try:
            self.records.update(run.record_object, run.record_id, values)
        except (RecordError, RecordNotFound) as error:
            errors = getattr(error, "errors", None)
            raise _refused(f"the record cannot take these values: {error}", errors) from None


def _moment(value: Any) -> dt.datetime | None:
    """A due formula's value as an aware UTC datetime (a date: its midnight, UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    raise SlaError(f"SLA due formula gave {value!r}, not a date and time")


def _refused(message: str, errors: Mapping[str, str] | None = None) -> EngineError:
    return EngineError(message, 400, errors=errors)


def _conflict(message: str) -> EngineError:
    return EngineError(message, 409)


def _missing(item_id: int) -> EngineError:
    return EngineError(f"No work item with id {item_id}", 404)
