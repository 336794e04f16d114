"""The API's health endpoint and its JSON error shape."""

from __future__ import annotations

import peewee
import pytest
from flask import Flask
from flask.testing import FlaskClient

from stageflow import __version__
from stageflow.db import database


def assert_error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.is_json
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert error["message"]
    return error


def test_health(client: FlaskClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok", "database": "ok", "version": __version__, "workers": 0, "jobs": 0,
    }  # fmt: skip


def test_health_reports_a_database_failure(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise peewee.OperationalError("unable to open database file")

    monkeypatch.setattr(database.obj, "execute_sql", fail)
    response = client.get("/api/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error"
    assert body["database"] == "OperationalError: unable to open database file"


def test_unknown_api_url_is_a_json_404(client: FlaskClient) -> None:
    error = assert_error(client.get("/api/no/such/thing"), 404, "not_found")
    assert error["details"] is None


def test_wrong_method_is_a_json_405_listing_allowed_methods(client: FlaskClient) -> None:
    error = assert_error(client.delete("/api/health"), 405, "method_not_allowed")
    assert "GET" in error["details"]["allowed_methods"]


def test_server_error_is_a_json_500_without_internals(app: Flask) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/api/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    error = assert_error(app.test_client().get("/api/boom"), 500, "internal_server_error")
    assert "secret" not in error["message"]


def test_api_error_from_a_view(app: Flask) -> None:
    from stageflow.api.errors import ApiError

    @app.get("/api/conflict")
    def conflict() -> str:
        raise ApiError(409, "already_completed", "The work item is already completed.", {"id": 3})

    error = assert_error(app.test_client().get("/api/conflict"), 409, "already_completed")
    assert error["details"] == {"id": 3}


def test_pages_outside_the_api_keep_html_errors(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
