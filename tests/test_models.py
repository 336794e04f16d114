"""The tables: create and query each, constraints, JSON and time round trips."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import peewee
import pytest
from flask import Flask

from stageflow.db import database
from stageflow.engine import states
from stageflow.engine.states import JobStatus, Status, WorkItemStatus
from stageflow.models import (
    ApiToken,
    Definition,
    DefinitionVersion,
    Event,
    Group,
    GroupMembership,
    Job,
    Queue,
    QueueMembership,
    Record,
    Run,
    StageRun,
    StepRun,
    User,
    WorkItem,
    utcnow,
)

T0 = dt.datetime(2026, 3, 5, 14, 30, tzinfo=dt.UTC)


@pytest.fixture
def db(app: Flask):  # type: ignore[no-untyped-def]
    with database.connection_context():
        yield database


@pytest.fixture
def run(db: peewee.Database) -> Run:
    definition = Definition.create(kind="orchestration", name="case_escalation")
    version = DefinitionVersion.create(
        definition=definition,
        version=1,
        content="kind: orchestration\n",
        content_hash="0" * 64,
        parsed={"stages": [{"name": "triage"}]},
        active=True,
    )
    return Run.create(orchestration=version, status=Status.IN_PROGRESS, inputs={"n": 1})


def test_people_tokens_groups_and_queues(db: peewee.Database) -> None:
    carol = User.create(name="carol", is_admin=True)
    alice = User.create(name="alice", email="alice@example.com", manager=carol)
    assert alice.password_hash is None and alice.is_active and not alice.is_admin
    assert [u.name for u in carol.reports] == ["alice"]
    ApiToken.create(user=alice, token_hash="f" * 64)
    assert ApiToken.get(ApiToken.token_hash == "f" * 64).user.name == "alice"
    GroupMembership.create(group=Group.create(name="engineers"), user=carol)
    QueueMembership.create(queue=Queue.create(name="tier1"), user=alice)
    in_tier1 = User.select().join(QueueMembership).join(Queue).where(Queue.name == "tier1")
    assert [u.name for u in in_tier1] == ["alice"]
    with pytest.raises(peewee.IntegrityError), db.atomic():
        User.create(name="alice")
    with pytest.raises(peewee.IntegrityError), db.atomic():
        QueueMembership.create(queue=Queue.get(name="tier1"), user=alice)


def test_one_active_version_per_definition(db: peewee.Database) -> None:
    definition = Definition.create(kind="flow", name="mark_working")

    def version(number: int, active: bool) -> DefinitionVersion:
        return DefinitionVersion.create(
            definition=definition,
            version=number,
            content=f"v{number}",
            content_hash=str(number) * 64,
            parsed={"n": number},
            active=active,
        )

    version(1, True)
    version(2, False)
    with pytest.raises(peewee.IntegrityError), db.atomic():
        version(3, True)
    with pytest.raises(peewee.IntegrityError), db.atomic():
        version(2, False)  # version numbers are unique per definition
    active = definition.versions.where(DefinitionVersion.active == True)  # noqa: E712
    assert [v.version for v in active] == [1]
    assert DefinitionVersion.get(version=1).parsed == {"n": 1}


def test_a_run_with_stages_steps_work_events_and_jobs(db: peewee.Database, run: Run) -> None:
    stage = StageRun.create(run=run, name="triage", position=0, status=Status.IN_PROGRESS)
    step = StepRun.create(
        run=run,
        stage_run=stage,
        name="triage",
        status=Status.IN_PROGRESS,
        attempt=1,
        idempotency_key="1:1",
        outputs={"severity": "Major", "amount": Decimal("12.50")},
    )
    WorkItem.create(run=run, step_run=step, assignee_kind="queue", assignee_name="tier1", due_at=T0)
    Event.create(
        run=run,
        actor="system",
        kind="stage_started",
        subject="stage:triage",
        from_status=Status.NOT_STARTED,
        to_status=Status.IN_PROGRESS,
    )
    Job.create(kind="run_step", payload={"step_run": step.id}, run=run)

    step = StepRun.get_by_id(step.id)
    assert step.outputs == {"severity": "Major", "amount": 12.5}
    assert step.stage_run.run.orchestration.definition.name == "case_escalation"
    item = WorkItem.get()
    assert item.status == WorkItemStatus.ASSIGNED and item.escalation_level == 0
    assert item.due_at == T0
    overdue = WorkItem.select().where(
        WorkItem.status.in_(states.OPEN_WORK), WorkItem.due_at <= T0 + dt.timedelta(seconds=1)
    )
    assert overdue.count() == 1
    due = Job.select().where(Job.status == JobStatus.QUEUED, Job.run_at <= utcnow())
    assert [j.payload for j in due] == [{"step_run": step.id}]
    assert [(e.from_status, e.to_status) for e in run.events] == [("NotStarted", "InProgress")]

    run.delete_instance()  # a run takes its parts with it
    assert (
        StageRun.select().count(),
        StepRun.select().count(),
        WorkItem.select().count(),
        Event.select().count(),
        Job.select().count(),
    ) == (0, 0, 0, 0, 0)


def test_events_are_append_only(db: peewee.Database, run: Run) -> None:
    event = Event.create(run=run, actor="alice", kind="run_canceled", reason="duplicate")
    event.reason = "changed my mind"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    assert Event.get_by_id(event.id).reason == "duplicate"


def test_times_are_aware_utc_both_ways(db: peewee.Database, run: Run) -> None:
    berlin = dt.timezone(dt.timedelta(hours=1))
    run.finished_at = dt.datetime(2026, 3, 5, 15, 30, tzinfo=berlin)
    run.save()
    finished = Run.get_by_id(run.id).finished_at
    assert finished == T0 and finished.tzinfo == dt.UTC
    assert Run.get_by_id(run.id).started_at.tzinfo == dt.UTC
    assert Run.select().where(Run.finished_at == T0).count() == 1
    with pytest.raises(ValueError, match="finished_at: naive datetime"):
        Run.update(finished_at=dt.datetime(2026, 3, 5)).execute()


def test_records_keep_json_data_and_the_prior_snapshot(db: peewee.Database) -> None:
    alice = User.create(name="alice")
    record = Record.create(
        object="Case",
        owner=alice,
        created_by=alice,
        updated_by=alice,
        data={
            "Subject": "Printer on fire",
            "Amount": Decimal("150"),
            "DueDate": dt.date(2026, 3, 9),
        },
    )
    record.prior, record.data = record.data, {**record.data, "Subject": "Printer fixed"}
    record.save()
    stored = Record.get(Record.object == "Case")
    assert stored.data == {"Subject": "Printer fixed", "Amount": 150, "DueDate": "2026-03-09"}
    assert stored.prior["Subject"] == "Printer on fire"
    assert stored.owner.name == "alice"


def test_status_sets_partition_the_statuses() -> None:
    groups = (states.FINISHED, states.ACTIVE, states.HALTED)
    assert set().union(*groups) == set(Status)
    assert sum(len(g) for g in groups) == len(Status)
    assert states.SATISFIED <= states.FINISHED
    assert sorted(states.OPEN_WORK) == [WorkItemStatus.ASSIGNED, WorkItemStatus.IN_PROGRESS]
    assert Status.IN_PROGRESS == "InProgress"  # the stored and API name
