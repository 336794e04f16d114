"""Launching runs, reading them, and the admin actions through the REST API."""

from __future__ import annotations

import textwrap

import pytest
from flask import Flask
from support import Api
from test_api_definitions import assert_error

from stageflow.db import database

DEFINITIONS = textwrap.dedent("""
    kind: object
    name: Case
    fields:
      - {name: Subject, type: text, required: true}
      - {name: Status, type: picklist, values: [New, Working, Closed]}
    ---
    kind: object
    name: Note
    fields:
      - {name: Text, type: text}
    ---
    kind: flow
    name: hold
    type: wait
    until: "=ISPICKVAL(Status, 'Closed')"
    ---
    kind: flow
    name: say
    type: log
    message: hello
    ---
    kind: orchestration
    name: handle
    object: Case
    inputs:
      - {name: urgency, type: number}
    stages:
      - name: first
        steps:
          - {name: wait_close, flow: hold}
          - {name: greet, flow: say}
      - name: second
        steps:
          - {name: bye, flow: say}
""")


@pytest.fixture
def case(admin_api: Api) -> str:
    assert admin_api.deploy(DEFINITIONS).status_code == 201
    return admin_api.post("/api/records/Case", {"Subject": "Printer on fire"}).get_json()["Id"]


def launch(api: Api, record_id: str, **body):  # type: ignore[no-untyped-def]
    return api.post("/api/orchestrations/handle/runs",
                    {"record": {"object": "Case", "id": record_id}, **body})  # fmt: skip


def drain(app: Flask) -> None:
    with app.app_context(), database.connection_context():
        app.extensions["stageflow"].engine.run_until_idle()


def test_launch_returns_the_run(user_api: Api, case: str) -> None:
    response = launch(user_api, case, inputs={"urgency": 3})
    assert response.status_code == 201
    run = response.get_json()
    assert run["orchestration"] == "handle" and run["version"] == 1
    assert run["status"] == "InProgress" and run["started_by"] == "ann"
    assert run["inputs"] == {"urgency": 3}
    assert run["record"] == {"object": "Case", "id": case}
    assert [s["name"] for s in run["stages"]] == ["first", "second"]
    steps = run["stages"][0]["steps"]
    assert {s["name"]: s["status"] for s in steps} == {"wait_close": "InProgress",
                                                       "greet": "InProgress"}  # fmt: skip
    assert set(steps[0]) >= {"status", "attempt", "outputs", "error", "work_items"}
    assert launch(user_api, int(case)).status_code == 201  # numeric ids are accepted


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [
        ({"inputs": {"nope": 1}}, 400, "bad_request", "unknown input 'nope'"),
        ({"inputs": {"urgency": "high"}}, 400, "bad_request", "input 'urgency'"),
        ({"inputs": []}, 400, "invalid_body", "inputs: must be a JSON object"),
        ({"record": {"object": "Case"}}, 400, "invalid_body", "record.id: is required"),
        ({"record": {"object": "Note", "id": "1"}}, 400, "bad_request", "runs on Case records"),
        ({"record": {"object": "Case", "id": "999"}}, 404, "not_found", "No Case record"),
        ({}, 400, "bad_request", "needs a Case record"),
        ({"priority": 1}, 400, "invalid_body", "unknown field"),
    ],
)
def test_launch_refuses_bad_input(user_api: Api, case: str, body, status, code, words) -> None:  # type: ignore[no-untyped-def]
    response = user_api.post("/api/orchestrations/handle/runs", body)
    assert words in assert_error(response, status, code)["message"]
    assert user_api.get("/api/runs").get_json()["items"] == []


def test_launch_unknown_orchestration_is_404(user_api: Api) -> None:
    assert_error(user_api.post("/api/orchestrations/nope/runs", {}), 404, "not_found")


def test_runs_list_filters_paginates_and_hides_other_users_runs(
    admin_api: Api, user_api: Api, tokens: dict[str, str], case: str
) -> None:
    mine = [launch(user_api, case).get_json()["id"] for _ in range(5)]
    bob = Api(user_api.client, tokens["bob"])
    theirs = launch(bob, case).get_json()["id"]

    seen, cursor = [], None
    while True:
        args = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = user_api.get("/api/runs", query_string=args).get_json()
        assert len(page["items"]) <= 2
        seen += [run["id"] for run in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == sorted(mine, reverse=True)  # newest first, only ann's own runs
    assert [r["id"] for r in admin_api.get("/api/runs?limit=1").get_json()["items"]] == [theirs]

    admin_api.post(f"/api/runs/{mine[0]}/cancel", {"reason": "duplicate"})
    only = admin_api.get("/api/runs", query_string={"status": "Canceled"}).get_json()["items"]
    assert [r["id"] for r in only] == [mine[0]]
    filtered = admin_api.get(
        "/api/runs",
        query_string={"orchestration": "handle", "record_object": "Case", "record_id": case},
    ).get_json()
    assert len(filtered["items"]) == 6
    assert admin_api.get("/api/runs?orchestration=other").get_json()["items"] == []

    assert_error(user_api.get("/api/runs?limit=0"), 400, "invalid_query")
    assert_error(user_api.get("/api/runs?limit=500"), 400, "invalid_query")
    assert_error(user_api.get("/api/runs?limit=x"), 400, "invalid_query")
    assert_error(user_api.get("/api/runs?cursor=@@@"), 400, "invalid_query")
    assert_error(user_api.get("/api/runs?status=Done"), 400, "invalid_query")
    assert_error(user_api.get("/api/runs?colour=red"), 400, "invalid_query")


def test_run_detail_and_events_are_for_the_starter_or_admins(
    admin_api: Api, user_api: Api, tokens: dict[str, str], case: str
) -> None:
    run_id = launch(user_api, case).get_json()["id"]
    assert user_api.get(f"/api/runs/{run_id}").get_json()["id"] == run_id
    assert admin_api.get(f"/api/runs/{run_id}").status_code == 200
    bob = Api(user_api.client, tokens["bob"])
    assert_error(bob.get(f"/api/runs/{run_id}"), 403, "forbidden")
    assert_error(bob.get(f"/api/runs/{run_id}/events"), 403, "forbidden")
    assert_error(user_api.get("/api/runs/999"), 404, "not_found")

    first = user_api.get(f"/api/runs/{run_id}/events?limit=2").get_json()
    assert [e["kind"] for e in first["items"]] == ["run", "stage"]
    assert first["items"][0] | {"id": 0, "at": ""} == {
        "id": 0, "at": "", "actor": "ann", "kind": "run", "subject": None,
        "from": "NotStarted", "to": "InProgress", "reason": "launched", "data": None,
    }  # fmt: skip
    rest = user_api.get(f"/api/runs/{run_id}/events", query_string={"cursor": first["next"]})
    assert rest.get_json()["items"][0]["id"] > first["items"][-1]["id"]


def test_admin_actions(app: Flask, admin_api: Api, case: str) -> None:
    run_id = launch(admin_api, case).get_json()["id"]
    drain(app)
    url = f"/api/runs/{run_id}"
    suspended = admin_api.post(f"{url}/suspend", {"reason": "hold on"})
    assert suspended.get_json()["status"] == "Suspended"
    assert "Only a run in progress" in assert_error(admin_api.post(f"{url}/suspend"), 409,
                                                    "conflict")["message"]  # fmt: skip
    assert admin_api.post(f"{url}/resume").get_json()["status"] == "InProgress"

    skipped = admin_api.post(f"{url}/steps/wait_close/skip", {"reason": "not needed"}).get_json()
    assert skipped["stages"][0]["status"] == "Completed"
    assert skipped["stages"][0]["steps"][0]["status"] == "Skipped"
    assert_error(admin_api.post(f"{url}/steps/nope/skip"), 404, "not_found")
    assert_error(admin_api.post(f"{url}/steps/greet/retry"), 409, "conflict")
    assert_error(admin_api.post(f"{url}/stages/first/complete"), 409, "conflict")

    done = admin_api.post(f"{url}/stages/second/complete", {"reason": "enough"}).get_json()
    assert done["status"] == "Completed"
    assert_error(admin_api.post(f"{url}/cancel"), 409, "conflict")
    assert_error(admin_api.post(f"{url}/cancel", {"reason": 5}), 400, "invalid_body")

    restarted = admin_api.post(f"{url}/restart")
    assert restarted.status_code == 201
    assert restarted.get_json()["restarted_from"] == run_id
    assert restarted.get_json()["record"] == {"object": "Case", "id": case}
    assert_error(admin_api.post("/api/runs/999/restart"), 404, "not_found")
    events = admin_api.get(f"{url}/events?limit=200").get_json()["items"]
    assert ("root", "step:wait_close", "Skipped", "not needed") in [
        (e["actor"], e["subject"], e["to"], e["reason"]) for e in events
    ]
