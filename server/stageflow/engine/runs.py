"""The run state machine (DESIGN.md §4): stages in sequence, steps in parallel.

Every event — a launch, a step finishing, an admin action — is one transaction: the
engine loads the run (:class:`RunState`), changes statuses, evaluates waiting steps'
``entry`` and the current stage's ``exit``, moves on as far as it can, writes the event
log and the next work (jobs) — and commits it all at once.  A crash between two events
loses nothing and repeats nothing already committed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import fastsql
from ..clock import Clock
from ..db import database, is_sqlite
from ..definitions import store
from ..definitions.spec import (
    FIELD_TYPES,
    FlowSpec,
    OrchestrationSpec,
    StageSpec,
    StepSpec,
    to_data,
)
from ..extension import AssigneeContext, RunEvent, StepContext, StepError, StepType, StepWaiting
from ..grammar import FormulaError, compile_formula
from ..grammar import types as T
from ..models import Event, Job, Run, StageRun, StepRun, User, WorkItem
from ..records import RecordNotFound, RecordService, to_json_value
from . import jobs
from .assignment import AssignmentError, Directory, Resolver, resolve
from .context import RunValues
from .errors import EngineError
from .states import ACTIVE, FINISHED, SATISFIED, Status, WorkItemStatus
from .work_items import SlaError, WorkItemActions

log = logging.getLogger(__name__)

SYSTEM = "system"
#: Unexpected failures (not StepError) of one job before its step goes to Error.
MAX_JOB_ATTEMPTS = 5
#: Steps that may run inline in one worker transaction after the jobs it took.
INLINE_STEPS = 50


# Statuses are filtered here, not in SQL: with ``status = ?`` SQLite may pick the status
# index and scan every run in progress instead of the record's few.
_RUNS_ON_RECORD = "SELECT id, status FROM runs WHERE record_object = ? AND record_id = ?"


@dataclass
class RunState:
    """A run loaded for one event: its rows, its spec, and what the event changed."""

    run: Run
    spec: OrchestrationSpec
    stages: list[StageRun]  # in order
    steps: dict[str, StepRun]
    actor: str = SYSTEM
    events: list[dict[str, Any]] = field(default_factory=list)
    record_cache: dict[str, Any] = field(default_factory=dict)
    queued: bool = False  # jobs were written: wake the workers after commit
    dirty: dict[int, Any] = field(default_factory=dict)  # rows to write before commit
    ready: list[StepRun] = field(default_factory=list)  # steps to run in this transaction
    inline: int = 0  # how many more started steps may run in this transaction
    new_jobs: list[dict[str, Any]] = field(default_factory=list)  # jobs to write
    assigned: list[int] = field(default_factory=list)  # work items to notify of, after commit
    checks: list[dt.datetime] = field(default_factory=list)  # new SLA check times, for on_due
    rendered: Any = None  # what render_work found

    def touch(self, row: Any) -> None:
        """Remember a changed row; it is written once, before the commit."""
        self.dirty[id(row)] = row

    def write(self) -> None:
        """Write every changed row: one UPDATE per table for all its changed rows."""
        by_model: dict[type, list[Any]] = {}
        for row in self.dirty.values():
            if row.dirty_fields:
                by_model.setdefault(type(row), []).append(row)
        for rows in by_model.values():
            fastsql.update_rows(rows, {f for row in rows for f in row.dirty_fields})
            for row in rows:
                row._dirty.clear()
        self.dirty.clear()
        fastsql.insert_rows(Job, self.new_jobs)
        self.new_jobs.clear()

    def stage_spec(self, row: StageRun) -> StageSpec:
        return self.spec.stages[row.position]

    def steps_of(self, row: StageRun) -> list[tuple[StepSpec, StepRun]]:
        return [(s, self.steps[s.name]) for s in self.stage_spec(row).steps]


class Engine(WorkItemActions):
    """Runs orchestrations: launch, advance on events, execute background steps, and the
    work items of interactive steps (:class:`~.work_items.WorkItemActions`)."""

    def __init__(
        self,
        *,
        step_types: Mapping[str, StepType],
        records: RecordService,
        clock: Clock,
        functions: Any = None,
        lease_seconds: float = 60,
        on_events: Callable[[list[RunEvent]], None] | None = None,
        on_work: Callable[[], None] | None = None,
        resolve_assignee: Resolver | None = None,
        on_assigned: Callable[[list[int]], None] | None = None,
        on_due: Callable[[dt.datetime], None] | None = None,
    ) -> None:
        self.step_types = step_types
        self.records = records
        self.clock = clock
        self.functions = functions
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.on_events = on_events
        self.on_work = on_work  # called after a commit that queued jobs (wakes workers)
        self.resolve_assignee = resolve_assignee  # the plugins' extra assignee kinds
        self.on_assigned = on_assigned  # told of new or reassigned work items, after commit
        self.on_due = on_due  # told of the earliest new SLA check time, after commit
        self._local = threading.local()

    # -- formulas ------------------------------------------------------------------------

    def _formula(self, text: str, expected: str | None = None) -> Any:
        return compile_formula(text, None, functions=self.functions)

    def _test(self, state: RunState, text: str | None) -> bool:
        """A condition on the run (no condition: TRUE)."""
        if text is None:
            return True
        return self._formula(text).test(self._values(state), now=self.clock.now())

    def _value(self, state: RunState, value: Any) -> Any:
        """A parameter: strings starting with '=' are formulas; maps and lists recurse."""
        if isinstance(value, str) and value.startswith("="):
            return self._formula(value[1:]).evaluate(self._values(state), now=self.clock.now())
        if isinstance(value, Mapping):
            return {key: self._value(state, item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._value(state, item) for item in value]
        return value

    def _values(self, state: RunState) -> RunValues:
        run = state.run
        return RunValues(
            run=run,
            spec=state.spec,
            stages={row.name: row for row in state.stages},
            steps=state.steps,
            record=lambda: self._record(state, "current"),
            prior=lambda: self._record(state, "prior"),
            follow=self.follow,
            user=lambda: self._user(run),
        )

    def _record(self, state: RunState, which: str) -> Mapping[str, Any] | None:
        run = state.run
        if not run.record_object:
            return None
        if which not in state.record_cache:
            state.record_cache[which] = self._load_record(run.record_object, run.record_id, which)
        return state.record_cache[which]

    def _load_record(self, object_name: str, record_id: str, which: str) -> Mapping | None:
        try:
            spec = self.records.object_spec(object_name)
            source = self.records.source_for(spec)
            if which == "prior":
                record = source.prior(object_name, record_id)
            else:
                record = source.get(object_name, record_id)
        except RecordNotFound:
            return None
        if record is None:
            return None
        return {**self.records.formula_values(spec, record), "__object__": spec}

    def follow(self, record: Mapping[str, Any], lookup: str) -> Mapping[str, Any] | None:
        """The record a lookup field of ``record`` points to (formula values), or None."""
        spec = record.get("__object__")
        target = spec.field(lookup) if spec is not None else None
        if target is None or target.type != "lookup" or not record.get(lookup):
            return None
        return self._load_record(target.object, str(record[lookup]), "current")

    @staticmethod
    def _user(run: Run) -> dict[str, Any]:
        if not run.started_by_id:
            return {}
        user = run.started_by
        return {
            "Name": user.name,
            "Id": str(user.id),
            "Email": user.email,
            "IsAdmin": bool(user.is_admin),
        }

    # -- loading and saving --------------------------------------------------------------

    def load(self, run_id: int, actor: str = SYSTEM) -> RunState:
        """Load a run for an event (locking its row on PostgreSQL)."""
        self._busy().add(run_id)
        if is_sqlite():  # BEGIN IMMEDIATE already holds the write lock
            run = next(iter(fastsql.select_where(Run, Run.id, run_id)), None)
        else:
            run = Run.select().where(Run.id == run_id).for_update().first()
        if run is None:
            raise EngineError(f"No run with id {run_id}", 404)
        spec = store.spec_of(run.orchestration_id, "orchestration")
        stages = fastsql.select_where(StageRun, StageRun.run, run_id, StageRun.position)
        steps = {row.name: row for row in fastsql.select_where(StepRun, StepRun.run, run_id)}
        return RunState(run, spec, stages, steps, actor)  # type: ignore[arg-type]

    def _event(
        self,
        state: RunState,
        kind: str,
        subject: str | None,
        old: str | None,
        new: str | None,
        reason: str = "",
        data: dict | None = None,
    ) -> None:
        state.events.append(
            {
                "run": state.run.id,
                "at": self.clock.now(),
                "actor": state.actor,
                "kind": kind,
                "subject": subject,
                "from_status": old,
                "to_status": new,
                "reason": reason or None,
                "data": data,
            }
        )

    def _set(self, state: RunState, row: Any, status: str, reason: str = "") -> None:
        """Move a run, stage run or step run to ``status`` and log it."""
        old = row.status
        if old == status:
            return
        now = self.clock.now()
        row.status = status
        if isinstance(row, Run):
            kind, subject = "run", None
            row.updated_at = now
        else:
            kind = "stage" if isinstance(row, StageRun) else "step"
            subject = f"{kind}:{row.name}"
            if status == Status.IN_PROGRESS and row.started_at is None:
                row.started_at = now
        if status in FINISHED or status == Status.ERROR:
            row.finished_at = now
        elif row.finished_at is not None and status == Status.IN_PROGRESS:
            row.finished_at = None
        state.touch(row)
        self._event(state, kind, subject, old, status, reason)

    def _flush(self, state: RunState) -> list[RunEvent]:
        state.write()
        if not state.events:
            return []
        fastsql.insert_rows(Event, state.events)
        name = state.spec.name
        out = [
            RunEvent(
                e["run"],
                name,
                *_split_subject(e["subject"]),
                e["from_status"],
                e["to_status"],
                e["at"],
                e["actor"],
                e["reason"] or "",
            )
            for e in state.events
        ]
        state.events.clear()
        return out

    def _after_commit(self, events: list[RunEvent], queued: bool) -> None:
        if events and self.on_events:
            try:
                self.on_events(events)
            except Exception:  # observers must never break the engine
                log.exception("run_event observers failed")
        if queued and self.on_work:
            self.on_work()

    def _transaction(self, action: Callable[[], RunState | list[RunState]]) -> Any:
        """Run ``action`` in one transaction; flush events; notify after commit.

        Nested in another transaction (a record write, a step), it is a savepoint, and
        observers hear of its events when it ends.
        """
        busy = self._busy()
        outer = set(busy)
        try:
            with database.atomic():
                result = action()
                states = result if isinstance(result, list) else [result]
                events = [event for state in states for event in self._flush(state)]
        finally:
            busy.intersection_update(outer)
        self._after_commit(events, any(state.queued for state in states))
        assigned = [item for state in states for item in state.assigned]
        if assigned and self.on_assigned:
            try:
                self.on_assigned(assigned)
            except Exception:  # notifications must never break the engine
                log.exception("notifying of work items %s failed", assigned)
        checks = [moment for state in states for moment in state.checks]
        if checks and self.on_due:
            try:
                self.on_due(min(checks))
            except Exception:  # the scheduler's periodic check finds the items anyway
                log.exception("waking the SLA sweep failed")
        return result

    def _busy(self) -> set[int]:
        """The runs this thread has loaded for the event it is handling."""
        busy = getattr(self._local, "busy", None)
        if busy is None:
            busy = self._local.busy = set()
        return busy

    def _enqueue(self, state: RunState, step: StepRun, delay: float = 0) -> None:
        """Queue the step's job; it is written with the event's other rows."""
        at = self.clock.now() + dt.timedelta(seconds=delay)
        state.new_jobs.append(jobs.row("step", {"step_run": step.id, "attempt": step.attempt},
                                       run_id=state.run.id, at=at))  # fmt: skip
        state.queued = True

    # -- launching -----------------------------------------------------------------------

    def launch(
        self,
        name: str,
        *,
        inputs: Mapping[str, Any] | None = None,
        record: tuple[str, str] | None = None,
        actor: str | None = None,
        version: int | None = None,
    ) -> Run:
        """Start a run of the orchestration's active version (or ``version``)."""
        return self._transaction(lambda: self._launch(name, inputs, record, actor, version)).run

    def start_triggered(
        self, name: str, version_id: int, record: tuple[str, str], actor: str | None
    ) -> int:
        """Start a run of a record trigger's orchestration version; return its id.

        Called by :mod:`.triggers` inside the transaction that writes the record.
        """
        state = self._transaction(
            lambda: self._launch(name, None, record, actor, None, version_id=version_id)
        )
        return state.run.id

    def record_changed(self, object_name: str, record_id: str, actor: str | None = None) -> int:
        """A record changed: each run in progress on it re-evaluates (one event each).

        Waiting steps' ``entry``, interactive steps' ``exit`` and the current stage's
        ``exit`` are evaluated again and the run moves on.  A run this thread is in the
        middle of (its own step changed the record) is left to that event.  Returns how
        many runs were told.
        """
        rows = fastsql.execute(_RUNS_ON_RECORD, (object_name, str(record_id))).fetchall()
        busy = self._busy()
        run_ids = [i for i, status in rows if status == Status.IN_PROGRESS and i not in busy]
        for run_id in run_ids:
            self._transaction(lambda run_id=run_id: self._react(run_id, actor))
        return len(run_ids)

    def _react(self, run_id: int, actor: str | None) -> RunState:
        state = self.load(run_id, actor or SYSTEM)
        if state.run.status == Status.IN_PROGRESS:
            run = state.run
            self._event(state, "record", None, None, None,
                        f"{run.record_object} {run.record_id} changed")  # fmt: skip
            self._advance(state)
        return state

    def _launch(
        self,
        name: str,
        inputs: Mapping[str, Any] | None,
        record: tuple[str, str] | None,
        actor: str | None,
        version: int | None,
        restarted_from: Run | None = None,
        version_id: int | None = None,
    ) -> RunState:
        try:
            if version_id is not None:
                spec = store.spec_of(version_id, "orchestration")
            elif version is None:
                version_id, spec = store.active_spec("orchestration", name)
            else:
                version_id = store.find_version("orchestration", name, version).id
                spec = store.spec_of(version_id, "orchestration")
        except store.DefinitionNotFound as error:
            raise EngineError(str(error), 404) from None
        assert isinstance(spec, OrchestrationSpec)  # noqa: S101 - the store keeps kinds apart
        cleaned = self._clean_inputs(spec, inputs or {})
        if record is not None:
            record = self._check_record(spec, record)
        elif spec.object:
            raise EngineError(f"Orchestration {name!r} needs a {spec.object} record", 400)
        user = User.get_or_none(User.name == actor) if actor else None
        now = self.clock.now()
        run = fastsql.create(
            Run,
            orchestration=version_id,
            status=Status.NOT_STARTED,
            inputs=cleaned,
            record_object=record[0] if record else None,
            record_id=record[1] if record else None,
            started_by=user,
            restarted_from=restarted_from,
            started_at=now,
            updated_at=now,
        )
        stage_rows = [{"run": run.id, "name": s.name, "position": i}
                      for i, s in enumerate(spec.stages)]  # fmt: skip
        stages = list(fastsql.create_many(StageRun, stage_rows, key="name").values())
        step_rows = [{"run": run.id, "stage_run": stages[i].id, "name": step.name}
                     for i, stage in enumerate(spec.stages) for step in stage.steps]  # fmt: skip
        steps = fastsql.create_many(StepRun, step_rows, key="name")
        state = RunState(run, spec, stages, steps, actor or SYSTEM)
        self._set(state, state.run, Status.IN_PROGRESS, "launched")
        self._advance(state)
        return state

    def _clean_inputs(self, spec: OrchestrationSpec, inputs: Mapping[str, Any]) -> dict:
        declared = {i.name: i for i in spec.inputs}
        problems = [f"unknown input {k!r}" for k in inputs if k not in declared]
        cleaned: dict[str, Any] = {}
        for name, item in declared.items():
            value = inputs.get(name, item.default)
            if value is None or value == "":
                if item.required:
                    problems.append(f"input {name!r} is required")
                continue
            try:
                converted = T.coerce(value, FIELD_TYPES.get(item.type, T.ANY))
            except ValueError as error:
                problems.append(f"input {name!r}: {error}")
                continue
            cleaned[name] = to_json_value(converted)
        if problems:
            raise EngineError("; ".join(problems), 400)
        return cleaned

    def _check_record(self, spec: OrchestrationSpec, record: tuple[str, str]) -> tuple[str, str]:
        object_name, record_id = record[0], str(record[1])
        if spec.object and object_name != spec.object:
            raise EngineError(
                f"Orchestration {spec.name!r} runs on {spec.object} records, not {object_name}",
                400,
            )
        try:
            self.records.get(object_name, record_id)
        except RecordNotFound as error:
            raise EngineError(str(error), 404) from None
        return object_name, record_id

    # -- moving on -----------------------------------------------------------------------

    def _advance(self, state: RunState) -> None:
        """Move the run on as far as it can go after an event."""
        run = state.run
        while run.status == Status.IN_PROGRESS:
            stage = next((s for s in state.stages if s.status in ACTIVE), None)
            if stage is None:
                self._finish_run(state, Status.COMPLETED, "all stages finished")
                return
            spec = state.stage_spec(stage)
            if stage.status == Status.NOT_STARTED:
                if not self._test(state, spec.entry):
                    self._set(state, stage, Status.SKIPPED, "entry condition is false")
                    continue
                self._set(state, stage, Status.IN_PROGRESS)
            for step_spec, step in state.steps_of(stage):
                if step.status == Status.NOT_STARTED and self._test(state, step_spec.entry):
                    self._start_step(state, stage, step_spec, step)
                elif step.status == Status.IN_PROGRESS:
                    self._recheck_waiting(state, step_spec, step)
                if run.status != Status.IN_PROGRESS:
                    return
            if stage.status != Status.IN_PROGRESS:
                return
            if spec.exit is not None:
                if not self._test(state, spec.exit):
                    return
                self._end_stage(state, stage, Status.COMPLETED, "exit condition is true")
            elif all(step.status in SATISFIED for _, step in state.steps_of(stage)):
                self._set(state, stage, Status.COMPLETED, "every step finished")
            else:
                return

    def _end_stage(self, state: RunState, stage: StageRun, status: str, reason: str) -> None:
        """Finish a stage early: its running steps are Discontinued, open work Canceled."""
        stopped = [s for _, s in state.steps_of(stage) if s.status in ACTIVE]
        for step in stopped:
            if step.status == Status.IN_PROGRESS:
                self._set(state, step, Status.DISCONTINUED, reason)
        self._stop_work(state, [s.id for s in stopped])
        self._set(state, stage, status, reason)

    def _stop_work(self, state: RunState, step_ids: list[int]) -> None:
        jobs.drop_for_steps(state.run.id, step_ids)
        if step_ids:
            WorkItem.update(status=WorkItemStatus.CANCELED, next_check_at=None).where(
                WorkItem.step_run.in_(step_ids)
                & WorkItem.status.in_([WorkItemStatus.ASSIGNED, WorkItemStatus.IN_PROGRESS])
            ).execute()

    def _finish_run(self, state: RunState, status: str, reason: str) -> None:
        run = state.run
        if status == Status.COMPLETED:
            run.outputs = {name: row.outputs for name, row in state.steps.items() if row.outputs}
        self._set(state, run, status, reason)
        self._notify_parents(state)

    # -- steps ---------------------------------------------------------------------------

    def _flow(self, step_spec: StepSpec) -> tuple[int, FlowSpec, StepType]:
        try:
            version_id, flow = store.active_spec("flow", step_spec.flow)
        except store.DefinitionNotFound as error:
            raise StepError(str(error), retry=False) from None
        step_type = self.step_types.get(flow.type)  # type: ignore[union-attr]
        if step_type is None:
            raise StepError(f"No plugin provides the step type {flow.type!r}", retry=False)  # type: ignore[union-attr]
        return version_id, flow, step_type  # type: ignore[return-value]

    def _start_step(self, state: RunState, stage: StageRun, spec: StepSpec, step: StepRun) -> None:
        try:
            version_id, _flow, step_type = self._flow(spec)
        except StepError as error:
            step.error = error.message
            self._set(state, step, Status.IN_PROGRESS)
            self._fail(state, step, error.message)
            return
        step.flow_version = version_id
        step.attempt = 1
        step.idempotency_key = f"{step.id}:1"
        self._set(state, step, Status.IN_PROGRESS)
        if step_type.interactive:
            self._assign(state, spec, step)
        elif state.inline > 0:  # a worker's transaction: run it here, no job needed
            state.inline -= 1
            state.ready.append(step)
        else:
            self._enqueue(state, step)

    def _assign(self, state: RunState, spec: StepSpec, step: StepRun) -> None:
        """Create the work item of an interactive step, for the assignee its formula names
        (see :mod:`.assignment`); an assignee that cannot get work is the step's Error."""
        try:
            reference = str(self._value(state, "=" + spec.assignee) if spec.assignee else "")
            kind, name = self._resolve_target(state, step, reference)
        except FormulaError as error:
            self._fail(state, step, f"assignee formula failed: {error.message}")
            return
        except AssignmentError as error:
            self._fail(state, step, str(error))
            return
        now = self.clock.now()
        try:
            due_at, next_check = self._sla_clock(state, spec, now)
        except SlaError as error:
            self._fail(state, step, str(error))
            return
        item = WorkItem.create(
            run=state.run.id,
            step_run=step.id,
            assignee_kind=kind,
            assignee_name=name,
            created_at=now,
            due_at=due_at,
            next_check_at=next_check,
        )
        state.assigned.append(item.id)
        if next_check is not None:
            state.checks.append(next_check)
        self._event(
            state,
            "work_item",
            f"step:{step.name}",
            None,
            WorkItemStatus.ASSIGNED,
            data={"assignee": f"{kind}:{name}"},
        )

    def _resolve_target(self, state: RunState, step: StepRun, reference: str) -> tuple[str, str]:
        """The (kind, name) a reference such as ``queue:tier2`` or ``manager:alice`` names
        for a step of the run; AssignmentError when it names nobody who can get work."""
        stage = next(s.name for s in state.stages if s.id == step.stage_run_id)
        context = lambda: AssigneeContext(  # noqa: E731 - built only if a plugin is asked
            directory=Directory(), run_id=state.run.id, stage=stage, step=step.name,
            record=self._record(state, "current"), inputs=state.run.inputs or {},
        )  # fmt: skip
        return resolve(reference, context, self.resolve_assignee)

    def _context(
        self, state: RunState, stage: StageRun, spec: StepSpec, step: StepRun, flow: FlowSpec
    ) -> StepContext:
        declared = getattr(self.step_types.get(flow.type), "parameters", {})
        parameters = {
            name: value if getattr(declared.get(name), "raw", False) else self._value(state, value)
            for name, value in {**flow.params, **spec.inputs}.items()
        }
        if flow.fields:  # a form's fields and rules, as its step type reads them
            parameters["fields"] = to_data(flow.fields)
            parameters["validations"] = to_data(flow.validations)
        run = state.run
        return StepContext(
            step=step.name,
            parameters=parameters,
            stage=stage.name,
            run_id=run.id,
            step_run_id=step.id,
            attempt=step.attempt,
            record=_LazyRecord(lambda: self._record(state, "current")) if run.record_id else None,
            inputs=run.inputs or {},
            record_ref=(run.record_object, run.record_id) if run.record_object else None,
            services=_Services(self, state, step),
        )

    def _execute(self, state: RunState, step: StepRun) -> None:
        """Run a background step inside the event's transaction (a savepoint)."""
        stage = next(s for s in state.stages if s.id == step.stage_run_id)
        spec = next(s for s, row in state.steps_of(stage) if row.id == step.id)
        events_before = len(state.events)
        waiting = False
        try:
            flow = store.spec_of(step.flow_version_id, "flow")
            step_type = self.step_types.get(flow.type)  # type: ignore[union-attr]
            if step_type is None:
                message = f"No plugin provides the step type {flow.type!r}"  # type: ignore[union-attr]
                raise StepError(message, retry=False)
            with fastsql.savepoint("step"):  # a failing step leaves no trace
                context = self._context(state, stage, spec, step, flow)  # type: ignore[arg-type]
                try:
                    outputs = step_type.execute(context)  # type: ignore[union-attr]
                except StepWaiting:
                    waiting = True  # what it did so far (a child run) stays
        except (FormulaError, StepError) as error:
            del state.events[events_before:]  # rolled back with the savepoint
            if isinstance(error, FormulaError):
                self._fail(state, step, f"formula failed: {error.message}")
            else:
                self._step_failed(state, spec, step, error)
            return
        state.record_cache.clear()  # the step may have changed the record
        if not waiting:
            self._complete_step(state, step, outputs)

    def _complete_step(self, state: RunState, step: StepRun, outputs: Mapping[str, Any]) -> None:
        """Store the outputs; the caller moves the run on (``_advance``)."""
        step.outputs = {key: to_json_value(value) for key, value in outputs.items()}
        step.error = None
        self._set(state, step, Status.COMPLETED)

    def _recheck_waiting(self, state: RunState, spec: StepSpec, step: StepRun) -> None:
        """On every event of its run: an interactive step whose ``exit`` holds completes
        (its open work is Canceled); a step that waits (``wait``) is asked again."""
        if step.flow_version_id is None or step.child_run_id is not None:
            return
        flow = store.spec_of(step.flow_version_id, "flow")
        step_type = self.step_types.get(flow.type)  # type: ignore[union-attr]
        if step_type is not None and step_type.interactive:
            if spec.exit is not None and self._test(state, spec.exit):
                self._stop_work(state, [step.id])
                step.outputs, step.error = {}, None
                self._set(state, step, Status.COMPLETED, "exit condition is true")
        elif getattr(step_type, "waits", False) and not jobs.pending_for(state.run.id, step.id):
            self._execute(state, step)

    def _step_failed(
        self, state: RunState, spec: StepSpec, step: StepRun, error: StepError
    ) -> None:
        if error.retry and step.attempt < spec.retry.attempts:
            delay = spec.retry.backoff * 2 ** (step.attempt - 1)
            step.attempt += 1
            step.idempotency_key = f"{step.id}:{step.attempt}"
            step.error = error.message
            state.touch(step)
            self._event(
                state,
                "step",
                f"step:{step.name}",
                Status.IN_PROGRESS,
                Status.IN_PROGRESS,
                f"attempt {step.attempt - 1} failed: {error.message}; retrying in {delay:g}s",
            )
            self._enqueue(state, step, delay)
            return
        self._fail(state, step, error.message)

    def _fail(self, state: RunState, step: StepRun, message: str) -> None:
        """A step failed for good: it, its stage and the run go to Error (DESIGN §4)."""
        step.error = message
        self._set(state, step, Status.ERROR, message)
        stage = next(s for s in state.stages if s.id == step.stage_run_id)
        others = [s for _, s in state.steps_of(stage) if s.status == Status.IN_PROGRESS]
        for other in others:
            self._set(state, other, Status.DISCONTINUED, f"step {step.name} failed")
        self._stop_work(state, [s.id for s in others])
        self._set(state, stage, Status.ERROR, f"step {step.name} failed")
        self._set(state, state.run, Status.ERROR, f"step {step.name} failed: {message}")
        self._notify_parents(state)

    # -- child runs ----------------------------------------------------------------------

    def _notify_parents(self, state: RunState) -> None:
        """A run that a ``launch_orchestration`` step waits on finished: move the parent."""
        run = state.run
        if run.status not in (Status.COMPLETED, Status.ERROR, Status.CANCELED):
            return
        parents = fastsql.select(StepRun, {StepRun.child_run: run.id,
                                           StepRun.status: Status.IN_PROGRESS})  # fmt: skip
        if parents:
            state.write()
        for parent in parents:
            parent_state = self.load(parent.run_id, state.actor)
            row = parent_state.steps[parent.name]
            if run.status == Status.COMPLETED:
                outputs = {"run_id": str(run.id), "status": str(run.status)}
                self._complete_step(parent_state, row, outputs)
                self._advance(parent_state)
            else:
                self._fail(parent_state, row, f"child run {run.id} ended {run.status}")
            parent_state.write()
            state.events.extend(parent_state.events)
            state.queued |= parent_state.queued
            parent_state.events.clear()

    # -- jobs ----------------------------------------------------------------------------

    def process(self, batch: list[Job], owner: str) -> None:
        """Do leased jobs of one run in one transaction, with the steps they lead to."""
        self._transaction(lambda: self._work_on(batch, owner))

    def _work_on(self, batch: list[Job], owner: str) -> list[RunState]:
        """The jobs' work: their removal commits with their effects.

        Background steps that become ready meanwhile run in the same transaction too (up
        to :data:`INLINE_STEPS`), so a run of quick steps needs no job rows beyond the
        first.
        """
        mine = [job for job in jobs.take(batch, owner) if job.kind == "step"]
        if not mine:
            return []
        attempts = {job.payload.get("step_run"): job.payload.get("attempt") for job in mine}
        state = self.load(mine[0].run_id)
        state.inline = INLINE_STEPS
        for step in state.steps.values():
            due = step.id in attempts and step.attempt == attempts[step.id]
            if due and step.status == Status.IN_PROGRESS:
                state.ready.append(step)  # else: overtaken (cancel, skip, newer attempt)
        self._run_ready(state)
        return [state]

    def _run_ready(self, state: RunState) -> None:
        """Execute the steps waiting in ``state.ready``, moving the run on after each."""
        while state.ready:
            step = state.ready.pop(0)
            if step.status != Status.IN_PROGRESS or state.run.status != Status.IN_PROGRESS:
                continue
            self._execute(state, step)
            self._advance(state)
        for step in state.ready:  # left over when the run stopped: keep them durable
            self._enqueue(state, step)
        state.ready.clear()

    def work(self, owner: str, limit: int = 20) -> int:
        """Claim due jobs and do them; return how many were claimed.

        The runs they belong to are done in one transaction, each in a savepoint; if
        anything unexpected fails, each run is done again alone, so one broken run
        cannot hold up the others.
        """
        claimed = jobs.claim(owner, self.clock.now(), self.lease, limit)
        batches: dict[Any, list[Job]] = {}
        for job in claimed:
            batches.setdefault(job.run_id, []).append(job)
        try:
            self._transaction(
                lambda: [s for b in batches.values() for s in self._isolated(b, owner)]
            )
        except Exception:
            log.warning("a batch of %s jobs failed; doing its runs one at a time", len(claimed))
            for batch in batches.values():
                try:
                    self.process(batch, owner)
                except Exception as error:  # a bug or a lost database: retry the jobs later
                    log.exception("jobs %s failed", [job.id for job in batch])
                    for job in batch:
                        self._job_crashed(job, f"{type(error).__name__}: {error}")
        return len(claimed)

    def _isolated(self, batch: list[Job], owner: str) -> list[RunState]:
        with fastsql.savepoint("run"):  # one per run: a failing run leaves no trace
            return self._work_on(batch, owner)

    def _job_crashed(self, job: Job, error: str) -> None:
        """An unexpected failure: try the job again later; after a few tries, fail its step."""
        with database.atomic():
            if job.attempts < MAX_JOB_ATTEMPTS:
                jobs.release(job, error, self.clock.now() + dt.timedelta(seconds=5 * job.attempts))
                return
            jobs.finish(job)
        step = StepRun.get_or_none(StepRun.id == job.payload.get("step_run"))
        if step is not None and step.status == Status.IN_PROGRESS:

            def fail() -> RunState:
                state = self.load(step.run_id)
                self._fail(state, state.steps[step.name], f"internal error: {error}")
                return state

            self._transaction(fail)

    def run_until_idle(self, owner: str = "inline", max_rounds: int = 10_000) -> int:
        """Do every job that is due now (tests and the CLI); return how many were done."""
        done = 0
        for _ in range(max_rounds):
            claimed = self.work(owner)
            if not claimed:
                return done
            done += claimed
        return done

    # -- admin actions -------------------------------------------------------------------

    def act(
        self,
        run_id: int,
        action: str,
        *,
        actor: str,
        reason: str = "",
        step: str | None = None,
        stage: str | None = None,
    ) -> Run:
        """Apply an admin action: cancel, suspend, resume, retry, skip, complete_stage."""
        handler = _ACTIONS.get(action)
        if handler is None:
            raise EngineError(f"Unknown action {action!r}", 400)

        def work() -> RunState:
            state = self.load(run_id, actor)
            handler(self, state, reason or action, step=step, stage=stage)
            return state

        return self._transaction(work).run

    def restart(self, run_id: int, *, actor: str, reason: str = "") -> Run:
        """Start a new run of the active version with the same inputs and record."""

        def work() -> RunState:
            old = Run.get_or_none(Run.id == run_id)
            if old is None:
                raise EngineError(f"No run with id {run_id}", 404)
            name = store.spec_of(old.orchestration_id, "orchestration").name  # type: ignore[union-attr]
            record = (old.record_object, old.record_id) if old.record_object else None
            state = self._launch(name, old.inputs, record, actor, None, restarted_from=old)
            why = f"restart of run {old.id}" + (f": {reason}" if reason else "")
            self._event(state, "run", None, None, state.run.status, why)
            return state

        return self._transaction(work).run

    def _cancel(self, state: RunState, reason: str, **_: Any) -> None:
        if state.run.status in FINISHED:
            raise EngineError(f"Run {state.run.id} is already {state.run.status}")
        open_steps = [s for s in state.steps.values() if s.status in ACTIVE]
        for step in open_steps:
            if step.status == Status.IN_PROGRESS:
                self._set(state, step, Status.CANCELED, reason)
        self._stop_work(state, [s.id for s in open_steps])
        for stage in state.stages:
            if stage.status == Status.IN_PROGRESS or stage.status == Status.ERROR:
                self._set(state, stage, Status.CANCELED, reason)
        self._finish_run(state, Status.CANCELED, reason)

    def _suspend(self, state: RunState, reason: str, **_: Any) -> None:
        if state.run.status != Status.IN_PROGRESS:
            raise EngineError(f"Only a run in progress can be suspended; run is {state.run.status}")
        running = [s.id for s in state.steps.values() if s.status == Status.IN_PROGRESS]
        jobs.drop_for_steps(state.run.id, running)
        self._set(state, state.run, Status.SUSPENDED, reason)

    def _resume(self, state: RunState, reason: str, **_: Any) -> None:
        if state.run.status != Status.SUSPENDED:
            raise EngineError(f"Only a suspended run can be resumed; run is {state.run.status}")
        self._set(state, state.run, Status.IN_PROGRESS, reason)
        self._requeue_running(state)
        self._advance(state)

    def _requeue_running(self, state: RunState) -> None:
        for step in state.steps.values():
            if step.status == Status.IN_PROGRESS and step.child_run_id is None:
                flow = store.spec_of(step.flow_version_id, "flow") if step.flow_version_id else None
                step_type = self.step_types.get(flow.type) if flow else None  # type: ignore[union-attr]
                if step_type is not None and not step_type.interactive:
                    self._enqueue(state, step)

    def _named_step(self, state: RunState, name: str | None) -> StepRun:
        row = state.steps.get(name or "")
        if row is None:
            raise EngineError(f"Run {state.run.id} has no step {name!r}", 404)
        return row

    def _reopen(self, state: RunState, step: StepRun, reason: str) -> None:
        """After an admin fixed a failure: stage and run back in progress."""
        stage = next(s for s in state.stages if s.id == step.stage_run_id)
        for _, sibling in state.steps_of(stage):
            if sibling.status == Status.DISCONTINUED and sibling.id != step.id:
                self._set(state, sibling, Status.NOT_STARTED, reason)
        if stage.status == Status.ERROR:
            self._set(state, stage, Status.IN_PROGRESS, reason)
        if state.run.status == Status.ERROR:
            self._set(state, state.run, Status.IN_PROGRESS, reason)

    def _retry(self, state: RunState, reason: str, *, step: str | None = None, **_: Any) -> None:
        row = self._named_step(state, step)
        if row.status != Status.ERROR:
            raise EngineError(f"Only a step in Error can be retried; {row.name} is {row.status}")
        self._reopen(state, row, reason)
        self._set(state, row, Status.NOT_STARTED, reason)  # afresh: the active flow again
        stage = next(s for s in state.stages if s.id == row.stage_run_id)
        spec = next(s for s, r in state.steps_of(stage) if r.id == row.id)
        self._start_step(state, stage, spec, row)
        self._advance(state)

    def _skip(self, state: RunState, reason: str, *, step: str | None = None, **_: Any) -> None:
        row = self._named_step(state, step)
        if row.status in FINISHED:
            raise EngineError(f"Step {row.name} is already {row.status}")
        if state.run.status not in (Status.IN_PROGRESS, Status.ERROR):
            raise EngineError(f"Run {state.run.id} is {state.run.status}")
        self._stop_work(state, [row.id])
        if row.status == Status.ERROR:
            self._reopen(state, row, reason)
        self._set(state, row, Status.SKIPPED, reason)
        self._advance(state)

    def _complete_stage(
        self, state: RunState, reason: str, *, stage: str | None = None, **_: Any
    ) -> None:
        row = next((s for s in state.stages if s.name == stage), None)
        if row is None:
            raise EngineError(f"Run {state.run.id} has no stage {stage!r}", 404)
        if row.status not in (Status.IN_PROGRESS, Status.ERROR):
            raise EngineError(
                f"Only the current stage can be completed; {row.name} is {row.status}"
            )
        if state.run.status == Status.ERROR:
            self._set(state, state.run, Status.IN_PROGRESS, reason)
        self._end_stage(state, row, Status.COMPLETED, reason)
        self._advance(state)


_ACTIONS: dict[str, Callable[..., None]] = {
    "cancel": Engine._cancel,
    "suspend": Engine._suspend,
    "resume": Engine._resume,
    "retry": Engine._retry,
    "skip": Engine._skip,
    "complete_stage": Engine._complete_stage,
}


class _Services:
    """What a step may ask of the engine while it runs (inside the event's transaction)."""

    def __init__(self, engine: Engine, state: RunState, step: StepRun) -> None:
        self._engine = engine
        self._state = state
        self._step = step
        self.records = engine.records

    def launch(
        self,
        name: str,
        *,
        inputs: Mapping[str, Any] | None = None,
        record: tuple[str, str] | None = None,
        wait: bool = False,
    ) -> tuple[int, str]:
        """Start another orchestration's run; return its id and status.

        With ``wait``, the run is linked to this step, which the engine finishes when the
        run ends (raise :class:`StepWaiting` while it is in progress).
        """
        try:
            child = self._engine._launch(name, inputs, record, self._state.actor, None)
        except EngineError as error:
            raise StepError(f"could not launch {name!r}: {error.message}", retry=False) from None
        if wait and child.run.status == Status.IN_PROGRESS:
            self._step.child_run = child.run.id
            self._state.touch(self._step)
        child.write()
        self._state.events.extend(child.events)
        self._state.queued |= child.queued
        child.events.clear()
        return child.run.id, str(child.run.status)


class _LazyRecord(Mapping[str, Any]):
    """The run's record for a step, read only if the step looks at it."""

    def __init__(self, load: Callable[[], Mapping[str, Any] | None]) -> None:
        self._load = load
        self._values: dict[str, Any] | None = None

    def _data(self) -> dict[str, Any]:
        if self._values is None:
            loaded = self._load() or {}
            self._values = {k: v for k, v in loaded.items() if k != "__object__"}
        return self._values

    def __getitem__(self, key: str) -> Any:
        return self._data()[key]

    def __iter__(self) -> Any:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())


def _split_subject(subject: str | None) -> tuple[str, str]:
    if not subject:
        return "run", ""
    kind, _, name = subject.partition(":")
    return kind, name
