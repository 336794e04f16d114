"""The Work Guide of a record's page: the record's runs as checklists of stages and
steps, with the signed-in user's open work items on it, each with its form to complete
in place (or a button to claim it from a queue or group).

The checklist comes from the work service (:meth:`stageflow.work.WorkService.guide`);
the forms are those of the work item page (:mod:`.work_forms`), posted to the item's
complete route with ``next`` back to the record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import g

from ..core import current
from .work_forms import WorkForm, work_form

#: A checklist's mark of each status (the status is written next to it as well).
MARKS = {
    "Completed": "✓",
    "InProgress": "▸",
    "NotStarted": "○",
    "Skipped": "↷",
    "Discontinued": "–",
    "Canceled": "✕",
    "Suspended": "Ⅱ",
    "Error": "!",
}

#: Runs whose checklist is folded away: nothing will happen in them any more.
FOLDED = frozenset({"Completed", "Skipped", "Discontinued", "Canceled"})


@dataclass(frozen=True)
class WorkGuide:
    """A record's runs (newest first, as the work service gives them) and the forms of
    the user's open items on it, by item id."""

    runs: list[dict[str, Any]]
    forms: dict[int, WorkForm] = field(default_factory=dict)

    def items(self) -> Iterator[Mapping[str, Any]]:
        """The user's open items on the record, run by run, stage by stage."""
        for run in self.runs:
            for stage in run["stages"]:
                for step in stage["steps"]:
                    yield from step["items"]

    @property
    def open_items(self) -> int:
        """How many open items of the user's the record has."""
        return sum(1 for _ in self.items())

    @property
    def has_errors(self) -> bool:
        """Whether a form of the guide was sent and refused."""
        return any(form.has_errors for form in self.forms.values())

    @staticmethod
    def mark(status: str) -> str:
        """The checklist mark of a status."""
        return MARKS.get(status, "·")

    @staticmethod
    def unfolded(run: Mapping[str, Any]) -> bool:
        """Whether a run's checklist is shown open: while the run is not over."""
        return run["status"] not in FOLDED


def work_guide(object_name: str, record_id: str, refused: WorkForm | None = None) -> WorkGuide:
    """The Work Guide of a record for the signed-in user; ``refused`` is a form of it
    that was sent and refused, shown with its errors in place of the blank one."""
    guide = WorkGuide(current().work.guide(object_name, record_id, g.user))
    for item in guide.items():
        if item["actions"]["complete"] and item.get("form") is not None:
            if refused is not None and refused.item_id == item["id"]:
                guide.forms[item["id"]] = refused
            else:
                guide.forms[item["id"]] = work_form(item)
    return guide
