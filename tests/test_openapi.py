"""``/api/openapi.json``: generated from the code, complete, and a valid OpenAPI document."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate


def test_every_api_route_is_documented(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")  # public: no token needed
    assert response.status_code == 200
    document = response.get_json()
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert routes == documented
    for path, method in routes:
        assert "undocumented" not in document["paths"][path][method]["summary"], (path, method)


def test_the_document_is_valid_openapi(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["security"] == [{"bearer": []}]


def test_operations_describe_access_bodies_and_errors(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert paths["/api/health"]["get"]["security"] == []
    launch = paths["/api/orchestrations/{name}/runs"]["post"]
    assert "security" not in launch  # the document-wide bearer requirement applies
    body = launch["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["record"]["required"] == ["object", "id"]
    assert {"201", "400", "401", "404"} <= set(launch["responses"])
    deploy = paths["/api/definitions"]["post"]
    assert "application/yaml" in deploy["requestBody"]["content"]
    assert "403" in deploy["responses"]
    runs = paths["/api/runs"]["get"]
    assert {p["name"] for p in runs["parameters"]} >= {"limit", "cursor", "status"}
    retry = paths["/api/runs/{run_id}/steps/{step}/retry"]["post"]
    assert [p["name"] for p in retry["parameters"] if p["in"] == "path"] == ["run_id", "step"]
