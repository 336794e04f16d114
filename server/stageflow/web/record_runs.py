"""The runs of one record, as its page lists them: status, current stage, every stage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..api.present import runs_query
from ..engine.states import FINISHED
from ..models import Run, StageRun


@dataclass(frozen=True)
class StageLine:
    """A stage of a run and its status."""

    name: str
    status: str


@dataclass(frozen=True)
class RunLine:
    """A run of a record: its orchestration, status, current stage and stages in order."""

    id: int
    orchestration: str
    version: int
    status: str
    started_at: dt.datetime
    stages: tuple[StageLine, ...]

    @property
    def current_stage(self) -> str | None:
        """The first stage not yet finished, while the run itself is not finished."""
        if self.status in FINISHED:
            return None
        return next((s.name for s in self.stages if s.status not in FINISHED), None)


def record_runs(object_name: str, record_id: str) -> list[RunLine]:
    """The runs started on a record, newest first, with their stages (two queries)."""
    runs = list(
        runs_query()
        .where((Run.record_object == object_name) & (Run.record_id == str(record_id)))
        .order_by(Run.id.desc())
    )
    stages: dict[int, list[StageLine]] = {}
    if runs:
        rows = StageRun.select(StageRun.run, StageRun.name, StageRun.status).where(
            StageRun.run.in_([run.id for run in runs])
        )
        for row in rows.order_by(StageRun.run, StageRun.position):
            stages.setdefault(row.run_id, []).append(StageLine(row.name, row.status))
    return [
        RunLine(
            id=run.id,
            orchestration=run.orchestration.definition.name,
            version=run.orchestration.version,
            status=run.status,
            started_at=run.started_at,
            stages=tuple(stages.get(run.id, ())),
        )
        for run in runs
    ]
