"""Signing in and out of the pages, CSRF protection, and the layout every page shares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from web_support import PASSWORD, Pages, Seeded, make_app, seed, text

from stageflow.auth import issue_token
from stageflow.clock import FixedClock
from stageflow.db import database
from stageflow.models import User


@pytest.fixture
def app(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Flask]:
    app = make_app(tmp_path, database_url, clock)
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def seeded(app: Flask) -> Seeded:
    return seed(app)


@pytest.fixture
def pages(app: Flask, seeded: Seeded) -> Pages:
    return Pages(app.test_client())


@pytest.mark.parametrize("url", ["/records", "/records/Case", "/records/Case/new",
                                 "/records/Case/1", "/records/Nope"])  # fmt: skip
def test_pages_send_anonymous_people_to_login(pages: Pages, url: str) -> None:
    response = pages.get(url)
    assert response.status_code == 302
    assert response.location == f"/login?next={url}"


def test_home_is_my_work(pages: Pages) -> None:
    assert pages.get("/").location == "/work"


def test_login_goes_back_to_the_page_asked_for(pages: Pages) -> None:
    login_page = text(pages.get("/login?next=/records/Case"))
    assert 'name="next" value="/records/Case"' in login_page
    response = pages.post("/login", {"name": "ann", "password": PASSWORD, "next": "/records/Case"})
    assert response.status_code == 302 and response.location == "/records/Case"
    page = text(pages.get("/records/Case"))
    assert '<span class="user-name">ann</span>' in page
    assert 'action="/logout"' in page


@pytest.mark.parametrize("following", ["//evil.example/x", "https://evil.example/", "records"])
def test_login_never_sends_people_to_another_site(pages: Pages, following: str) -> None:
    response = pages.post("/login", {"name": "ann", "password": PASSWORD, "next": following})
    assert response.location == "/"


@pytest.mark.parametrize(
    ("name", "password"),
    [("ann", "wrong"), ("nobody", PASSWORD), ("gone", PASSWORD), ("", "")],
    ids=["wrong password", "unknown user", "deactivated user", "blank"],
)
def test_login_is_refused(pages: Pages, name: str, password: str) -> None:
    response = pages.post("/login", {"name": name, "password": password})
    assert response.status_code == 400
    page = text(response)
    assert "Wrong name or password, or the user is deactivated." in page
    assert f'name="name" value="{name}"' in page  # the name typed is kept
    assert pages.get("/records").status_code == 302  # still signed out


def test_a_user_without_a_password_cannot_sign_in(app: Flask, pages: Pages) -> None:
    with app.app_context(), database.connection_context():
        User.create(name="tokenonly")
    assert pages.post("/login", {"name": "tokenonly", "password": ""}).status_code == 400


def test_logout_signs_out(pages: Pages) -> None:
    pages.login("ann")
    response = pages.post("/logout", {})
    assert response.status_code == 302 and response.location == "/login"
    assert "You are signed out." in text(pages.get("/login"))
    assert pages.get("/records").status_code == 302


def test_a_deactivated_user_is_signed_out(app: Flask, pages: Pages) -> None:
    pages.login("ann")
    assert pages.get("/records").status_code == 200
    with app.app_context(), database.connection_context():
        User.update(is_active=False).where(User.name == "ann").execute()
    assert pages.get("/records").location.startswith("/login")


def test_forms_without_the_csrf_token_are_refused(pages: Pages) -> None:
    refused = pages.post("/login", {"name": "ann", "password": PASSWORD}, token=False)
    assert refused.status_code == 400
    assert "Form refused" in text(refused)
    assert pages.get("/records").status_code == 302  # not signed in
    pages.login("ann")
    forged = pages.client.post("/logout", data={"csrf_token": "made-up"})
    assert forged.status_code == 400
    assert pages.get("/records").status_code == 200  # still signed in


def test_the_api_takes_bearer_tokens_without_csrf(app: Flask, pages: Pages) -> None:
    with app.app_context(), database.connection_context():
        token = issue_token(User.get(User.name == "ann"))[1]
    response = pages.client.post("/api/records/Case", json={"Subject": "From a script"},
                                 headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert response.status_code == 201


def test_the_stylesheet_is_served(pages: Pages) -> None:
    response = pages.get("/assets/stageflow.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    response.close()


def test_every_page_has_the_layout(pages: Pages) -> None:
    pages.login("ann")
    page = text(pages.get("/records"))
    assert '<link rel="stylesheet" href="/assets/stageflow.css">' in page
    assert '<a href="/records/Account"' in page and '<a href="/records/Case"' in page
    assert ">Support case</a>" in page  # the object's label
    assert '<meta name="viewport"' in page


PLUGIN_WITH_AN_API = """
from flask import Blueprint
from stageflow import hookimpl

api = Blueprint("ping_api", __name__, url_prefix="/ping-api")
page = Blueprint("ping_page", __name__, url_prefix="/ping-page")
api.add_url_rule("/", "ping", lambda: "pong", methods=["POST"])
page.add_url_rule("/", "ping", lambda: "pong", methods=["POST"])

@hookimpl
def register_routes():
    return [api, page]

@hookimpl
def startup(app):
    app.extensions["csrf"].exempt(api)
"""


def test_a_plugin_exempts_its_token_api_from_csrf(
    tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "ping.py").write_text(PLUGIN_WITH_AN_API, encoding="utf-8")
    app = make_app(tmp_path, database_url, clock, plugins_dir=str(plugins))
    client = app.test_client()
    assert client.post("/ping-api/").get_data(as_text=True) == "pong"
    assert client.post("/ping-page/").status_code == 400  # pages need the token
    database.close()
