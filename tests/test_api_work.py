"""Work items through the API: lists, claim, release, complete, reassign — with bad
input and with the users who must be refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support import Api

from stageflow.app import create_app
from stageflow.auth import issue_token
from stageflow.clock import FixedClock
from stageflow.db import database
from stageflow.models import Run, User, WorkItem

DEFINITIONS = """
kind: directory
users:
  - {name: carl, manager: bob}
  - {name: dora}
queues:
  - {name: tier2, members: [bob, carl]}
groups:
  - {name: leads, members: [ann]}
---
kind: object
name: Case
fields:
  - {name: Subject, type: text, required: true}
  - {name: Severity, type: picklist, values: [Minor, Major]}
---
kind: flow
name: triage_form
type: form
label: Triage the case
fields:
  - {name: severity, type: picklist, values: [Minor, Major], required: true}
  - {name: notes, type: textarea, required: "=severity = 'Major'"}
  - {name: subject, type: text, default: "=Subject"}
update_record: {Severity: severity}
---
kind: flow
name: sign_off
type: approval
instructions: Sign the fix off
---
kind: orchestration
name: handle
object: Case
stages:
  - name: triage
    steps:
      - {name: triage, flow: triage_form, assignee: '"user:ann"'}
  - name: approve
    entry: $Steps.triage.severity = "Major"
    steps:
      - {name: approve, flow: sign_off, assignee: '"queue:tier2"'}
---
kind: orchestration
name: escalate
object: Case
stages:
  - name: one
    steps:
      - {name: boss, flow: sign_off, assignee: '"manager:carl"'}
      - {name: nobody, flow: sign_off, assignee: '"user:ghost"'}
"""


@pytest.fixture
def app(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Flask]:
    app = create_app({"database_url": database_url, "instance_dir": str(tmp_path / "i"),
                      "TESTING": True}, clock=clock)  # fmt: skip
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def apis(app: Flask, client: FlaskClient, tokens: dict[str, str]) -> dict[str, Api]:
    root = Api(client, tokens["root"])
    assert root.deploy(DEFINITIONS).status_code == 201
    with app.app_context(), database.connection_context():
        extra = {name: issue_token(User.get(User.name == name))[1] for name in ("carl", "dora")}
    return {name: Api(client, token) for name, token in {**tokens, **extra}.items()} | {
        "anon": Api(client, None)
    }


def launch(app: Flask, api: Api, orchestration: str = "handle") -> int:
    case = api.post("/api/records/Case", json={"Subject": "Printer on fire"}).json["Id"]
    run = api.post(f"/api/orchestrations/{orchestration}/runs",
                   json={"record": {"object": "Case", "id": case}})  # fmt: skip
    assert run.status_code == 201, run.json
    with app.app_context(), database.connection_context():
        app.extensions["stageflow"].engine.run_until_idle()
    return run.json["id"]


def item_of(app: Flask, run_id: int, status: str = "Assigned") -> int:
    with app.app_context(), database.connection_context():
        return WorkItem.get((WorkItem.run == run_id) & (WorkItem.status == status)).id


def test_lists_show_each_user_their_work(app: Flask, apis: dict[str, Api]) -> None:
    run_id = launch(app, apis["root"])
    item = item_of(app, run_id)
    mine = apis["ann"].get("/api/work-items").json
    assert [i["id"] for i in mine["items"]] == [item] and mine["total"] == 1
    shown = mine["items"][0]
    assert (shown["label"], shown["stage"], shown["orchestration"]) == (
        "Triage the case", "triage", "handle")  # fmt: skip
    assert shown["record"]["title"] == "Printer on fire"
    assert shown["actions"] == {"claim": False, "release": False, "complete": True,
                                "reassign": True}  # fmt: skip
    assert apis["bob"].get("/api/work-items").json["items"] == []
    assert apis["bob"].get("/api/work-items?scope=queues").json["items"] == []
    assert len(apis["root"].get("/api/work-items?scope=all").json["items"]) == 1
    for url, code in (("/api/work-items?scope=all", 403), ("/api/work-items?scope=everyone", 400),
                      ("/api/work-items?status=maybe", 400), ("/api/work-items?cursor=zz", 400),
                      ("/api/work-items?limit=0", 400)):  # fmt: skip
        assert apis["bob"].get(url).status_code == code, url
    assert apis["anon"].get("/api/work-items").status_code == 401


def test_get_shows_the_form_with_defaults_to_those_who_may_see_it(
    app: Flask, apis: dict[str, Api]
) -> None:
    item = item_of(app, launch(app, apis["root"]))
    shown = apis["ann"].get(f"/api/work-items/{item}").json
    assert shown["form"]["type"] == "form"
    assert [f["name"] for f in shown["form"]["fields"]] == ["severity", "notes", "subject"]
    assert shown["form"]["values"] == {"subject": "Printer on fire"}
    assert apis["bob"].get(f"/api/work-items/{item}").status_code == 403
    assert apis["ann"].get("/api/work-items/999").status_code == 404
    assert apis["anon"].get(f"/api/work-items/{item}").status_code == 401


def test_complete_validates_then_moves_the_run_on(app: Flask, apis: dict[str, Api]) -> None:
    run_id = launch(app, apis["root"])
    item = item_of(app, run_id)
    ann = apis["ann"]
    missing = ann.post(f"/api/work-items/{item}/complete", json={"outputs": {}})
    assert missing.status_code == 400
    assert missing.json["error"]["details"] == {"severity": "is required"}
    major = ann.post(f"/api/work-items/{item}/complete", json={"outputs": {"severity": "Major"}})
    assert major.json["error"]["details"] == {"notes": "is required"}
    assert ann.post(f"/api/work-items/{item}/complete", json={}).status_code == 400  # no outputs
    assert apis["bob"].post(f"/api/work-items/{item}/complete",
                            json={"outputs": {"severity": "Minor"}}).status_code == 403  # fmt: skip
    assert ann.get(f"/api/work-items/{item}").json["status"] == "Assigned"  # nothing changed

    done = ann.post(f"/api/work-items/{item}/complete",
                    json={"outputs": {"severity": "Major", "notes": "smoke"}})  # fmt: skip
    assert done.status_code == 200, done.json
    assert (done.json["status"], done.json["completed_by"]) == ("Completed", "ann")
    again = ann.post(f"/api/work-items/{item}/complete",
                     json={"outputs": {"severity": "Major", "notes": "smoke"}})  # fmt: skip
    assert again.status_code == 409 and "already Completed" in again.json["error"]["message"]
    run = apis["root"].get(f"/api/runs/{run_id}").json
    assert run["stages"][0]["steps"][0]["outputs"]["severity"] == "Major"
    case = apis["root"].get(f"/api/records/Case/{run['record']['id']}").json
    assert case["Severity"] == "Major"  # the form's update_record
    assert [i["id"] for i in ann.get("/api/work-items?status=completed").json["items"]] == [item]
    # The next stage's item is the queue's: both members see it, the others do not.
    approval = item_of(app, run_id)
    assert [i["id"] for i in apis["bob"].get("/api/work-items?scope=queues").json["items"]] == [
        approval
    ]
    assert apis["carl"].get(f"/api/work-items/{approval}").status_code == 200
    assert apis["dora"].get(f"/api/work-items/{approval}").status_code == 403


def test_a_queue_item_is_claimed_by_one_member(app: Flask, apis: dict[str, Api]) -> None:
    run_id = launch(app, apis["root"])
    apis["ann"].post(f"/api/work-items/{item_of(app, run_id)}/complete",
                     json={"outputs": {"severity": "Major", "notes": "x"}})  # fmt: skip
    approval = item_of(app, run_id)
    bob, carl = apis["bob"], apis["carl"]
    assert apis["dora"].post(f"/api/work-items/{approval}/claim").status_code == 403
    claimed = bob.post(f"/api/work-items/{approval}/claim")
    assert claimed.status_code == 200 and claimed.json["claimed_by"] == "bob"
    refused = carl.post(f"/api/work-items/{approval}/claim")
    assert refused.status_code == 409 and "claimed by bob" in refused.json["error"]["message"]
    assert carl.post(f"/api/work-items/{approval}/release").status_code == 403
    assert carl.post(f"/api/work-items/{approval}/complete",
                     json={"outputs": {"decision": "Approved"}}).status_code == 403  # fmt: skip
    assert [i["id"] for i in bob.get("/api/work-items").json["items"]] == [approval]
    assert bob.post(f"/api/work-items/{approval}/release").json["claimed_by"] is None
    assert bob.post(f"/api/work-items/{approval}/release").status_code == 409
    assert carl.post(f"/api/work-items/{approval}/claim").status_code == 200
    rejected = carl.post(f"/api/work-items/{approval}/complete",
                         json={"outputs": {"decision": "Rejected"}})  # fmt: skip
    assert rejected.json["error"]["details"] == {"comment": "say why the request is rejected"}
    approved = carl.post(f"/api/work-items/{approval}/complete",
                         json={"outputs": {"decision": "Approved"}})  # fmt: skip
    assert approved.status_code == 200
    assert apis["root"].get(f"/api/runs/{run_id}").json["status"] == "Completed"
    assert bob.post(f"/api/work-items/{approval}/claim").status_code == 409


def test_reassign_checks_the_target_and_who_asks(app: Flask, apis: dict[str, Api]) -> None:
    run_id = launch(app, apis["root"])
    item = item_of(app, run_id)
    ann, bob = apis["ann"], apis["bob"]
    assert bob.post(f"/api/work-items/{item}/reassign", json={"to": "user:bob"}).status_code == 403
    for bad, code in (({"to": "user:ghost"}, 400), ({"to": "team:x"}, 400), ({}, 400),
                      ({"to": "user:carl", "force": True}, 403)):  # fmt: skip
        assert ann.post(f"/api/work-items/{item}/reassign", json=bad).status_code == code, bad
    # Case is private and root owns it: bob cannot open it, so the item may not go to him.
    refused = ann.post(f"/api/work-items/{item}/reassign", json={"to": "user:bob"})
    assert refused.status_code == 409
    assert "bob may not read it" in refused.json["error"]["message"]
    assert ann.get(f"/api/work-items/{item}").json["assignee"] == "user:ann"
    # An admin may force it; the run's log says who, from whom, to whom and why.
    to_bob = {"to": "user:bob", "reason": "on leave", "force": True}
    forced = apis["root"].post(f"/api/work-items/{item}/reassign", json=to_bob)
    assert forced.status_code == 200 and forced.json["assignee"] == "user:bob"
    events = apis["root"].get(f"/api/runs/{run_id}/events").json["items"]
    logged = next(e for e in events if (e["reason"] or "").startswith("reassigned"))
    assert logged["data"] == {"from": "user:ann", "to": "user:bob", "by": "root",
                              "reason": "on leave"}  # fmt: skip
    assert ann.get(f"/api/work-items/{item}").status_code == 403  # no longer hers


def test_bulk_reassign_is_for_admins(app: Flask, apis: dict[str, Api]) -> None:
    items = [item_of(app, launch(app, apis["root"])) for _ in range(2)]
    body: dict[str, Any] = {
        "ids": [*items, 999],
        "to": "group:leads",
        "reason": "rebalance",
        "force": True,
    }  # leads cannot open root's cases: admins may force
    assert apis["ann"].post("/api/work-items/reassign", json=body).status_code == 403
    result = apis["root"].post("/api/work-items/reassign", json=body).json["items"]
    assert [r["ok"] for r in result] == [True, True, False]
    assert result[0]["assignee"] == "group:leads" and "No work item" in result[2]["error"]


def test_assignees_that_cannot_get_work_fail_the_step(app: Flask, apis: dict[str, Api]) -> None:
    run_id = launch(app, apis["root"], "escalate")
    run = apis["root"].get(f"/api/runs/{run_id}").json
    steps = {s["name"]: s for s in run["stages"][0]["steps"]}
    assert steps["boss"]["work_items"][0]["assignee"] == "user:bob"  # carl's manager
    assert steps["nobody"]["status"] == "Error"
    assert "there is no user named 'ghost'" in steps["nobody"]["error"]
    with app.app_context(), database.connection_context():
        assert Run.get_by_id(run_id).status == "Error"


def test_assignees_are_told_of_new_and_reassigned_work(
    app: Flask, apis: dict[str, Api], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="stageflow.notifications")
    item = item_of(app, launch(app, apis["root"]))
    told = [r.getMessage() for r in caplog.records if r.name == "stageflow.notifications"]
    assert len(told) == 1 and told[0].startswith("to ann: New work: Triage the case")
    assert f"/work/{item}" in told[0]
    caplog.clear()
    away = {"to": "queue:tier2", "reason": "ann is away", "force": True}
    apis["root"].post(f"/api/work-items/{item}/reassign", json=away)
    told = [r.getMessage() for r in caplog.records if r.name == "stageflow.notifications"]
    assert len(told) == 1 and told[0].startswith("to bob, carl:") and "ann is away" in told[0]
