"""Records through the API: triggers start exactly the orchestrations whose conditions
hold, running runs hear of their record's changes, and access rules refuse the rest."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from support import Api

from stageflow.db import database
from stageflow.models import Run

OBJECTS = """
kind: object
name: Account
access: read
fields:
  - {name: Name, type: text, required: true}
  - {name: Tier, type: picklist, values: [Gold, Silver]}
---
kind: object
name: Case
fields:
  - {name: Subject, type: text, required: true}
  - {name: Priority, type: picklist, values: [Low, High]}
  - {name: Status, type: picklist, values: [New, Working, Closed]}
  - {name: Amount, type: number}
  - {name: Account, type: lookup, object: Account}
validations:
  - {condition: "NOT(AND(ISPICKVAL(Status, 'Closed'), ISBLANK(Amount)))",
     message: A closed case needs an amount}
---
kind: flow
name: note
type: log
message: noted
---
kind: flow
name: until_closed
type: wait
until: "=ISPICKVAL(Status, 'Closed')"
"""

TRIGGERS = """
kind: orchestration
name: on_high
trigger:
  type: record
  object: Case
  when: created_or_updated
  condition: ISPICKVAL(Priority, "High")
  only_when_changed: true
stages:
  - name: only
    steps:
      - {name: note, flow: note}
---
kind: orchestration
name: on_create
trigger: {type: record, object: Case, when: created}
stages:
  - name: only
    steps:
      - {name: note, flow: note}
---
kind: orchestration
name: on_amount_change
trigger:
  type: record
  object: Case
  when: updated
  condition: AND(ISCHANGED(Amount), PRIORVALUE(Amount) < Amount)
stages:
  - name: only
    steps:
      - {name: note, flow: note}
---
kind: orchestration
name: on_gold
trigger:
  type: record
  object: Case
  when: created
  condition: ISPICKVAL(Account.Tier, "Gold")
stages:
  - name: only
    steps:
      - {name: note, flow: note}
---
kind: orchestration
name: never
trigger: {type: record, object: Case, when: created_or_updated, condition: Amount > 1000000}
stages:
  - name: only
    steps:
      - {name: note, flow: note}
---
kind: orchestration
name: follow_case
object: Case
stages:
  - name: wait
    steps:
      - {name: closed, flow: until_closed}
---
kind: orchestration
name: gated
object: Case
stages:
  - name: work
    steps:
      - {name: start, flow: note}
      - {name: when_working, flow: note, entry: 'ISPICKVAL(Status, "Working")'}
"""


@pytest.fixture
def api(admin_api: Api) -> Api:
    for text in (OBJECTS, TRIGGERS):
        assert admin_api.deploy(text).status_code == 201, admin_api.deploy(text).json
    return admin_api


def runs_of(app: Flask, case_id: str) -> list[str]:
    """The orchestrations started on a case, in order."""
    with app.app_context(), database.connection_context():
        query = Run.select().where(Run.record_object == "Case", Run.record_id == case_id)
        from stageflow.definitions import store

        return [store.spec_of(r.orchestration_id, "orchestration").name
                for r in query.order_by(Run.id)]  # fmt: skip


def create(api: Api, values: dict[str, Any], object_name: str = "Case") -> str:
    response = api.post(f"/api/records/{object_name}", json=values)
    assert response.status_code == 201, response.json
    return response.json["Id"]


def test_creating_and_updating_start_exactly_the_matching_orchestrations(
    app: Flask, api: Api
) -> None:
    gold = create(api, {"Name": "Acme", "Tier": "Gold"}, "Account")
    low = create(api, {"Subject": "a", "Priority": "Low", "Amount": 5})
    assert runs_of(app, low) == ["on_create"]
    high = create(api, {"Subject": "b", "Priority": "High", "Account": gold})
    assert runs_of(app, high) == ["on_create", "on_gold", "on_high"]

    # only_when_changed: false → true starts, true → true does not.
    assert api.patch(f"/api/records/Case/{low}", json={"Priority": "High"}).status_code == 200
    assert runs_of(app, low) == ["on_create", "on_high"]
    api.patch(f"/api/records/Case/{low}", json={"Subject": "still high"})
    assert runs_of(app, low) == ["on_create", "on_high"]
    # ISCHANGED and PRIORVALUE: only a rising amount starts on_amount_change.
    api.patch(f"/api/records/Case/{low}", json={"Amount": 3})
    assert runs_of(app, low) == ["on_create", "on_high"]
    api.patch(f"/api/records/Case/{low}", json={"Amount": 8})
    assert runs_of(app, low) == ["on_create", "on_high", "on_amount_change"]
    # The runs carry their record and who changed it.
    with app.app_context(), database.connection_context():
        run = Run.select().where(Run.record_id == low).order_by(Run.id.desc()).first()
        assert (run.record_object, run.started_by.name) == ("Case", "root")


def test_a_refused_record_starts_nothing_and_changes_nothing(app: Flask, api: Api) -> None:
    case = create(api, {"Subject": "a", "Priority": "Low"})
    refused = api.patch(f"/api/records/Case/{case}", json={"Status": "Closed", "Priority": "High"})
    assert refused.status_code == 400
    assert refused.json["error"]["details"] == {"_record": "A closed case needs an amount"}
    assert api.get(f"/api/records/Case/{case}").json["Priority"] == "Low"
    assert runs_of(app, case) == ["on_create"]
    bad = api.post("/api/records/Case", json={"Priority": "Urgent"})
    assert bad.status_code == 400
    assert set(bad.json["error"]["details"]) == {"Subject", "Priority"}


def test_a_waiting_step_moves_when_its_record_changes(app: Flask, api: Api) -> None:
    case = create(api, {"Subject": "a", "Priority": "Low"})
    launched = api.post("/api/orchestrations/follow_case/runs",
                        json={"record": {"object": "Case", "id": case}})  # fmt: skip
    assert launched.status_code == 201
    run_id = launched.json["id"]
    with app.app_context(), database.connection_context():
        app.extensions["stageflow"].engine.run_until_idle()
    assert api.get(f"/api/runs/{run_id}").json["status"] == "InProgress"
    api.patch(f"/api/records/Case/{case}", json={"Status": "Closed", "Amount": 1})
    run = api.get(f"/api/runs/{run_id}").json
    assert run["status"] == "Completed"
    events = api.get(f"/api/runs/{run_id}/events").json["items"]
    assert any(e["kind"] == "record" and "changed" in e["reason"] for e in events)


def test_access_private_read_and_shares(app: Flask, api: Api, tokens: dict[str, str]) -> None:
    ann, bob = Api(api.client, tokens["ann"]), Api(api.client, tokens["bob"])
    mine = create(ann, {"Subject": "ann's case"})
    theirs = create(api, {"Subject": "root's case"})
    # Case is private: owners and admins only.
    assert ann.get(f"/api/records/Case/{mine}").json["Owner"] == "ann"
    refused = bob.get(f"/api/records/Case/{mine}")
    assert refused.status_code == 403 and "Subject" not in refused.get_data(as_text=True)
    assert bob.patch(f"/api/records/Case/{mine}", json={"Subject": "mine now"}).status_code == 403
    assert bob.delete(f"/api/records/Case/{mine}").status_code == 403
    assert [r["Id"] for r in ann.get("/api/records/Case").json["items"]] == [mine]
    assert bob.get("/api/records/Case").json["items"] == []
    assert {r["Id"] for r in api.get("/api/records/Case").json["items"]} == {mine, theirs}
    # Account is read: everyone reads, only owners edit.
    account = create(api, {"Name": "Acme"}, "Account")
    assert bob.get(f"/api/records/Account/{account}").status_code == 200
    assert bob.patch(f"/api/records/Account/{account}", json={"Name": "x"}).status_code == 403

    # Shares: only the owner (or an admin) shares; read, then edit.
    share = {"to": "user:bob", "level": "read"}
    assert bob.post(f"/api/records/Case/{mine}/shares", json=share).status_code == 403
    assert ann.post(f"/api/records/Case/{mine}/shares", json=share).status_code == 201
    assert bob.get(f"/api/records/Case/{mine}").status_code == 200
    assert bob.patch(f"/api/records/Case/{mine}", json={"Subject": "x"}).status_code == 403
    ann.post(f"/api/records/Case/{mine}/shares", json={"to": "user:bob", "level": "edit"})
    assert bob.patch(f"/api/records/Case/{mine}", json={"Subject": "x"}).status_code == 200
    assert ann.get(f"/api/records/Case/{mine}/shares").json["items"] == [
        {"to": "user:bob", "level": "edit"}
    ]
    assert ann.delete(f"/api/records/Case/{mine}/shares/user:bob").status_code == 204
    assert ann.delete(f"/api/records/Case/{mine}/shares/user:bob").status_code == 404
    assert bob.get(f"/api/records/Case/{mine}").status_code == 403


def test_shares_to_groups_and_bad_shares(app: Flask, api: Api, tokens: dict[str, str]) -> None:
    ann, bob = Api(api.client, tokens["ann"]), Api(api.client, tokens["bob"])
    mine = create(ann, {"Subject": "ann's case"})
    assert api.deploy("kind: directory\ngroups:\n  - {name: support, members: [bob]}\n"
                      ).status_code == 201  # fmt: skip
    for bad, word in (({"to": "team:x", "level": "read"}, "user:NAME"),
                      ({"to": "user:nobody", "level": "read"}, "no user"),
                      ({"to": "group:support", "level": "own"}, "level")):  # fmt: skip
        response = ann.post(f"/api/records/Case/{mine}/shares", json=bad)
        assert response.status_code == 400 and word in response.json["error"]["message"]
    assert ann.get(f"/api/records/Case/{mine}/shares").json["items"] == []
    ann.post(f"/api/records/Case/{mine}/shares", json={"to": "group:support", "level": "read"})
    assert bob.get(f"/api/records/Case/{mine}").status_code == 200


def test_queries_filter_sort_and_page(app: Flask, api: Api) -> None:
    for i, amount in enumerate([5, 50, 7, 500, 9]):
        create(api, {"Subject": f"s{i}", "Amount": amount, "Priority": "Low"})
    by_amount = api.get("/api/records/Case?sort=-Amount&limit=2")
    assert [r["Amount"] for r in by_amount.json["items"]] == [500, 50]
    rest = api.get(f"/api/records/Case?sort=-Amount&limit=2&cursor={by_amount.json['next']}")
    assert [r["Amount"] for r in rest.json["items"]] == [9, 7]
    assert [r["Subject"] for r in api.get("/api/records/Case?Amount=7").json["items"]] == ["s2"]
    mine = api.get("/api/records/Case?Owner=root&limit=200").json["items"]
    assert len(mine) == 5
    for url, field in (("/api/records/Case?sort=Zed", "sort"), ("/api/records/Case?Zed=1", "Zed"),
                       ("/api/records/Case?Amount=many", "Amount")):  # fmt: skip
        response = api.get(url)
        assert response.status_code == 400 and field in response.json["error"]["details"]
    assert api.get("/api/records/Case?cursor=bogus").status_code == 400
    assert api.get("/api/records/Nothing").status_code == 404


def test_a_step_waiting_on_its_entry_starts_when_the_record_changes(app: Flask, api: Api) -> None:
    case = create(api, {"Subject": "a", "Status": "New"})
    run_id = api.post("/api/orchestrations/gated/runs",
                      json={"record": {"object": "Case", "id": case}}).json["id"]  # fmt: skip
    with app.app_context(), database.connection_context():
        app.extensions["stageflow"].engine.run_until_idle()
    steps = {
        s["name"]: s["status"] for s in api.get(f"/api/runs/{run_id}").json["stages"][0]["steps"]
    }
    assert steps == {"start": "Completed", "when_working": "NotStarted"}
    api.patch(f"/api/records/Case/{case}", json={"Subject": "still new"})  # entry still false
    assert api.get(f"/api/runs/{run_id}").json["status"] == "InProgress"
    api.patch(f"/api/records/Case/{case}", json={"Status": "Working"})
    with app.app_context(), database.connection_context():
        app.extensions["stageflow"].engine.run_until_idle()
    run = api.get(f"/api/runs/{run_id}").json
    assert run["status"] == "Completed"
    assert {s["name"]: s["status"] for s in run["stages"][0]["steps"]} == {
        "start": "Completed", "when_working": "Completed"}  # fmt: skip
