"""Trigger benchmark: what record triggers add to a record update.

    python bench/triggers.py [--updates 3000] [--repeat 3] [--database sqlite:///path]

Updates records through the record layer the REST API uses (``RecordService.update``,
on behalf of a user, so with the access check) and through the REST API itself (the
Flask test client, token and JSON included), first with no orchestration active, then
with 20 active record-triggered orchestrations on the object.  Of the 20, one's
condition holds for every update (``only_when_changed``, so after its first run it
starts nothing more: what is measured is the triggers' evaluation); the other 19 do not
hold; the run it started has completed (so no run in progress hears of the updates).
Every update is its own transaction on a real SQLite file; the two set-ups alternate
``--repeat`` times and the best rate of each counts.  It prints updates
per second for both and the cost of the triggers as a share of an update's time; then,
for scale, updates that each start a run (the matching trigger without
``only_when_changed``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from stageflow.app import create_app
from stageflow.auth import create_user, issue_token
from stageflow.core import Stageflow
from stageflow.db import database
from stageflow.definitions.deploy import deploy_sources
from stageflow.definitions.store import activate, deactivate

OBJECT = """
kind: object
name: Ticket
fields:
  - {name: Subject, type: text}
  - {name: Status, type: picklist, values: [New, Open, Closed]}
  - {name: Score, type: number}
  - {name: Region, type: text}
---
kind: flow
name: note
type: log
message: triggered
"""


def orchestration(name: str, condition: str, only_when_changed: bool) -> str:
    return f"""---
kind: orchestration
name: {name}
trigger:
  type: record
  object: Ticket
  when: created_or_updated
  condition: '{condition}'
  only_when_changed: {"true" if only_when_changed else "false"}
stages:
  - name: only
    steps:
      - {{name: note, flow: note}}
"""


TRIGGERS = orchestration("t00_matching", 'ISPICKVAL(Status, "Open")', True) + "".join(
    orchestration(f"t{i:02}", f'AND(Score > {1000 + i}, Region = "r{i}")', False)
    for i in range(1, 20)
)
EVERY_UPDATE = orchestration("starts_a_run", 'ISPICKVAL(Status, "Open")', False)


def rate(update: Callable[[str, int], None], ids: list[str], rounds: int) -> float:
    """Updates per second: ``rounds`` passes over ``ids``, changing Score each time."""
    start = time.perf_counter()
    count = 0
    for round_ in range(rounds):
        for record_id in ids:
            update(record_id, round_)
            count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--database", default="")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="stageflow-bench-"))
    url = args.database or f"sqlite:///{folder / 'bench.db'}"
    app = create_app({"database_url": url, "instance_dir": str(folder), "workers": 0})
    with app.app_context():
        database.connect(reuse_if_open=True)
        sf: Stageflow = app.extensions["stageflow"]
        user = create_user("bench", admin=True)
        token = issue_token(user)[1]
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}

        def deploy(text: str) -> None:
            deploy_sources([("bench.yaml", text)], step_types=sf.registry.step_types,
                           activate=True)  # fmt: skip

        deploy(OBJECT)
        ids = [sf.records.create("Ticket", {"Subject": f"t{i}", "Status": "Open"}, user=user)["Id"]
               for i in range(100)]  # fmt: skip
        rounds = max(1, args.updates // len(ids))

        def through_records(record_id: str, n: int) -> None:
            sf.records.update("Ticket", record_id, {"Score": n}, user=user)

        def through_api(record_id: str, n: int) -> None:
            response = client.patch(f"/api/records/Ticket/{record_id}", json={"Score": n},
                                    headers=headers)  # fmt: skip
            assert response.status_code == 200, response.json

        names = ["t00_matching", *(f"t{i:02}" for i in range(1, 20))]
        deploy(TRIGGERS)
        rate(through_records, ids, 1)  # each record's one run of t00_matching starts here
        sf.engine.run_until_idle()  # and completes, as workers would finish it
        layers = {"records": through_records, "api": through_api}
        plain = dict.fromkeys(layers, 0.0)
        triggered = dict.fromkeys(layers, 0.0)
        for _ in range(args.repeat):  # alternate, keep the best of each: less noise
            for name in names:
                deactivate("orchestration", name)
            for layer, update in layers.items():
                plain[layer] = max(plain[layer], rate(update, ids, rounds))
            for name in names:
                activate("orchestration", name, None)
            for layer, update in layers.items():
                triggered[layer] = max(triggered[layer], rate(update, ids, rounds))
        for name in names:
            deactivate("orchestration", name)
        deploy(EVERY_UPDATE)
        with_runs = rate(through_records, ids, rounds)
    print(f"database: SQLite file; {rounds * len(ids)} updates per figure, one transaction each")
    for layer, label in (("records", "record layer (RecordService.update)"),
                         ("api", "REST API (PATCH, test client)")):  # fmt: skip
        cost = plain[layer] / triggered[layer] - 1
        print(f"{label}: no triggers {plain[layer]:,.0f}/s; 20 triggers (1 matching) "
              f"{triggered[layer]:,.0f}/s; triggers cost {cost:.0%} of an update")  # fmt: skip
    print(f"updates that each start a run (record layer): {with_runs:,.0f}/s")


if __name__ == "__main__":
    main()
