"""Every status name Stageflow stores, and the sets of them the engine reasons with.

Runs, stage runs and step runs share one set of statuses (DESIGN.md §4); work items
and jobs have their own. Statuses are stored as their text value, so the names below
are part of the database format and the REST API: rename one only with a migration.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """The status of a run, a stage run or a step run."""

    NOT_STARTED = "NotStarted"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    SKIPPED = "Skipped"
    DISCONTINUED = "Discontinued"
    SUSPENDED = "Suspended"
    CANCELED = "Canceled"
    ERROR = "Error"


#: Never changes again (an admin's restart makes a new run instead).
FINISHED = frozenset({Status.COMPLETED, Status.SKIPPED, Status.DISCONTINUED, Status.CANCELED})
#: The engine moves these on by itself, event by event.
ACTIVE = frozenset({Status.NOT_STARTED, Status.IN_PROGRESS})
#: Stopped until an admin acts: resume a suspended run, retry or skip a failed step.
HALTED = frozenset({Status.SUSPENDED, Status.ERROR})
#: A stage's default exit holds when every one of its steps is in this set.
SATISFIED = frozenset({Status.COMPLETED, Status.SKIPPED})


class WorkItemStatus(StrEnum):
    """The status of a work item, the unit of human work an interactive step creates."""

    ASSIGNED = "Assigned"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    CANCELED = "Canceled"


#: Work items someone still has to do (they show in work lists and can escalate).
OPEN_WORK = frozenset({WorkItemStatus.ASSIGNED, WorkItemStatus.IN_PROGRESS})


class JobStatus(StrEnum):
    """The status of a job in the durable job queue."""

    QUEUED = "Queued"  # waiting for run_at, then for a worker to lease it
    LEASED = "Leased"  # a worker holds it until leased_until
    DONE = "Done"
    FAILED = "Failed"  # attempts exhausted; the engine has recorded the error


#: Jobs a worker may still take: queued ones, and leased ones whose lease expired.
CLAIMABLE_JOBS = frozenset({JobStatus.QUEUED, JobStatus.LEASED})
