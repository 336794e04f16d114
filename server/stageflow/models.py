"""The tables: people, definitions, runs and their parts, work, events, jobs, records.

Definitions (what to do) and runtime state (what is being done) are separate tables, as
in SpiffWorkflow: a :class:`Run` pins one :class:`DefinitionVersion`. Times are aware
UTC datetimes in Python (:func:`utcnow`) and naive UTC in the database, which reads the
same on SQLite and PostgreSQL. Statuses are the names in :mod:`stageflow.engine.states`.
Changing a table here needs a migration in :mod:`stageflow.migrations`.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    JSONField,
    Model,
    TextField,
)

from .db import database
from .engine.states import JobStatus, Status, WorkItemStatus


def utcnow() -> dt.datetime:
    """The current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


class UTCDateTimeField(DateTimeField):
    """An aware UTC datetime, stored as naive UTC; a naive value is refused as a bug."""

    def db_value(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise ValueError(f"{self.name}: naive datetime {value}; pass an aware one")
            if value.tzinfo is not dt.UTC:
                value = value.astimezone(dt.UTC)
            value = value.replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value: Any) -> Any:
        if isinstance(value, str):  # SQLite's text: ISO format, as the driver stores it
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                value = super().python_value(value)
        else:
            value = super().python_value(value)
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


def _json_default(value: Any) -> Any:
    # Formula values: numbers are Decimal, dates and times are objects. Stored as JSON
    # numbers and ISO text; readers convert back using the object or step schema.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(default=_json_default, separators=(",", ":"))


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


class JSONData(JSONField):
    """A JSON column (JSONB on PostgreSQL) that also stores Decimal, date and time values."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(dumps=_dumps, **kwargs)


class StatusField(CharField):
    """A status column holding one of the names in :mod:`stageflow.engine.states`."""

    def __init__(self, default: str, **kwargs: Any) -> None:
        kwargs.setdefault("index", True)
        super().__init__(max_length=20, default=default, **kwargs)


class BaseModel(Model):
    """Every table: bound to :data:`stageflow.db.database`, snake_case names."""

    class Meta:
        database = database
        legacy_table_names = False


# -- people ----------------------------------------------------------------------------


class User(BaseModel):
    name = CharField(max_length=150, unique=True)
    email = CharField(null=True)
    is_admin = BooleanField(default=False)
    is_active = BooleanField(default=True)
    password_hash = CharField(null=True)  # no password: cannot sign in (API tokens only)
    manager = ForeignKeyField("self", null=True, backref="reports", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "users"


class ApiToken(BaseModel):
    user = ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True)  # SHA-256 hex; the token is shown once
    label = CharField(default="")
    created_at = UTCDateTimeField(default=utcnow)
    last_used_at = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "api_tokens"


class Group(BaseModel):
    name = CharField(max_length=150, unique=True)

    class Meta:
        table_name = "groups"


class Queue(BaseModel):
    name = CharField(max_length=150, unique=True)

    class Meta:
        table_name = "queues"


class GroupMembership(BaseModel):
    group = ForeignKeyField(Group, backref="memberships", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="group_memberships", on_delete="CASCADE")

    class Meta:
        table_name = "group_memberships"
        indexes = ((("group", "user"), True),)


class QueueMembership(BaseModel):
    queue = ForeignKeyField(Queue, backref="memberships", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="queue_memberships", on_delete="CASCADE")

    class Meta:
        table_name = "queue_memberships"
        indexes = ((("queue", "user"), True),)


# -- definitions -----------------------------------------------------------------------


class Definition(BaseModel):
    kind = CharField(max_length=20)  # object, flow, orchestration, calendar, directory
    name = CharField(max_length=150)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "definitions"
        indexes = ((("kind", "name"), True),)


class DefinitionVersion(BaseModel):
    definition = ForeignKeyField(Definition, backref="versions", on_delete="CASCADE")
    version = IntegerField()
    content = TextField()  # the YAML document exactly as deployed
    content_hash = CharField(max_length=64)  # SHA-256 of content: unchanged → no new version
    parsed = JSONData()
    source = CharField(null=True)  # the file it came from, for file:line:column messages
    active = BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        table_name = "definition_versions"
        indexes = ((("definition", "version"), True),)


# At most one active version per definition, enforced by the database.
DefinitionVersion.add_index(
    DefinitionVersion.index(
        DefinitionVersion.definition, unique=True, name="definition_versions_one_active"
    ).where(DefinitionVersion.active == True)  # noqa: E712 (builds SQL)
)


# -- runs ------------------------------------------------------------------------------


class Run(BaseModel):
    orchestration = ForeignKeyField(DefinitionVersion, backref="runs")  # pinned version
    status = StatusField(Status.NOT_STARTED)
    inputs = JSONData(default=dict)
    outputs = JSONData(null=True)
    record_object = CharField(max_length=150, null=True)
    record_id = CharField(max_length=150, null=True)
    started_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    restarted_from = ForeignKeyField("self", null=True, backref="restarts", on_delete="SET NULL")
    started_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    finished_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "runs"
        indexes = ((("record_object", "record_id"), False),)


# Stage and step runs are read by run (the (run, name) index) and written on every event,
# so they carry no other index that their queries do not use: each one costs every write.


class StageRun(BaseModel):
    run = ForeignKeyField(Run, backref="stage_runs", on_delete="CASCADE", index=False)
    name = CharField(max_length=150)
    position = IntegerField()  # the stage's place in the orchestration, from 0
    status = StatusField(Status.NOT_STARTED, index=False)
    started_at = UTCDateTimeField(null=True)
    finished_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "stage_runs"
        indexes = ((("run", "name"), True),)


class StepRun(BaseModel):
    run = ForeignKeyField(Run, backref="step_runs", on_delete="CASCADE", index=False)
    stage_run = ForeignKeyField(StageRun, backref="step_runs", on_delete="CASCADE")
    name = CharField(max_length=150)
    status = StatusField(Status.NOT_STARTED, index=False)
    attempt = IntegerField(default=0)
    outputs = JSONData(null=True)
    error = TextField(null=True)
    idempotency_key = CharField(null=True)  # step run id and attempt: unique by construction
    # Versions are never deleted, so nothing looks steps up by it.
    flow_version = ForeignKeyField(DefinitionVersion, null=True, backref="+", index=False)
    child_run = ForeignKeyField(  # launch_orchestration's run
        Run, null=True, backref="parent_step_runs", on_delete="SET NULL"
    )
    started_at = UTCDateTimeField(null=True)
    finished_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "step_runs"
        indexes = ((("run", "name"), True),)


class WorkItem(BaseModel):
    run = ForeignKeyField(Run, backref="work_items", on_delete="CASCADE")
    step_run = ForeignKeyField(StepRun, backref="work_items", on_delete="CASCADE")
    status = StatusField(WorkItemStatus.ASSIGNED)
    assignee_kind = CharField(max_length=20)  # user, queue, group
    assignee_name = CharField(max_length=150)
    claimed_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    due_at = UTCDateTimeField(null=True)
    escalation_level = IntegerField(default=0)  # raised by one conditional update per level
    # When the SLA sweep must next look at the item (a warning or an escalation is due);
    # None when nothing is left to fire or the item is closed.
    next_check_at = UTCDateTimeField(null=True, index=True)
    outputs = JSONData(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    completed_at = UTCDateTimeField(null=True)
    completed_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        table_name = "work_items"
        indexes = (
            (("assignee_kind", "assignee_name", "status"), False),
            (("status", "due_at"), False),  # the escalation sweep
        )


class Event(BaseModel):
    """One line of a run's append-only log: who did what, when, from which status to which."""

    run = ForeignKeyField(Run, backref="events", on_delete="CASCADE")
    at = UTCDateTimeField(default=utcnow)
    actor = CharField(max_length=150)  # a user name, or "system"
    kind = CharField(max_length=50)
    subject = CharField(max_length=310, null=True)  # "stage:NAME", "step:NAME", None: the run
    from_status = CharField(max_length=20, null=True)
    to_status = CharField(max_length=20, null=True)
    reason = TextField(null=True)
    data = JSONData(null=True)

    class Meta:
        table_name = "events"

    def save(self, *args: Any, **kwargs: Any) -> int:
        """Insert the event; an event already stored is never changed."""
        if self.id is not None and not kwargs.get("force_insert"):
            raise TypeError("events are append-only: an event cannot be changed")
        return super().save(*args, **kwargs)


class Job(BaseModel):
    """A unit of background work in the durable queue, written in the transaction that
    makes it necessary, and leased by one worker at a time."""

    kind = CharField(max_length=50)
    payload = JSONData(default=dict)
    run = ForeignKeyField(Run, null=True, backref="jobs", on_delete="CASCADE")
    status = StatusField(JobStatus.QUEUED, index=False)  # see the indexes below
    run_at = UTCDateTimeField(default=utcnow)  # not before: retries back off by moving it
    leased_until = UTCDateTimeField(null=True)
    lease_owner = CharField(max_length=150, null=True)
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "jobs"
        indexes = (
            (("status", "run_at"), False),  # claim: queued and due
            (("status", "leased_until"), False),  # recover: leased and expired
        )


class Record(BaseModel):
    """A record of an object stored by the built-in record source."""

    object = CharField(max_length=150, index=True)
    owner = ForeignKeyField(User, null=True, backref="owned_records", on_delete="SET NULL")
    data = JSONData(default=dict)
    prior = JSONData(null=True)  # data before the last update: ISCHANGED, $Record__Prior
    created_at = UTCDateTimeField(default=utcnow)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    updated_at = UTCDateTimeField(default=utcnow)
    updated_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        table_name = "records"


class RecordShare(BaseModel):
    """A record shared with a user, a group or a queue, to read or to edit.

    Records of any source can be shared: the record is named by object and id.
    """

    object = CharField(max_length=150)
    record_id = CharField(max_length=150)
    grantee_kind = CharField(max_length=20)  # user, group, queue
    grantee_name = CharField(max_length=150)
    level = CharField(max_length=10)  # read, edit
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "record_shares"
        indexes = ((("object", "record_id", "grantee_kind", "grantee_name"), True),)


class FeedCursor(BaseModel):
    """How far Stageflow has read the change feed of an object from an outside source."""

    object = CharField(max_length=150, primary_key=True)
    cursor = TextField(null=True)  # the source's own text; None: at the start
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "feed_cursors"


class SchemaVersion(BaseModel):
    """One row per migration applied to this database."""

    version = IntegerField(primary_key=True)
    name = CharField()
    applied_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "schema_version"


#: Every table, parents before children (the order tables are created in).
MODELS: tuple[type[BaseModel], ...] = (
    User,
    ApiToken,
    Group,
    Queue,
    GroupMembership,
    QueueMembership,
    Definition,
    DefinitionVersion,
    Run,
    StageRun,
    StepRun,
    WorkItem,
    Event,
    Job,
    Record,
    RecordShare,
    FeedCursor,
    SchemaVersion,
)
