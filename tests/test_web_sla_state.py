"""The work pages show an item's SLA state: overdue, due soon, and escalations fired."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_support import make_app

from stageflow.clock import FixedClock


@pytest.mark.parametrize(
    ("overdue", "sla", "shown", "hidden"),
    [
        (False, {"state": "on_track", "level": 0}, [], ["Overdue", "Due soon", "escalated"]),
        (False, {"state": "at_risk", "level": 0}, ["Due soon"], ["Overdue", "escalated"]),
        (True, {"state": "breached", "level": 2}, ["Overdue", "escalated 2×"], ["Due soon"]),
    ],
)
def test_the_due_column_shows_the_sla_state(
    tmp_path: Path, database_url: str, clock: FixedClock, overdue: bool, sla: dict,
    shown: list[str], hidden: list[str],
) -> None:  # fmt: skip
    app = make_app(tmp_path, database_url, clock)
    item = {"due_at": "2026-03-05T14:30:00+00:00", "overdue": overdue, "sla": sla}
    with app.test_request_context():
        macros = app.jinja_env.get_template("work/_parts.html").module
        html = str(macros.due(item))
    assert '<time datetime="2026-03-05T14:30:00+00:00"' in html
    for text in shown:
        assert text in html
    for text in hidden:
        assert text not in html
