"""API authentication and roles: tokens, 401 without a valid one, 403 for non-admins."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support import Api

from stageflow.auth import check_password, find_user, revoke_token, token_hash
from stageflow.db import database
from stageflow.models import ApiToken, User

PUBLIC = {"/api/health", "/api/openapi.json"}


def api_routes(app: Flask) -> list[tuple[str, str, str]]:
    """(method, url with sample arguments, endpoint) of every /api route."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api"):
            continue
        url = re.sub(r"<int:\w+>", "1", rule.rule)
        url = re.sub(r"<(\w+:)?\w+>", "x", url)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((method, url, rule.endpoint))
    return out


def call(client: FlaskClient, method: str, url: str, headers: dict | None = None):  # type: ignore[no-untyped-def]
    body = {} if method != "GET" else None
    return client.open(url, method=method, headers=headers or {}, json=body)


def test_every_private_route_needs_a_token(app: Flask, client: FlaskClient) -> None:
    routes = api_routes(app)
    assert len(routes) > 20
    for method, url, _ in routes:
        response = call(client, method, url)
        if url in PUBLIC:
            assert response.status_code == 200, url
            continue
        assert response.status_code == 401, (method, url)
        assert response.get_json()["error"]["code"] == "unauthorized"
        bad = call(client, method, url, {"Authorization": "Bearer sf_not_a_token"})
        assert bad.status_code == 401 and bad.get_json()["error"]["code"] == "invalid_token"


ADMIN_ONLY = {
    "api.deploy_definitions", "api.activate_orchestration", "api.cancel_run", "api.suspend_run",
    "api.resume_run", "api.restart_run", "api.retry_step", "api.skip_step", "api.complete_stage",
}  # fmt: skip


def test_admin_routes_refuse_other_users(app: Flask, user_api: Api, admin_api: Api) -> None:
    seen = set()
    for method, url, endpoint in api_routes(app):
        if endpoint not in ADMIN_ONLY:
            continue
        seen.add(endpoint)
        response = call(user_api.client, method, url, user_api.headers)
        assert response.status_code == 403, (method, url)
        assert "Only an admin" in response.get_json()["error"]["message"]
        assert call(admin_api.client, method, url, admin_api.headers).status_code != 403
    assert seen == ADMIN_ONLY


def test_bearer_scheme_is_required(client: FlaskClient, tokens: dict[str, str]) -> None:
    assert client.get("/api/runs", headers={"Authorization": tokens["ann"]}).status_code == 401
    basic = client.get("/api/runs", headers={"Authorization": f"Basic {tokens['ann']}"})
    assert basic.status_code == 401
    ok = client.get("/api/runs", headers={"Authorization": f"bearer {tokens['ann']}"})
    assert ok.status_code == 200


def test_revoked_token_and_inactive_user_are_refused(
    app: Flask, user_api: Api, tokens: dict[str, str]
) -> None:
    assert user_api.get("/api/runs").status_code == 200
    with app.app_context(), database.connection_context():
        row = ApiToken.get(ApiToken.token_hash == token_hash(tokens["ann"]))
        assert row.last_used_at is not None  # recorded on use
        revoke_token(find_user("ann"), row.id)
        with pytest.raises(Exception, match="already revoked"):
            revoke_token(find_user("ann"), row.id)
    assert user_api.get("/api/runs").status_code == 401
    bob = Api(user_api.client, tokens["bob"])
    assert bob.get("/api/runs").status_code == 200
    with app.app_context(), database.connection_context():
        User.update(is_active=False).where(User.name == "bob").execute()
    assert bob.get("/api/runs").get_json()["error"]["code"] == "invalid_token"


def test_tokens_and_passwords_are_stored_hashed(app: Flask, tokens: dict[str, str]) -> None:
    with app.app_context(), database.connection_context():
        stored = [row.token_hash for row in ApiToken.select()]
        assert tokens["ann"] not in stored and token_hash(tokens["ann"]) in stored
        ann = find_user("ann")
        assert ann.password_hash.startswith("scrypt:")
        assert check_password(ann, "pw") and not check_password(ann, "nope")
