"""Deploying definitions and managing orchestrations through the REST API."""

from __future__ import annotations

import textwrap

from support import Api

DEFINITIONS = textwrap.dedent("""
    kind: object
    name: Case
    fields:
      - {name: Subject, type: text, required: true}
      - {name: Status, type: picklist, values: [New, Working, Closed]}
    ---
    kind: flow
    name: mark_working
    type: update_record
    set: {Status: Working}
    ---
    kind: orchestration
    name: triage
    label: Triage a case
    object: Case
    stages:
      - name: start
        steps:
          - {name: mark, flow: mark_working}
""")


def assert_error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    return error


def test_deploy_activate_list_and_show(admin_api: Api, user_api: Api) -> None:
    response = admin_api.deploy(DEFINITIONS)
    assert response.status_code == 201
    deployed = {(d["kind"], d["name"]): d for d in response.get_json()["deployed"]}
    assert deployed["orchestration", "triage"] == {
        "kind": "orchestration", "name": "triage", "version": 1, "created": True, "active": True,
    }  # fmt: skip
    again = admin_api.deploy(DEFINITIONS).get_json()["deployed"]
    assert all(not d["created"] for d in again)  # unchanged: no new version

    admin_api.deploy(DEFINITIONS.replace("Triage a case", "Triage"), activate=False)
    listing = user_api.get("/api/orchestrations").get_json()["items"]
    assert listing == [{"name": "triage", "label": "Triage a case", "active_version": 1,
                        "latest_version": 2}]  # fmt: skip
    detail = user_api.get("/api/orchestrations/triage").get_json()
    assert [(v["version"], v["active"]) for v in detail["versions"]] == [(2, False), (1, True)]
    assert "label: Triage\n" in detail["versions"][0]["content"]
    assert detail["versions"][0]["created_by"] == "root"

    response = admin_api.post("/api/orchestrations/triage/activate", {"version": 2})
    assert response.get_json() == {"name": "triage", "active_version": 2}
    assert user_api.get("/api/orchestrations").get_json()["items"][0]["active_version"] == 2


def test_deploy_errors_list_every_problem_and_change_nothing(admin_api: Api) -> None:
    bad = DEFINITIONS.replace("flow: mark_working", "flow: nope").replace(
        "type: update_record", "type: teleport"
    )
    error = assert_error(admin_api.deploy(bad), 400, "invalid_definitions")
    assert len(error["details"]) >= 2
    for item in error["details"]:
        assert item["text"] == f"request.yaml:{item['line']}:{item['column']}: {item['message']}"
    assert any("teleport" in item["message"] for item in error["details"])
    assert admin_api.get("/api/orchestrations").get_json()["items"] == []

    named = admin_api.client.post(
        "/api/definitions?file=cases.yaml",
        data="kind: nonsense\n",
        headers={**admin_api.headers, "Content-Type": "application/yaml"},
    )
    assert assert_error(named, 400, "invalid_definitions")["details"][0]["file"] == "cases.yaml"


def test_deploy_refuses_bad_requests(admin_api: Api) -> None:
    assert_error(admin_api.post("/api/definitions", {"kind": "object"}), 415,
                 "unsupported_media_type")  # fmt: skip
    assert_error(admin_api.deploy(""), 400, "invalid_body")
    assert_error(admin_api.deploy("kind: [unclosed"), 400, "invalid_definitions")
    huge = "# " + "x" * (3 * 1024 * 1024)
    assert_error(admin_api.deploy(huge), 413, "request_entity_too_large")
    yaml = {**admin_api.headers, "Content-Type": "application/yaml"}
    response = admin_api.client.post("/api/definitions?activate=maybe", data=DEFINITIONS,
                                     headers=yaml)  # fmt: skip
    assert assert_error(response, 400, "invalid_query")["details"] == {
        "activate": "must be one of true, false"
    }
    assert admin_api.get("/api/orchestrations").get_json()["items"] == []


def test_activate_refuses_bad_input(admin_api: Api) -> None:
    admin_api.deploy(DEFINITIONS)
    url = "/api/orchestrations/triage/activate"
    assert assert_error(admin_api.post(url, {}), 400, "invalid_body")["details"] == {
        "version": "is required"
    }
    assert assert_error(admin_api.post(url, {"version": "2"}), 400, "invalid_body")["details"] == {
        "version": "must be a whole number"
    }
    assert assert_error(admin_api.post(url, {"version": True}), 400, "invalid_body")
    error = assert_error(admin_api.post(url, {"version": 1, "force": True}), 400, "invalid_body")
    assert "unknown field" in error["details"]["force"]
    bad_json = admin_api.client.post(
        url, data="{version: 1", headers={**admin_api.headers, "Content-Type": "application/json"}
    )
    message = assert_error(bad_json, 400, "invalid_json")["message"]
    assert "not valid JSON at line 1, column 2" in message
    assert_error(admin_api.post(url, {"version": 9}), 404, "not_found")
    assert_error(admin_api.post("/api/orchestrations/nope/activate", {"version": 1}), 404,
                 "not_found")  # fmt: skip
    assert_error(admin_api.get("/api/orchestrations/nope"), 404, "not_found")
