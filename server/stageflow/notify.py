"""Telling people about work: who gets a work item, and the message they are sent.

The engine calls a :class:`Notifier` after the transaction that created or reassigned
work items commits.  The people are the assignee (a user, if active) or the active
members of the assignee queue or group.  Each item makes one :class:`Message`, sent
through every channel in use:

* the channels named by the ``notification_channels`` setting (``["log"]`` by default),
* plus ``email`` whenever ``smtp_host`` is set: setting the SMTP server turns email on.

An unknown channel name is a :class:`~stageflow.config.ConfigError` when the notifier is
built, at start-up.  Sending never raises: a channel that fails is logged and the
others still send.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from . import fastsql
from .config import ConfigError
from .db import database
from .definitions import store
from .definitions.spec import OrchestrationSpec
from .extension import Message, NotificationChannel, Recipient
from .models import Group, GroupMembership, Queue, QueueMembership, Run, StepRun, User, WorkItem

logger = logging.getLogger("stageflow.notifications")

#: The built-in channel that ``smtp_host`` turns on.
EMAIL_CHANNEL = "email"

#: For each team kind an assignee can name: its table and its membership table.
_TEAMS = {"queue": (Queue, QueueMembership), "group": (Group, GroupMembership)}


class Notifier:
    """Sends work notifications through the notification channels the settings choose.

    ``channels`` are the plugins' channels by name (``Registry.notification_channels``);
    ``config`` the server's settings.  A channel with a ``configured(config)`` method
    (such as ``email``) is sent through as that method returns it.  Raises
    :class:`~stageflow.config.ConfigError` for an unknown channel name or a channel
    whose settings are incomplete.
    """

    def __init__(
        self, channels: Mapping[str, NotificationChannel], config: Mapping[str, Any]
    ) -> None:
        self.channels = [_configured(channels, name, config) for name in channel_names(config)]
        self.base_url = config.get("base_url", "")
        self.timezone = config.get("timezone", "UTC")

    def work_assigned(self, item_ids: Sequence[int]) -> None:
        """Tell the people who got these new work items.  Never raises."""
        for item_id in item_ids:
            self._notify(item_id, "New work")

    def work_reassigned(self, item_id: int, by: str | None, reason: str) -> None:
        """Tell the people a work item was reassigned to who did it and why.  Never raises.

        ``by`` is the user who reassigned it, or None when Stageflow did (an escalation).
        """
        note = f"Reassigned to you by {by or 'Stageflow'}"
        self._notify(item_id, "Work reassigned", f"{note}: {reason}" if reason else f"{note}.")

    def work_due(
        self, item_id: int, targets: Sequence[tuple[str, str]], *, overdue: bool, note: str
    ) -> None:
        """Tell the people ``targets`` (``(kind, name)`` pairs) reach that a work item is
        overdue or due soon (an SLA escalation or warning).  Never raises."""
        self._notify(item_id, "Overdue" if overdue else "Due soon", note, targets)

    def _notify(
        self,
        item_id: int,
        headline: str,
        note: str = "",
        targets: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        """Send the item's message to the people of ``targets`` (default: its assignee)."""
        try:
            with _connection():
                item = _work_item(item_id)
                if item is None:
                    logger.warning("work item %s does not exist: nobody notified", item_id)
                    return
                targets = targets or [(item.assignee_kind, item.assignee_name)]
                found = {r.name: r for kind, name in targets for r in people(kind, name)}
                recipients = [found[name] for name in sorted(found)]
                if not recipients:
                    logger.warning(
                        "work item %s: %s has no active users to notify",
                        item_id,
                        ", ".join(f"{kind}:{name}" for kind, name in targets),
                    )
                    return
                message = work_message(
                    item,
                    recipients,
                    headline=headline,
                    note=note,
                    base_url=self.base_url,
                    timezone=self.timezone,
                )
        except Exception:
            logger.exception("could not prepare the notification of work item %s", item_id)
            return
        self.send(message)

    def send(self, message: Message) -> None:
        """Send a message through every channel in use; a failing channel is logged."""
        for channel in self.channels:
            try:
                channel.send(message)
            except Exception:
                logger.exception(
                    "notification channel %s could not send %r", channel.name, message.subject
                )


def channel_names(config: Mapping[str, Any]) -> list[str]:
    """The names of the channels in use: ``notification_channels``, and ``email`` when
    ``smtp_host`` is set (each once, in that order)."""
    names = list(config.get("notification_channels", ["log"]))
    if config.get("smtp_host"):
        names.append(EMAIL_CHANNEL)
    return list(dict.fromkeys(names))


def _configured(
    channels: Mapping[str, NotificationChannel], name: str, config: Mapping[str, Any]
) -> NotificationChannel:
    channel = channels.get(name)
    if channel is None:
        known = ", ".join(sorted(channels)) or "none"
        raise ConfigError(
            f"notification_channels: there is no notification channel {name!r}; "
            f"the channels are: {known}"
        )
    configured = getattr(channel, "configured", None)
    return configured(config) if callable(configured) else channel


def people(kind: str, name: str) -> list[Recipient]:
    """The active users who get work assigned to ``kind:name``, by name.

    A user (if active), or the active members of a queue or group; nobody for a kind
    Stageflow does not know.
    """
    if kind != "user" and kind not in _TEAMS:
        return []
    rows = fastsql.execute(_people_sql(kind), (name, True)).fetchall()
    return [Recipient(user, email or None) for user, email in rows]


def _people_sql(kind: str) -> str:
    """The active users ``kind:NAME`` reaches, by name (the text, compiled once per kind)."""
    users = User._meta.table_name
    if kind == "user":
        return (
            f'SELECT name, email FROM "{users}" WHERE name = ? AND is_active = ?'  # noqa: S608 - names from the models
            " ORDER BY name"
        )
    team, membership = _TEAMS[kind]
    link = membership._meta.fields[kind].column_name
    return (f'SELECT u.name, u.email FROM "{users}" u'  # noqa: S608 - names from the models
            f' JOIN "{membership._meta.table_name}" m ON m.user_id = u.id'
            f' JOIN "{team._meta.table_name}" t ON t.id = m.{link}'
            " WHERE t.name = ? AND u.is_active = ? ORDER BY u.name")  # fmt: skip


# What a message needs of a work item, its run and its step run, in one compiled
# statement: an SLA sweep sends thousands of messages at once.
_MESSAGE_ROW = (
    "SELECT w.assignee_kind, w.assignee_name, w.due_at, r.id, r.orchestration_id,"
    " r.record_object, r.record_id, s.id, s.name, s.flow_version_id"
    " FROM work_items w JOIN runs r ON r.id = w.run_id JOIN step_runs s ON s.id = w.step_run_id"
    " WHERE w.id = ?"
)


def _work_item(item_id: int) -> WorkItem | None:
    """The work item with the fields of it, its run and its step run that
    :func:`work_message` reads, or None."""
    row = fastsql.execute(_MESSAGE_ROW, (item_id,)).fetchone()
    if row is None:
        return None
    kind, name, due, run_id, version, record_object, record_id, step_id, step, flow = row
    run = Run(id=run_id, orchestration=version, record_object=record_object, record_id=record_id)
    return WorkItem(id=item_id, assignee_kind=kind, assignee_name=name, run=run,
                    due_at=WorkItem.due_at.python_value(due),
                    step_run=StepRun(id=step_id, name=step, flow_version=flow))  # fmt: skip


def work_message(
    item: WorkItem,
    recipients: Sequence[Recipient],
    *,
    headline: str,
    note: str = "",
    base_url: str = "",
    timezone: str = "UTC",
) -> Message:
    """The message about a work item: "<headline>: <step> on <object> <id>", and a body
    with the orchestration, run, stage, step, record, assignee and due time.

    ``headline`` says what happened ("New work", "Work reassigned", "Overdue"); ``note``
    is an optional first paragraph (who did it and why).  The link is
    ``<base_url>/work/<id>``; the due time is shown in ``timezone``.
    """
    run = item.run
    orchestration = store.spec_of(run.orchestration_id, "orchestration")
    assert isinstance(orchestration, OrchestrationSpec)  # noqa: S101 - the store keeps kinds apart
    stage, step = _stage_and_step_labels(orchestration, item.step_run)
    record = f"{run.record_object} {run.record_id}" if run.record_object else ""
    name, label = orchestration.name, orchestration.label
    details = {
        "Orchestration": f"{label} ({name})" if label else name,
        "Run": str(run.id),
        "Stage": stage,
        "Step": step,
        "Record": record,
        "Assigned to": f"{item.assignee_kind} {item.assignee_name}",
        "Due": _local_time(item.due_at, timezone) if item.due_at else "",
    }
    width = max(map(len, details)) + 2
    table = "\n".join(f"{key + ':':<{width}}{value}" for key, value in details.items() if value)
    return Message(
        recipients=tuple(recipients),
        subject=f"{headline}: {step} {f'on {record}' if record else f'in {label or name}'}",
        body=f"{note}\n\n{table}" if note else table,
        link=f"{base_url.rstrip('/')}/work/{item.id}",
    )


def _stage_and_step_labels(orchestration: OrchestrationSpec, step_run: StepRun) -> tuple[str, str]:
    """What people call a step and its stage: their labels, else the flow's, else names."""
    stage_label, step_label = "", ""
    for stage in orchestration.stages:
        step = next((step for step in stage.steps if step.name == step_run.name), None)
        if step is not None:
            stage_label, step_label = stage.label or stage.name, step.label
    if not step_label and step_run.flow_version_id:
        step_label = store.spec_of(step_run.flow_version_id, "flow").label
    return stage_label, step_label or step_run.name


def _local_time(at: dt.datetime, timezone: str) -> str:
    return at.astimezone(zoneinfo.ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


@contextmanager
def _connection() -> Iterator[None]:
    """The thread's database connection, opened for the block if it has none."""
    if database.is_closed():
        with database.connection_context():
            yield
    else:
        yield
