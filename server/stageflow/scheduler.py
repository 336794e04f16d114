"""The scheduler: Stageflow's timed work, run by APScheduler inside ``stageflow serve``
(or alone in ``stageflow scheduler``).

Each job reads what is due from the database, which stays the source of truth: a
restart loses nothing, and a job that runs twice does its work once.  Jobs now:

- ``follow-record-feeds``: read the change feeds of record sources outside Stageflow's
  database (every ``record_feed_seconds``), so changes made there fire triggers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from .db import connection_context

log = logging.getLogger(__name__)


def build_scheduler(app: Flask) -> BackgroundScheduler:
    """A scheduler (not started) with Stageflow's jobs for ``app``."""
    sf = app.extensions["stageflow"]
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        in_app(app, sf.feeds.follow),
        "interval",
        seconds=sf.config.get("record_feed_seconds", 10),
        id="follow-record-feeds",
        name="Read the change feeds of outside record sources",
        coalesce=True,
        max_instances=1,
    )
    return scheduler


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
