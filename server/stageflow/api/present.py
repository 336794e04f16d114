"""Runs, stages, steps, work items and events as the API (and the CLI) show them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import peewee

from ..models import Definition, DefinitionVersion, Event, Run, StageRun, StepRun, User, WorkItem


def iso(moment: dt.datetime | None) -> str | None:
    """An aware datetime as ISO 8601 text (None stays None)."""
    return moment.isoformat() if moment is not None else None


def runs_query() -> peewee.ModelSelect:
    """Runs with their orchestration's name and version and who started them, joined."""
    return (
        Run.select(
            Run,
            DefinitionVersion.id,
            DefinitionVersion.version,
            DefinitionVersion.definition,
            Definition.id,
            Definition.name,
            User.id,
            User.name,
        )
        .join(DefinitionVersion, on=Run.orchestration == DefinitionVersion.id)
        .join(Definition, on=DefinitionVersion.definition == Definition.id)
        .switch(Run)
        .join(User, peewee.JOIN.LEFT_OUTER, on=Run.started_by == User.id)
    )


def run_summary(run: Run) -> dict[str, Any]:
    """A run without its parts (a row of ``runs_query``)."""
    version = run.orchestration
    return {
        "id": run.id,
        "orchestration": version.definition.name,
        "version": version.version,
        "status": run.status,
        "inputs": run.inputs,
        "record": (
            {"object": run.record_object, "id": run.record_id} if run.record_object else None
        ),
        "started_by": run.started_by.name if run.started_by_id else None,
        "restarted_from": run.restarted_from_id,
        "started_at": iso(run.started_at),
        "updated_at": iso(run.updated_at),
        "finished_at": iso(run.finished_at),
    }


def run_detail(run: Run) -> dict[str, Any]:
    """A run with its stages, their steps, and each step's work items."""
    items: dict[int, list[dict[str, Any]]] = {}
    for item in WorkItem.select().where(WorkItem.run == run.id).order_by(WorkItem.id):
        items.setdefault(item.step_run_id, []).append(work_item(item))
    steps: dict[int, list[dict[str, Any]]] = {}
    for step in StepRun.select().where(StepRun.run == run.id).order_by(StepRun.id):
        steps.setdefault(step.stage_run_id, []).append(
            {
                "name": step.name,
                "status": step.status,
                "attempt": step.attempt,
                "outputs": step.outputs,
                "error": step.error,
                "child_run": step.child_run_id,
                "started_at": iso(step.started_at),
                "finished_at": iso(step.finished_at),
                "work_items": items.get(step.id, []),
            }
        )
    stages = [
        {
            "name": stage.name,
            "status": stage.status,
            "started_at": iso(stage.started_at),
            "finished_at": iso(stage.finished_at),
            "steps": steps.get(stage.id, []),
        }
        for stage in StageRun.select().where(StageRun.run == run.id).order_by(StageRun.position)
    ]
    return {**run_summary(run), "outputs": run.outputs, "stages": stages}


def work_item(item: WorkItem) -> dict[str, Any]:
    """A work item as listed in a run."""
    return {
        "id": item.id,
        "status": item.status,
        "assignee": f"{item.assignee_kind}:{item.assignee_name}",
        "due_at": iso(item.due_at),
        "created_at": iso(item.created_at),
        "completed_at": iso(item.completed_at),
    }


def event(row: Event) -> dict[str, Any]:
    """One line of a run's log."""
    return {
        "id": row.id,
        "at": iso(row.at),
        "actor": row.actor,
        "kind": row.kind,
        "subject": row.subject,
        "from": row.from_status,
        "to": row.to_status,
        "reason": row.reason,
        "data": row.data,
    }
