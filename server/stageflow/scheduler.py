"""The scheduler: Stageflow's timed work, run by APScheduler inside ``stageflow serve``
(or alone in ``stageflow scheduler``).

Each job reads what is due from the database, which stays the source of truth: a
restart loses nothing, and a job that runs twice does its work once.  Jobs now:

- ``sla-sweep``: fire the SLA warnings and escalations that are due
  (:mod:`stageflow.sla.escalation`).  A one-off job at the earliest check time of any
  open work item, replaced after each sweep and whenever this process creates or
  reassigns an item that is due sooner, so escalations fire on time, not on a poll.
- ``sla-check``: every ``sla_check_seconds``, read that earliest check time alone and
  sweep if it has come (or plan ``sla-sweep`` for it): items created by other processes
  are caught within that long.
- ``follow-record-feeds``: read the change feeds of record sources outside Stageflow's
  database (every ``record_feed_seconds``), so changes made there fire triggers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from .db import connection_context
from .sla import escalation

log = logging.getLogger(__name__)

SWEEP_JOB = "sla-sweep"
#: A planned sweep this close to its time is left to run (APScheduler may be starting it).
_SETTLED = dt.timedelta(seconds=1)


def build_scheduler(app: Flask) -> BackgroundScheduler:
    """A scheduler (not started) with Stageflow's jobs for ``app``.

    Work items this process creates or reassigns wake its SLA sweep from then on
    (``app.extensions["stageflow"].sla_timer``).
    """
    sf = app.extensions["stageflow"]
    # Every run of the one-second check would be logged at INFO otherwise.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = BackgroundScheduler(timezone="UTC")
    timer = EscalationTimer(app, scheduler)
    scheduler.add_job(
        in_app(app, timer.check),
        "interval",
        seconds=sf.config.get("sla_check_seconds", 1),
        next_run_time=dt.datetime.now(dt.UTC),  # the first check is a catch-up, at start
        id="sla-check",
        name="Check for SLA escalations due (items of other processes)",
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        in_app(app, sf.feeds.follow),
        "interval",
        seconds=sf.config.get("record_feed_seconds", 10),
        id="follow-record-feeds",
        name="Read the change feeds of outside record sources",
        coalesce=True,
        max_instances=1,
    )
    sf.sla_timer = timer
    return scheduler


class EscalationTimer:
    """Runs the SLA sweep when the next work item falls due.

    A sweep is planned as an APScheduler ``date`` job at the earliest check time known;
    :meth:`wake` plans an earlier one and drops the later one (each has its own id, so
    APScheduler removing a job it has just started never removes the next plan).  A
    sweep asked for while one runs makes that one sweep again when it ends, so no
    wake-up is lost and sweeps in one process never overlap.
    """

    def __init__(self, app: Flask, scheduler: BackgroundScheduler) -> None:
        self.app = app
        self.sf = app.extensions["stageflow"]
        self.scheduler = scheduler
        self._lock = threading.Lock()
        self._planned: tuple[dt.datetime, str] | None = None  # the latest plan and its job
        self._plans = 0
        self._running = False
        self._again = False

    @property
    def planned(self) -> dt.datetime | None:
        """When the next sweep is planned (None: when an item wakes the timer)."""
        return self._planned[0] if self._planned is not None else None

    def planned_job(self) -> Any:
        """The APScheduler job of the next planned sweep, or None."""
        return self.scheduler.get_job(self._planned[1]) if self._planned is not None else None

    def wake(self, moment: dt.datetime) -> None:
        """A work item must be checked at ``moment``: sweep then, unless planned sooner."""
        with self._lock:
            earlier = self._planned
            if earlier is not None and earlier[0] <= moment:
                return
            self._plans += 1
            job = self.scheduler.add_job(
                in_app(self.app, self.sweep),
                "date",
                run_date=moment,
                id=f"{SWEEP_JOB}-{self._plans}",
                name="Fire the SLA warnings and escalations due",
                misfire_grace_time=None,  # late (a busy or restarted process): still run
            )
            self._planned = (moment, job.id)
        if earlier is not None and earlier[0] > self.sf.clock.now() + _SETTLED:
            with contextlib.suppress(JobLookupError):  # it ran meanwhile
                self.scheduler.remove_job(earlier[1])

    def check(self) -> None:
        """The periodic check: sweep if the earliest check time has come, else plan it."""
        moment = escalation.next_check()
        if moment is None:
            return
        if moment <= self.sf.clock.now():
            self.sweep()
        else:
            self.wake(moment)

    def sweep(self) -> None:
        """Sweep (again, while asked to), then plan the next sweep."""
        with self._lock:
            if self._planned is not None and self._planned[0] <= self.sf.clock.now():
                self._planned = None  # this sweep is (or stands for) that plan
            if self._running:
                self._again = True
                return
            self._running = True
        try:
            while True:
                fired = self.sf.sweep_sla()
                if fired:
                    log.info("SLA sweep: %d rung(s) fired", fired)
                with self._lock:
                    if not self._again:
                        self._running = False
                        break
                    self._again = False
        except BaseException:
            with self._lock:
                self._running = self._again = False
            raise
        following = escalation.next_check()
        if following is not None:
            self.wake(following)


def in_app(app: Flask, job: Callable[[], Any]) -> Callable[[], None]:
    """``job`` run with the app's context and a database connection; failures are logged
    (the next run tries again) instead of stopping the scheduler."""

    def run() -> None:
        with app.app_context(), connection_context():
            try:
                job()
            except Exception:
                log.exception("scheduled job %s failed", getattr(job, "__name__", job))

    run.__name__ = getattr(job, "__name__", "job")
    return run
