"""People's work: who sees which work items, and what they may do with them.

The engine changes work items (:mod:`stageflow.engine.work_items`); this service decides
who may ask it to, lists work for people and shows items, for the pages and the API
alike.  A user's work:

- **mine**: open items assigned to them, or claimed by them from a queue or group;
- **queues**: open, unclaimed items of the queues and groups they belong to;
- **completed**: items they completed;
- **all**: every item (admins only).

Lists are sorted by due time (items without one last), then oldest first, and paged
with a keyset cursor, so a page costs the same however deep it is.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import peewee

from .access import check_access
from .clock import Clock
from .definitions import store
from .definitions.spec import OrchestrationSpec
from .engine.assignment import AssignmentError, parse_target
from .engine.errors import EngineError
from .engine.runs import Engine
from .engine.states import WorkItemStatus
from .engine.work_items import OPEN
from .models import (
    Definition,
    DefinitionVersion,
    Group,
    GroupMembership,
    Queue,
    QueueMembership,
    Run,
    StepRun,
    User,
    WorkItem,
)
from .records import RecordNotFound, RecordService
from .sla.policy import SlaPolicy, sla_state

SCOPES = ("mine", "queues", "completed", "all")


class WorkError(Exception):
    """A work request refused: ``code`` (400, 403, 404, 409), a sentence for people,
    and ``errors`` by field when a form was refused."""

    def __init__(self, code: int, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.errors = dict(errors or {})


@dataclass(frozen=True)
class _Known:
    """What presenting some items needs, each read once: the user's queues and groups,
    the items' runs and step runs, and the names of the people they mention."""

    teams: Mapping[str, list[str]]
    runs: Mapping[int, Run]
    steps: Mapping[int, StepRun]
    names: Mapping[int | None, str]

    @classmethod
    def read(cls, user: User, items: Iterable[WorkItem]) -> _Known:
        items = list(items)
        run_ids = {i.run_id for i in items}
        step_ids = {i.step_run_id for i in items}
        people = {i.claimed_by_id for i in items} | {i.completed_by_id for i in items}
        people.discard(None)
        return cls(
            teams=_teams(user),
            runs={r.id: r for r in Run.select().where(Run.id.in_(run_ids))} if items else {},
            steps={s.id: s for s in StepRun.select().where(StepRun.id.in_(step_ids))}
            if items else {},
            names={u.id: u.name for u in User.select(User.id, User.name).where(User.id.in_(people))}
            if people else {},
        )  # fmt: skip


@dataclass(frozen=True)
class WorkPage:
    """One page of a work list: the items, the cursor of the next page, the total."""

    items: list[dict[str, Any]]
    next: str | None
    total: int


class WorkService:
    """Work items for people: lists, details and actions, each checked for the user."""

    def __init__(
        self, engine: Engine, records: RecordService, clock: Clock, notifier: Any = None
    ) -> None:
        self.engine = engine
        self.records = records
        self.clock = clock
        self.notifier = notifier  # tells the new assignees of reassigned work

    # -- lists ---------------------------------------------------------------------------

    def list(
        self,
        user: User,
        scope: str = "mine",
        *,
        orchestration: str | None = None,
        overdue: bool = False,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> WorkPage:
        """A page of the user's work in ``scope`` (see the module's description);
        ``status`` "open" or "completed" narrows "all"."""
        narrow = []
        if status == "open":
            narrow.append(WorkItem.status.in_(OPEN))
        elif status == "completed":
            narrow.append(WorkItem.status == WorkItemStatus.COMPLETED)
        elif status is not None:
            raise WorkError(400, f"status must be open or completed, not {status!r}")
        if orchestration:
            query = Run.select(Run.id).where(Run.orchestration.in_(_versions_of(orchestration)))
            narrow.append(WorkItem.run.in_(query))
        if overdue:
            narrow.append(WorkItem.status.in_(OPEN) & (WorkItem.due_at < self.clock.now()))
        after = [_after(_decode(cursor))] if cursor else []
        # Each branch is one indexed query; their pages are merged here.
        total = 0
        rows: list[WorkItem] = []
        for branch in self._branches(user, scope):
            query = WorkItem.select().where(functools.reduce(operator.and_, [branch, *narrow]))
            total += query.count()
            page = query.where(*after) if after else query
            due_last = peewee.Case(None, [(WorkItem.due_at.is_null(), 1)], 0)
            rows.extend(page.order_by(due_last, WorkItem.due_at, WorkItem.id).limit(limit + 1))
        rows.sort(key=_order)
        following = _encode(rows[limit - 1]) if len(rows) > limit else None
        known = _Known.read(user, rows[:limit])
        return WorkPage([self.present(r, user, known) for r in rows[:limit]], following, total)

    def counts(self, user: User) -> dict[str, int]:
        """How many items each of the user's lists holds."""
        return {
            scope: sum(WorkItem.select().where(b).count() for b in self._branches(user, scope))
            for scope in ("mine", "queues", "completed")
        }

    def _scope(self, user: User, scope: str) -> Any:
        """The items of one of the user's lists, as one condition."""
        return functools.reduce(operator.or_, self._branches(user, scope))

    def _branches(self, user: User, scope: str) -> list[Any]:
        """The items of a list as disjoint conditions that each use an index."""
        if scope not in SCOPES:
            raise WorkError(400, f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
        open_ = WorkItem.status.in_(OPEN)
        if scope == "mine":
            assigned = (WorkItem.assignee_kind == "user") & (WorkItem.assignee_name == user.name)
            return [assigned & open_ & WorkItem.claimed_by.is_null(),
                    (WorkItem.claimed_by == user.id) & open_]  # fmt: skip
        if scope == "queues":
            return [(WorkItem.assignee_kind == kind) & WorkItem.assignee_name.in_(names)
                    & open_ & WorkItem.claimed_by.is_null()
                    for kind, names in _teams(user).items()] or [WorkItem.id.is_null()]  # fmt: skip
        if scope == "completed":
            return [WorkItem.completed_by == user.id]
        if not user.is_admin:
            raise WorkError(403, "Only an admin may list everyone's work")
        return [WorkItem.id.is_null(False)]

    # -- one item ------------------------------------------------------------------------

    def get(self, item_id: int, user: User) -> dict[str, Any]:
        """The item with its form (404 unknown, 403 if it is not the user's to see)."""
        item = self._visible(item_id, user)
        shown = self.present(item, user)
        if item.status in OPEN:
            try:
                shown["form"] = dict(self.engine.render_work(item))
            except EngineError as error:
                raise WorkError(error.code, error.message) from None
        return shown

    def claim(self, item_id: int, user: User) -> dict[str, Any]:
        """Take a queue or group item (members only)."""
        item = self._visible(item_id, user)
        if item.assignee_kind == "user":
            raise WorkError(409, f"Work item {item.id} is assigned to a user, not a queue or group")
        if not user.is_admin and not self._member(user, item):
            raise WorkError(403, f"You are not a member of {_target(item)}")
        return self._do(lambda: self.engine.claim_work(item.id, user), user)

    def release(self, item_id: int, user: User) -> dict[str, Any]:
        """Give a claimed item back to its queue or group (whoever claimed it, or an admin)."""
        item = self._visible(item_id, user)
        if item.claimed_by_id is None:
            raise WorkError(409, f"Work item {item.id} is not claimed")
        if item.claimed_by_id != user.id and not user.is_admin:
            raise WorkError(403, f"Only whoever claimed work item {item.id} may release it")
        return self._do(lambda: self.engine.release_work(item.id, user), user)

    def complete(self, item_id: int, user: User, submitted: Mapping[str, Any]) -> dict[str, Any]:
        """Submit the item's form: the step completes and the run moves on."""
        item = self._visible(item_id, user)
        if not self._may_work_on(user, item):
            raise WorkError(403, f"Work item {item.id} is {_holder(item)}'s to complete")
        return self._do(lambda: self.engine.complete_work(item.id, submitted, user), user)

    def reassign(
        self, item_id: int, user: User, to: str, reason: str = "", *, force: bool = False
    ) -> dict[str, Any]:
        """Give an open item to another user, queue or group.

        The item's assignee (or claimer) and admins may.  A target who cannot open the
        item's record is refused (409, saying who and why) unless an admin forces it.
        """
        item = self._visible(item_id, user)
        if not user.is_admin and not self._may_work_on(user, item, claimed_only=True):
            raise WorkError(
                403, f"Only {_holder(item)} or an admin may reassign work item {item.id}"
            )
        try:
            target = parse_target(to)
        except AssignmentError as error:
            raise WorkError(400, str(error)) from None
        if force and not user.is_admin:
            raise WorkError(
                403, "Only an admin may reassign work to someone who cannot open its record"
            )
        if not force:
            blocked = self.cannot_open(item, target)
            if blocked:
                raise WorkError(409, f"{to} cannot open {blocked}: share the record with them "
                                     "first, or choose someone else")  # fmt: skip
        shown = self._do(
            lambda: self.engine.reassign_work(item.id, target, user.name, reason), user
        )
        if self.notifier is not None:
            self.notifier.work_reassigned(item.id, user.name, reason)
        return shown

    def guide(self, object_name: str, record_id: str, user: User) -> list[dict[str, Any]]:
        """The Work Guide of a record: its runs (newest first) as checklists of stages and
        steps, with the user's open items on each step."""
        self.records.get(object_name, record_id, user=user)  # 404/403 as the record page
        runs = list(Run.select().where((Run.record_object == object_name)
                                       & (Run.record_id == str(record_id))
                                       ).order_by(Run.id.desc()))  # fmt: skip
        if not runs:
            return []
        mine = self._scope(user, "mine") | self._scope(user, "queues")
        items: dict[int, list[dict[str, Any]]] = {}
        for item in WorkItem.select().where(WorkItem.run.in_([r.id for r in runs]) & mine):
            items.setdefault(item.step_run_id, []).append(self.get(item.id, user))
        return [self._checklist(run, items) for run in runs]

    # -- presenting ----------------------------------------------------------------------

    def present(self, item: WorkItem, user: User, known: _Known | None = None) -> dict[str, Any]:
        """An item as people and programs see it (the form only in :meth:`get`).

        ``known`` holds what a page of items needs, read once for all of them.
        """
        known = known or _Known.read(user, [item])
        run = known.runs[item.run_id]
        spec = store.spec_of(run.orchestration_id, "orchestration")
        step = known.steps[item.step_run_id]
        stage_spec, step_spec = _find_step(spec, step.name)  # type: ignore[arg-type]
        open_ = item.status in OPEN
        member = self._member(user, item, known.teams)
        holds = self._may_work_on(user, item, known.teams)
        return {
            "id": item.id,
            "status": item.status,
            "assignee": _target(item),
            "claimed_by": known.names.get(item.claimed_by_id),
            "label": (step_spec.label if step_spec else "") or _flow_label(step) or step.name,
            "step": step.name,
            "stage": stage_spec.name if stage_spec else "",
            "run_id": run.id,
            "orchestration": spec.name,
            "record": self._record_summary(run),
            "created_at": _iso(item.created_at),
            "due_at": _iso(item.due_at),
            "overdue": bool(open_ and item.due_at and item.due_at < self.clock.now()),
            "sla": self._sla(item, step_spec.sla if step_spec else None),
            "completed_at": _iso(item.completed_at),
            "completed_by": known.names.get(item.completed_by_id),
            "outputs": item.outputs,
            "form": None,
            "actions": {
                "claim": open_ and item.assignee_kind != "user" and item.claimed_by_id is None
                and (user.is_admin or member),
                "release": open_ and item.claimed_by_id is not None
                and (item.claimed_by_id == user.id or user.is_admin),
                "complete": open_ and holds,
                "reassign": open_ and (user.is_admin or self._may_work_on(
                    user, item, known.teams, claimed_only=True)),
            },
        }  # fmt: skip

    def _sla(self, item: WorkItem, sla: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The item's SLA: due and warning times, rungs fired, and its state (see
        :func:`stageflow.sla.policy.sla_state`; a closed item's as when it closed)."""
        if item.due_at is None:
            return None
        policy = SlaPolicy.of(sla)
        warn_at = policy.warn_at(item.due_at, self.engine._calendar(policy)) if policy else None
        moment = item.completed_at if item.status not in OPEN else self.clock.now()
        return {
            "due_at": _iso(item.due_at),
            "warn_at": _iso(warn_at),
            "level": policy.rungs_fired(item.escalation_level) if policy else 0,
            "state": sla_state(item.due_at, warn_at, moment or self.clock.now()),
        }

    def _record_summary(self, run: Run) -> dict[str, Any] | None:
        if not run.record_object:
            return None
        title = f"{run.record_object} {run.record_id}"
        try:
            spec = self.records.object_spec(run.record_object)
            record = self.records.get(run.record_object, run.record_id)
            text = next((f.name for f in spec.fields if f.type == "text"), None)
            if text and record.get(text):
                title = str(record[text])
        except RecordNotFound:
            pass
        return {"object": run.record_object, "id": run.record_id, "title": title}

    def _checklist(self, run: Run, items: Mapping[int, list[dict[str, Any]]]) -> dict[str, Any]:
        spec = store.spec_of(run.orchestration_id, "orchestration")
        assert isinstance(spec, OrchestrationSpec)  # noqa: S101 - the store keeps kinds apart
        steps: dict[int, list[StepRun]] = {}
        for step in StepRun.select().where(StepRun.run == run.id).order_by(StepRun.id):
            steps.setdefault(step.stage_run_id, []).append(step)
        stages = []
        for stage in run.stage_runs.order_by(peewee.SQL("position")):
            stage_spec = spec.stage(stage.name)
            rows = steps.get(stage.id, [])
            labels = {s.name: s.label for s in stage_spec.steps} if stage_spec else {}
            stages.append({
                "name": stage.name,
                "label": (stage_spec.label if stage_spec else "") or stage.name,
                "status": stage.status,
                "steps": [{"name": s.name, "label": labels.get(s.name) or s.name,
                           "status": s.status, "items": items.get(s.id, [])} for s in rows],
            })  # fmt: skip
        return {"run_id": run.id, "orchestration": spec.name, "label": spec.label or spec.name,
                "status": run.status, "stages": stages}  # fmt: skip

    # -- checks --------------------------------------------------------------------------

    def _visible(self, item_id: int, user: User) -> WorkItem:
        item = WorkItem.get_or_none(WorkItem.id == item_id)
        if item is None:
            raise WorkError(404, f"No work item with id {item_id}")
        mine = item.claimed_by_id == user.id or item.completed_by_id == user.id
        if not (user.is_admin or mine or self._assigned_to(user, item) or self._member(user, item)):
            raise WorkError(403, f"Work item {item.id} is not yours to see")
        return item

    @staticmethod
    def _assigned_to(user: User, item: WorkItem) -> bool:
        return item.assignee_kind == "user" and item.assignee_name == user.name

    @staticmethod
    def _member(user: User, item: WorkItem, teams: Mapping[str, list[str]] | None = None) -> bool:
        teams = _teams(user) if teams is None else teams
        return item.assignee_name in teams.get(item.assignee_kind, ())

    def _may_work_on(
        self,
        user: User,
        item: WorkItem,
        teams: Mapping[str, list[str]] | None = None,
        *,
        claimed_only: bool = False,
    ) -> bool:
        """The user holds the item: claimed it, or it is theirs (or, to complete, their
        team's and unclaimed)."""
        if item.claimed_by_id is not None:
            return item.claimed_by_id == user.id or (user.is_admin and not claimed_only)
        if self._assigned_to(user, item) or user.is_admin:
            return True
        return not claimed_only and self._member(user, item, teams)

    def cannot_open(
        self, item: WorkItem, target: tuple[str, str], run: Run | None = None
    ) -> str | None:
        """What of the item the target cannot open, or None: every person it reaches must
        be able to read the run's record (``run``: the item's run, if read already)."""
        run = run or Run.get_by_id(item.run_id)
        if not run.record_object:
            return None
        spec = self.records.object_spec(run.record_object)
        if spec.access in ("read", "read_write"):
            return None  # everyone may read every record of the object
        record = self.records.get(run.record_object, run.record_id)
        for person in _people(*target):
            if not check_access(person, spec, record, "read"):
                return f"{run.record_object} {run.record_id} ({person.name} may not read it)"
        return None

    def _do(self, action: Any, user: User) -> dict[str, Any]:
        try:
            item = action()
        except EngineError as error:
            raise WorkError(error.code, error.message, error.errors) from None
        return self.present(item, user)


# -- helpers ---------------------------------------------------------------------------


def _teams(user: User) -> dict[str, list[str]]:
    """The queues and groups the user belongs to, by kind."""
    queues = [q.name for q in Queue.select(Queue.name).join(QueueMembership)
              .where(QueueMembership.user == user.id)]  # fmt: skip
    groups = [g.name for g in Group.select(Group.name).join(GroupMembership)
              .where(GroupMembership.user == user.id)]  # fmt: skip
    return {kind: names for kind, names in (("queue", queues), ("group", groups)) if names}


def _people(kind: str, name: str) -> Iterable[User]:
    """The active users a target reaches."""
    if kind == "user":
        return User.select().where((User.name == name) & User.is_active)
    model, membership, field = ((Queue, QueueMembership, "queue") if kind == "queue"
                                else (Group, GroupMembership, "group"))  # fmt: skip
    return (User.select().join(membership, on=membership.user == User.id)
            .join(model, on=getattr(membership, field) == model.id)
            .where((model.name == name) & User.is_active))  # fmt: skip


def _versions_of(orchestration: str) -> list[int]:
    named = (Definition.kind == "orchestration") & (Definition.name == orchestration)
    versions = DefinitionVersion.select(DefinitionVersion.id).join(Definition).where(named)
    return [v.id for v in versions]


def _find_step(spec: OrchestrationSpec, name: str) -> tuple[Any, Any]:
    for stage in spec.stages:
        for step in stage.steps:
            if step.name == name:
                return stage, step
    return None, None


def _flow_label(step: StepRun) -> str:
    if not step.flow_version_id:
        return ""
    return getattr(store.spec_of(step.flow_version_id, "flow"), "label", "") or ""


def _target(item: WorkItem) -> str:
    return f"{item.assignee_kind}:{item.assignee_name}"


def _holder(item: WorkItem) -> str:
    return item.claimed_by.name if item.claimed_by_id else _target(item)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _encode(item: WorkItem) -> str:
    key = [item.due_at.isoformat() if item.due_at else None, item.id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[dt.datetime | None, int]:
    try:
        due, item_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return (dt.datetime.fromisoformat(due) if due else None), int(item_id)
    except (ValueError, TypeError):
        raise WorkError(400, "cursor is not one this server gave out") from None


def _order(item: WorkItem) -> tuple[bool, dt.datetime, int]:
    """Lists' order: by due time, items without one last; then oldest first."""
    return (item.due_at is None, item.due_at or dt.datetime.min.replace(tzinfo=dt.UTC), item.id)


def _after(key: tuple[dt.datetime | None, int]) -> Any:
    """Rows after ``key`` in (due time, nulls last; id) order."""
    due, item_id = key
    if due is None:
        return WorkItem.due_at.is_null() & (WorkItem.id > item_id)
    return ((WorkItem.due_at > due) | ((WorkItem.due_at == due) & (WorkItem.id > item_id))
            | WorkItem.due_at.is_null())  # fmt: skip
