"""The parts of a running Stageflow, built once per app: plugins, clock, records, engine.

``create_app`` builds a :class:`Stageflow` and keeps it in
``app.extensions["stageflow"]``; views reach it with :func:`current`.  Tests swap the
clock for a :class:`~stageflow.clock.FixedClock` by passing ``clock=`` to
``create_app``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy
from flask import Flask, current_app

from .clock import Clock, SystemClock
from .engine.runs import Engine
from .engine.triggers import Triggers
from .engine.workers import WorkerPool
from .feeds import FeedFollower
from .notify import Notifier
from .plugins import Registry, collect, dispatch_run_event, get_plugin_manager
from .records import RecordChange, RecordService
from .sla import escalation
from .work import WorkService

if TYPE_CHECKING:
    from .scheduler import EscalationTimer


class Stageflow:
    """Everything the web app, the CLI and the workers share."""

    def __init__(self, config: Mapping[str, Any], clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.pm: pluggy.PluginManager = get_plugin_manager(config)
        self.registry: Registry = collect(self.pm, config)
        self.records = RecordService(self.registry.record_sources, self.clock)
        for source in self.registry.record_sources.values():
            if hasattr(source, "clock"):
                source.clock = self.clock  # built-in records use the one clock
        self.workers: WorkerPool | None = None
        self.notifier = Notifier(self.registry.notification_channels, config)
        self.engine = Engine(
            step_types=self.registry.step_types,
            records=self.records,
            clock=self.clock,
            functions=self.registry.functions,
            lease_seconds=config.get("job_lease_seconds", 60),
            on_events=lambda events: [dispatch_run_event(self.pm, e) for e in events],
            on_work=self._wake_workers,
            resolve_assignee=lambda ref, context: self.pm.hook.resolve_assignee(
                reference=ref, context=context
            ),
            on_assigned=self.notifier.work_assigned,
            on_due=self._sla_due,
        )
        #: The scheduler's SLA timer when a scheduler runs in this process: told of the
        #: earliest SLA check time of the work items this process creates or reassigns.
        self.sla_timer: EscalationTimer | None = None

        self.work = WorkService(self.engine, self.records, self.clock, self.notifier)
        self.triggers = Triggers(self.engine)
        self.feeds = FeedFollower(self.records, self.clock)
        # Runs already on the record first, so a run a trigger starts is not told again.
        self.records.observers += [self._tell_runs, self.triggers.on_change]
        self.records.follow = self.feeds.follow

    def _tell_runs(self, change: RecordChange) -> None:
        if change.operation in ("created", "updated"):
            self.engine.record_changed(change.spec.name, str(change.record["Id"]), change.actor)

    def sweep_sla(self, now: dt.datetime | None = None) -> int:
        """Fire the SLA warnings and escalations due at ``now`` (default: the clock's now);
        return how many fired (see :mod:`stageflow.sla.escalation`)."""
        moment = now or self.clock.now()
        return escalation.sweep(self.engine, self.work, self.notifier, moment)

    def _sla_due(self, moment: dt.datetime) -> None:
        if self.sla_timer is not None:
            self.sla_timer.wake(moment)

    def _wake_workers(self) -> None:
        if self.workers is not None:
            self.workers.wake()

    def start_workers(self, count: int | None = None) -> WorkerPool:
        """Start background worker threads in this process (``stageflow serve``)."""
        if self.workers is None:
            self.workers = WorkerPool(
                self.engine, self.config.get("workers", 2) if count is None else count
            )
            self.workers.start()
        return self.workers

    def stop_workers(self) -> None:
        """Stop this process's worker threads, letting each finish its job."""
        if self.workers is not None:
            self.workers.stop()
            self.workers = None


def init_app(app: Flask, clock: Clock | None = None) -> Stageflow:
    """Build the app's :class:`Stageflow` and register the plugins' blueprints."""
    settings = {key.lower(): value for key, value in app.config.items()}
    stageflow = Stageflow(settings, clock)
    app.extensions["stageflow"] = stageflow
    for blueprint in stageflow.registry.blueprints.values():
        app.register_blueprint(blueprint)
    stageflow.pm.hook.startup(app=app)
    return stageflow


def current() -> Stageflow:
    """The Stageflow of the app handling the current request or CLI command."""
    return current_app.extensions["stageflow"]
