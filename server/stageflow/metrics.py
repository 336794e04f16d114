"""What Stageflow measures for monitoring, in Prometheus's text exposition format.

Every figure is one aggregated query (``GROUP BY``, ``COUNT``, ``SUM``): the cost of a
scrape does not grow with the number of runs in Python, only in the database's indexes.
:func:`exposition` writes them as the format's text (version 0.0.4), each metric with
its ``# HELP`` and ``# TYPE`` lines.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import peewee
from peewee import Case, fn

from .db import is_sqlite
from .engine.states import OPEN_WORK, JobStatus, Status
from .models import Job, Run, StepRun, WorkItem

#: The Content-Type of the text format.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: The upper bounds (seconds) of the step duration histogram's buckets: background steps
#: take moments, people's steps minutes to days.
DURATION_BUCKETS = (0.1, 1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600)

#: How far back the step duration histogram looks.
DURATION_WINDOW = dt.timedelta(days=1)

#: The kinds of assignee a work item has (the label values always written).
ASSIGNEE_KINDS = ("user", "queue", "group")


@dataclass(frozen=True)
class Sample:
    """One line of a metric: a name suffix (``_bucket``…), labels and a value."""

    labels: Mapping[str, str]
    value: float
    suffix: str = ""


@dataclass(frozen=True)
class Metric:
    """A metric family: name, help text, type (gauge, histogram…) and its samples."""

    name: str
    help: str
    type: str
    samples: list[Sample] = field(default_factory=list)


# -- the figures -------------------------------------------------------------------------


def counted(query: peewee.Query, column: peewee.Field, label: str,
            names: Iterable[str]) -> list[Sample]:  # fmt: skip
    """One sample per value of ``column`` (every one of ``names``, 0 if absent, and any
    other the table holds), counted by one ``GROUP BY`` query."""
    counts = dict.fromkeys(map(str, names), 0)
    grouped = query.select(column, fn.COUNT(peewee.SQL("*"))).group_by(column)
    for value, number in grouped.tuples():
        counts[str(value)] = number
    return [Sample({label: name}, number) for name, number in counts.items()]


def runs_by_status() -> Metric:
    """How many runs there are in each status."""
    samples = counted(Run.select(), Run.status, "status", Status)
    return Metric("stageflow_runs", "Runs by status.", "gauge", samples)


def open_work_items() -> Metric:
    """How many work items are open (assigned or in progress), by kind of assignee."""
    query = WorkItem.select().where(WorkItem.status.in_(OPEN_WORK))
    samples = counted(query, WorkItem.assignee_kind, "assignee_kind", ASSIGNEE_KINDS)
    return Metric("stageflow_work_items_open",
                  "Open work items (Assigned or InProgress) by kind of assignee.",
                  "gauge", samples)  # fmt: skip


def jobs_by_status() -> Metric:
    """How many jobs of the durable job queue are in each status."""
    samples = counted(Job.select(), Job.status, "status", JobStatus)
    return Metric("stageflow_jobs", "Background jobs by status.", "gauge", samples)


def overdue_work_items(now: dt.datetime) -> Metric:
    """How many open work items are past their due time at ``now``."""
    overdue = WorkItem.status.in_(OPEN_WORK) & (WorkItem.due_at < now)
    number = WorkItem.select().where(overdue).count()
    return Metric("stageflow_work_items_overdue", "Open work items past their due time.",
                  "gauge", [Sample({}, number)])  # fmt: skip


def seconds_between(start: peewee.Field, end: peewee.Field) -> peewee.Node:
    """The seconds from ``start`` to ``end``, in the database's own date arithmetic."""
    if is_sqlite():
        return (fn.julianday(end) - fn.julianday(start)) * 86400.0
    return fn.date_part("epoch", end - start)


def step_durations(now: dt.datetime, buckets: Sequence[float] = DURATION_BUCKETS) -> Metric:
    """A histogram of how long the steps completed in the last day took (start to end),
    counted in one query: a ``SUM(CASE …)`` per bucket."""
    seconds = seconds_between(StepRun.started_at, StepRun.finished_at)
    columns = [fn.COUNT(StepRun.id), fn.SUM(seconds)]
    columns += [fn.SUM(Case(None, [(seconds <= bound, 1)], 0)) for bound in buckets]
    row = (
        StepRun.select(*columns)
        .where(
            (StepRun.status == Status.COMPLETED)
            & (StepRun.finished_at >= now - DURATION_WINDOW)
            & StepRun.started_at.is_null(False)
        )
        .tuples()
        .get()
    )
    count, total, *in_buckets = (value or 0 for value in row)
    samples = [Sample({"le": number_text(bound)}, number, "_bucket")
               for bound, number in zip(buckets, in_buckets, strict=True)]  # fmt: skip
    samples += [
        Sample({"le": "+Inf"}, count, "_bucket"),
        Sample({}, float(total), "_sum"),
        Sample({}, count, "_count"),
    ]
    return Metric("stageflow_step_duration_seconds",
                  "How long steps completed in the last day took, from start to end.",
                  "histogram", samples)  # fmt: skip


def collect(now: dt.datetime) -> list[Metric]:
    """Every metric, measured at ``now``."""
    return [runs_by_status(), open_work_items(), jobs_by_status(), step_durations(now),
            overdue_work_items(now)]  # fmt: skip


# -- the text format ---------------------------------------------------------------------


def exposition(metrics: Iterable[Metric]) -> str:
    """The metrics in Prometheus's text format, a newline at the end."""
    return "".join(line + "\n" for metric in metrics for line in metric_lines(metric))


def metric_lines(metric: Metric) -> Iterator[str]:
    """A metric's ``# HELP`` and ``# TYPE`` lines, then one line per sample."""
    yield f"# HELP {metric.name} {escape_help(metric.help)}"
    yield f"# TYPE {metric.name} {metric.type}"
    for sample in metric.samples:
        yield f"{metric.name}{sample.suffix}{label_text(sample.labels)} {number_text(sample.value)}"


def label_text(labels: Mapping[str, str]) -> str:
    """A sample's labels: ``{status="Completed"}``, or nothing when it has none."""
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{escape_label(value)}"' for name, value in labels.items()) + "}"


def escape_help(text: str) -> str:
    """Help text as the format writes it: backslashes and newlines escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def escape_label(value: str) -> str:
    """A label value as the format writes it: backslashes, quotes and newlines escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number_text(value: Any) -> str:
    """A sample value: whole numbers without a point, others as Python writes floats."""
    number = float(value)
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)
