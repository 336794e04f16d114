"""The durable job queue: jobs are rows written in the transaction that needs them.

A worker *leases* a job (``status = Leased`` until ``leased_until``); when the work is
done, in the same transaction as its effects, the job is deleted.  A worker that dies
leaves its lease to expire, and another worker takes the job again: work runs at least
once, and its effects on Stageflow's state commit exactly once.  On PostgreSQL, workers
claim with ``SELECT … FOR UPDATE SKIP LOCKED``; on SQLite, ``BEGIN IMMEDIATE`` already
lets one writer at a time claim.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import fastsql
from ..db import database, is_sqlite
from ..models import Job
from .states import JobStatus


def row(kind: str, payload: dict[str, Any], *, run_id: int | None, at: dt.datetime) -> dict:
    """A job's row, for writing later with others (see ``fastsql.insert_rows``)."""
    return {"kind": kind, "payload": payload, "run": run_id, "run_at": at, "created_at": at}


_CLAIMABLE = (
    "SELECT id FROM jobs WHERE (status = ? AND run_at <= ?) OR (status = ? AND leased_until < ?)"
    " ORDER BY run_at, id LIMIT ?"
)
_LEASE = (
    "UPDATE jobs SET status = ?, leased_until = ?, lease_owner = ?, attempts = attempts + 1"
    " WHERE id = ?"
)
_TAKE = "DELETE FROM jobs WHERE id = ? AND lease_owner = ? AND status = ?"


def claim(owner: str, now: dt.datetime, lease: dt.timedelta, limit: int = 10) -> list[Job]:
    """Lease up to ``limit`` due jobs (and jobs whose lease expired) to ``owner``."""
    with database.atomic():
        at = Job.run_at.db_value(now)
        select = _CLAIMABLE if is_sqlite() else _CLAIMABLE + " FOR UPDATE SKIP LOCKED"
        params = (JobStatus.QUEUED, at, JobStatus.LEASED, at, limit)
        ids = [row[0] for row in fastsql.execute(select, params)]
        until = Job.run_at.db_value(now + lease)
        for job_id in ids:
            fastsql.execute(_LEASE, (JobStatus.LEASED, until, owner, job_id))
        return [job for job_id in ids for job in fastsql.select_where(Job, Job.id, job_id)]


def take(batch: list[Job], owner: str) -> list[Job]:
    """Remove the jobs ``owner`` still holds, in the transaction doing their work.

    Jobs whose lease was lost (expired and taken by another worker) are left out: their
    work must not be done here.  The removal commits, or rolls back, with the work.
    """
    held = JobStatus.LEASED
    return [job for job in batch if fastsql.execute(_TAKE, (job.id, owner, held)).rowcount == 1]


def finish(job: Job) -> None:
    """Remove a job (its work is committed with this transaction)."""
    Job.delete().where(Job.id == job.id).execute()


def release(job: Job, error: str, retry_at: dt.datetime) -> None:
    """Give a job back to the queue after its work failed unexpectedly."""
    Job.update(
        status=JobStatus.QUEUED, leased_until=None, lease_owner=None, last_error=error,
        run_at=retry_at,
    ).where(Job.id == job.id).execute()  # fmt: skip


def drop_for_steps(run_id: int, step_run_ids: list[int]) -> None:
    """Remove the pending jobs of a run's steps that will no longer run."""
    if not step_run_ids:
        return
    wanted = set(step_run_ids)
    jobs = Job.select(Job.id, Job.payload).where((Job.run == run_id) & (Job.kind == "step"))
    ids = [job.id for job in jobs if job.payload.get("step_run") in wanted]
    if ids:
        Job.delete().where(Job.id.in_(ids)).execute()


def pending_for(run_id: int, step_run_id: int) -> bool:
    """Whether a step has a job waiting to run."""
    jobs = Job.select(Job.payload).where((Job.run == run_id) & (Job.kind == "step"))
    return any(job.payload.get("step_run") == step_run_id for job in jobs)
