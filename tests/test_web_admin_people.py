"""The admin page for people: listing users, groups and queues, and every form on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from web_support import PASSWORD, Pages, field_html, make_app, seed_work, text

from stageflow.auth import check_password, create_user, set_members
from stageflow.clock import FixedClock
from stageflow.db import database
from stageflow.models import Group, Queue, User

NEW_PASSWORD = "correct horse"  # long enough for the page


@pytest.fixture
def app(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Flask]:
    app = make_app(tmp_path, database_url, clock)
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def directory(app: Flask) -> None:
    """``root`` (admin), ``ann`` (managed by carol), ``bob``, ``carol``; the group
    ``engineers`` (ann, carol), the empty group ``idle`` and the queue ``tier1`` (bob)."""
    with app.app_context(), database.connection_context():
        for name in ("root", "ann", "bob", "carol"):
            create_user(name, password=PASSWORD, email=f"{name}@example.com", admin=name == "root")
        User.update(manager=User.get(User.name == "carol")).where(User.name == "ann").execute()
        set_members("group", "engineers", ["ann", "carol"])
        set_members("group", "idle", [])
        set_members("queue", "tier1", ["bob"])


@pytest.fixture
def signed_in(app: Flask, directory: None) -> Callable[[str], Pages]:
    """A test client signed in as the given user."""

    return lambda name: Pages.signed_in(app, name)


@pytest.fixture
def admin(signed_in: Callable[[str], Pages]) -> Pages:
    return signed_in("root")


def user(app: Flask, name: str) -> User | None:
    """A user as stored, or None."""
    with app.app_context(), database.connection_context():
        return User.get_or_none(User.name == name)


def manager_of(app: Flask, name: str) -> str | None:
    """The name of a user's manager."""
    with app.app_context(), database.connection_context():
        found = User.get(User.name == name)
        return found.manager.name if found.manager_id else None


def members(app: Flask, kind: str, name: str) -> list[str] | None:
    """A team's member names (None: no such team)."""
    model = Group if kind == "group" else Queue
    with app.app_context(), database.connection_context():
        team = model.get_or_none(model.name == name)
        if team is None:
            return None
        return sorted(m.user.name for m in team.memberships)


def password_is(app: Flask, name: str, password: str) -> bool:
    with app.app_context(), database.connection_context():
        return check_password(User.get(User.name == name), password)


NEW_USER = {"name": "dave", "email": "dave@example.com", "manager": "carol",
            "password": NEW_PASSWORD}  # fmt: skip


# -- who may see it --------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/admin/people", "/admin/people/users/ann"])
def test_anonymous_people_are_sent_to_login(app: Flask, directory: None, url: str) -> None:
    pages = Pages(app.test_client())
    response = pages.get(url)
    assert response.status_code == 302
    assert response.location == f"/login?next={url}"
    assert pages.post("/admin/people/users", NEW_USER).location.startswith("/login")
    assert user(app, "dave") is None


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", "/admin/people"), ("get", "/admin/people/users/ann"),
     ("post", "/admin/people/users"), ("post", "/admin/people/users/ann"),
     ("post", "/admin/people/users/ann/password"), ("post", "/admin/people/groups"),
     ("post", "/admin/people/groups/idle/delete"), ("post", "/admin/people/queues/tier1/members")],
)  # fmt: skip
def test_other_users_get_the_403_page(
    app: Flask, signed_in: Callable[[str], Pages], method: str, url: str
) -> None:
    ann = signed_in("ann")
    data = {"name": "idle2", "password": NEW_PASSWORD, "members": "", "email": "x@example.com"}
    response = ann.get(url) if method == "get" else ann.post(url, data)
    assert response.status_code == 403
    assert "Only admins may open the admin pages." in text(response)
    assert password_is(app, "ann", PASSWORD) and members(app, "group", "idle") == []
    assert user(app, "ann").email == "ann@example.com"  # type: ignore[union-attr]
    assert members(app, "group", "idle2") is None


def test_forms_without_the_csrf_token_are_refused(app: Flask, admin: Pages) -> None:
    response = admin.post("/admin/people/users", NEW_USER, token=False)
    assert response.status_code == 400
    assert "Form refused" in text(response)
    assert user(app, "dave") is None
    forged = admin.client.post("/admin/people/groups/idle/delete", data={"csrf_token": "x"})
    assert forged.status_code == 400
    assert members(app, "group", "idle") == []


# -- the list --------------------------------------------------------------------------


def test_the_page_lists_users_groups_and_queues(admin: Pages) -> None:
    page = text(admin.get("/admin/people"))
    assert '<a href="/admin/people/users/ann">ann</a>' in page
    ann_row = page.split('<a href="/admin/people/users/ann">')[1].split("</tr>")[0]
    cells = [cell.split(">", 1)[1].split("</td>")[0] for cell in ann_row.split("<td")[1:]]
    assert cells[:2] == ["ann@example.com", "carol"]
    assert "engineers" in cells[4] and "tier1" not in cells[4]
    root_row = page.split('<a href="/admin/people/users/root">')[1].split("</tr>")[0]
    assert root_row.count("Yes") == 2  # admin and active
    assert 'id="groups"' in page and 'id="queues"' in page
    assert 'value="ann, carol"' in page  # engineers' members, ready to change
    assert 'value="bob"' in page  # tier1's
    assert 'action="/admin/people/groups/idle/delete"' in page  # empty: may be deleted
    assert 'action="/admin/people/groups/engineers/delete"' not in page


def test_a_users_page_shows_their_teams_and_forms(admin: Pages) -> None:
    page = text(admin.get("/admin/people/users/ann"))
    assert "<h1>ann</h1>" in page
    assert 'value="ann@example.com"' in field_html(page, "email", "user")
    assert 'value="carol"' in field_html(page, "manager", "user")
    assert "checked" in field_html(page, "active", "user")
    assert "checked" not in field_html(page, "admin", "user")
    assert 'autocomplete="new-password"' in field_html(page, "password", "set-password")
    assert "engineers" in page and "tier1" not in page


def test_an_unknown_user_is_not_found(admin: Pages) -> None:
    response = admin.get("/admin/people/users/nobody")
    assert response.status_code == 404
    assert "There is no user named &#39;nobody&#39;." in text(response)


# -- creating users --------------------------------------------------------------------


def test_an_admin_creates_a_user_who_can_then_sign_in(app: Flask, admin: Pages) -> None:
    response = admin.post("/admin/people/users", {**NEW_USER, "admin": "true"})
    assert response.status_code == 302
    assert response.location == "/admin/people#users"
    page = text(admin.get(response.location))
    assert "Created admin dave." in page
    assert '<a href="/admin/people/users/dave">dave</a>' in page
    assert manager_of(app, "dave") == "carol"
    created = user(app, "dave")
    assert created is not None and created.is_admin and created.email == "dave@example.com"
    assert created.password_hash != NEW_PASSWORD  # hashed
    dave = Pages(app.test_client())
    dave.login("dave", NEW_PASSWORD)
    assert dave.get("/admin/people").status_code == 200


def test_a_user_created_without_a_password_cannot_sign_in(app: Flask, admin: Pages) -> None:
    response = admin.post("/admin/people/users", {"name": "erin"})
    assert response.status_code == 302
    assert "(no password)" in text(admin.get("/admin/people"))
    created = user(app, "erin")
    assert created is not None and not created.is_admin and created.manager_id is None
    login = Pages(app.test_client()).post("/login", {"name": "erin", "password": ""})
    assert login.status_code == 400


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "ann"}, "name", "A user named &#39;ann&#39; already exists."),
        ({"name": "  "}, "name", "A user needs a name."),
        ({"name": "dave smith"}, "name", "invalid user name &#39;dave smith&#39;"),
        ({"manager": "zed"}, "manager", "No user named &#39;zed&#39;."),
        ({"manager": "dave"}, "manager", "dave cannot be their own manager."),
        ({"email": "dave.example.com"}, "email", "invalid email address"),
        ({"password": "short"}, "password", "use at least 8 characters."),
    ],
    ids=["duplicate name", "empty name", "bad name", "unknown manager", "own manager",
         "bad email", "short password"],
)  # fmt: skip
def test_a_user_is_not_created_from_bad_input(
    app: Flask, admin: Pages, changes: dict[str, str], field: str, message: str
) -> None:
    sent = {**NEW_USER, **changes}
    response = admin.post("/admin/people/users", sent)
    assert response.status_code == 400
    page = text(response)
    assert message in field_html(page, field, "new-user")
    assert '<details class="people-new" open>' in page  # the form is shown open…
    assert 'href="#new-user-form"' in page and 'id="new-user-form"' in page  # …and linked
    for kept in ("email", "manager"):  # what was typed is kept…
        assert f'value="{sent[kept]}"' in field_html(page, kept, "new-user")
    assert NEW_PASSWORD not in page  # …but never a password
    assert user(app, "dave") is None
    assert user(app, "dave smith") is None


def test_every_problem_of_a_new_user_is_shown_at_once(app: Flask, admin: Pages) -> None:
    sent = {"name": "bob", "email": "nope", "manager": "zed", "password": "x"}
    page = text(admin.post("/admin/people/users", sent))
    for name in sent:
        assert "field-error" in field_html(page, name, "new-user")
    assert password_is(app, "bob", PASSWORD)


# -- editing users ---------------------------------------------------------------------


def test_an_admin_edits_a_user(app: Flask, admin: Pages) -> None:
    sent = {"email": "ann@new.example.com", "manager": "bob", "admin": "true", "active": "true"}
    response = admin.post("/admin/people/users/ann", sent)
    assert response.status_code == 302 and response.location == "/admin/people/users/ann"
    assert "Saved user ann." in text(admin.get(response.location))
    ann = user(app, "ann")
    assert ann is not None and ann.is_admin and ann.email == "ann@new.example.com"
    assert manager_of(app, "ann") == "bob"
    admin.post("/admin/people/users/ann", {"email": "", "manager": "", "active": "true"})
    ann = user(app, "ann")
    assert ann is not None and not ann.is_admin and ann.email is None
    assert manager_of(app, "ann") is None


def test_a_deactivated_user_is_signed_out(
    app: Flask, admin: Pages, signed_in: Callable[[str], Pages]
) -> None:
    ann = signed_in("ann")
    assert ann.get("/records").status_code == 200
    response = admin.post("/admin/people/users/ann", {"email": "ann@example.com"})
    assert response.status_code == 302
    assert ann.get("/records").location.startswith("/login")
    assert Pages(app.test_client()).post("/login", {"name": "ann", "password": PASSWORD}
                                         ).status_code == 400  # fmt: skip
    admin.post("/admin/people/users/ann", {"active": "true"})
    ann.login("ann")  # active again


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"manager": "zed"}, "manager", "No user named &#39;zed&#39;."),
        ({"manager": "ann"}, "manager", "ann cannot be their own manager."),
        ({"email": "not an address"}, "email", "invalid email address"),
    ],
    ids=["unknown manager", "own manager", "bad email"],
)
def test_a_user_is_not_changed_by_bad_input(
    app: Flask, admin: Pages, changes: dict[str, str], field: str, message: str
) -> None:
    sent = {"email": "ann@example.com", "manager": "carol", "active": "true", **changes}
    response = admin.post("/admin/people/users/ann", sent)
    assert response.status_code == 400
    page = text(response)
    assert message in field_html(page, field, "user")
    assert f'value="{sent[field]}"' in field_html(page, field, "user")
    assert "checked" not in field_html(page, "admin", "user")
    assert manager_of(app, "ann") == "carol"
    assert user(app, "ann").email == "ann@example.com"  # type: ignore[union-attr]


def test_an_admin_cannot_deactivate_or_unadmin_themselves(app: Flask, admin: Pages) -> None:
    page = text(admin.get("/admin/people/users/root"))
    assert "This is you" in page
    response = admin.post("/admin/people/users/root", {"email": "root@example.com"})
    assert response.status_code == 400
    page = text(response)
    refusal = "you cannot deactivate yourself; another admin can."
    assert refusal in field_html(page, "active", "user")
    assert "you cannot take away your own admin right" in field_html(page, "admin", "user")
    root = user(app, "root")
    assert root is not None and root.is_admin and root.is_active
    assert admin.get("/admin/people").status_code == 200  # still signed in, still admin


def test_an_admin_may_deactivate_another_admin(app: Flask, admin: Pages) -> None:
    admin.post("/admin/people/users/ann", {"admin": "true", "active": "true"})
    response = admin.post("/admin/people/users/ann", {"admin": "true"})
    assert response.status_code == 302
    ann = user(app, "ann")
    assert ann is not None and ann.is_admin and not ann.is_active


# -- passwords -------------------------------------------------------------------------


def test_an_admin_sets_a_password(app: Flask, admin: Pages) -> None:
    response = admin.post("/admin/people/users/ann/password", {"password": NEW_PASSWORD})
    assert response.status_code == 302 and response.location == "/admin/people/users/ann"
    assert "Set the password of ann." in text(admin.get(response.location))
    assert password_is(app, "ann", NEW_PASSWORD) and not password_is(app, "ann", PASSWORD)
    Pages(app.test_client()).login("ann", NEW_PASSWORD)


@pytest.mark.parametrize("password", ["", "short"])
def test_a_short_password_is_refused(app: Flask, admin: Pages, password: str) -> None:
    response = admin.post("/admin/people/users/ann/password", {"password": password})
    assert response.status_code == 400
    page = text(response)
    assert "New password: use at least 8 characters." in field_html(
        page, "password", "set-password"
    )
    assert password_is(app, "ann", PASSWORD)


# -- groups and queues -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["group", "queue"])
def test_an_admin_creates_a_team_with_members(app: Flask, admin: Pages, kind: str) -> None:
    response = admin.post(f"/admin/people/{kind}s", {"name": "leads", "members": "bob, ann,"})
    assert response.status_code == 302 and response.location == f"/admin/people#{kind}s"
    assert f"Created {kind} leads: ann, bob." in text(admin.get(response.location))
    assert members(app, kind, "leads") == ["ann", "bob"]


@pytest.mark.parametrize(
    ("sent", "field", "message"),
    [
        ({"name": "engineers"}, "name", "a group named &#39;engineers&#39; already exists"),
        ({"name": ""}, "name", "a group needs a name."),
        ({"name": "big team"}, "name", "invalid name &#39;big team&#39;"),
        ({"name": "leads", "members": "ann, zed, nobody"}, "members",
         "No user named nobody, zed; create them first."),
    ],
    ids=["duplicate name", "empty name", "bad name", "unknown members"],
)  # fmt: skip
def test_a_group_is_not_created_from_bad_input(
    app: Flask, admin: Pages, sent: dict[str, str], field: str, message: str
) -> None:
    response = admin.post("/admin/people/groups", sent)
    assert response.status_code == 400
    page = text(response)
    assert message in field_html(page, field, "new-group")
    assert f'value="{sent[field]}"' in field_html(page, field, "new-group")
    assert members(app, "group", "leads") is None
    assert members(app, "group", "engineers") == ["ann", "carol"]


def test_an_admin_sets_and_clears_members(app: Flask, admin: Pages) -> None:
    response = admin.post("/admin/people/queues/tier1/members", {"members": "ann,carol"})
    assert response.status_code == 302 and response.location == "/admin/people#queues"
    assert "Set the members of queue tier1: ann, carol." in text(admin.get(response.location))
    assert members(app, "queue", "tier1") == ["ann", "carol"]
    admin.post("/admin/people/queues/tier1/members", {"members": ""})
    assert members(app, "queue", "tier1") == []


def test_unknown_members_are_refused_by_name(app: Flask, admin: Pages) -> None:
    response = admin.post("/admin/people/groups/engineers/members", {"members": "ann, ghost"})
    assert response.status_code == 400
    page = text(response)
    with app.app_context(), database.connection_context():
        prefix = f"group-{Group.get(Group.name == 'engineers').id}"
    found = field_html(page, "members", prefix)
    assert "No user named ghost; create them first." in found
    assert 'value="ann, ghost"' in found
    assert members(app, "group", "engineers") == ["ann", "carol"]


def test_an_admin_deletes_an_empty_group(app: Flask, admin: Pages) -> None:
    response = admin.post("/admin/people/groups/idle/delete", {})
    assert response.status_code == 302
    assert "Deleted group idle." in text(admin.get(response.location))
    assert members(app, "group", "idle") is None


def test_a_team_with_members_is_not_deleted(app: Flask, admin: Pages) -> None:
    response = admin.post("/admin/people/queues/tier1/delete", {})
    assert response.status_code == 400
    page = text(response)
    assert "remove its members first: only an empty queue can be deleted." in page
    with app.app_context(), database.connection_context():
        form = f"queue-{Queue.get(Queue.name == 'tier1').id}-form"
    assert f'<a href="#{form}">correct the form</a>' in page and f'id="{form}"' in page
    assert members(app, "queue", "tier1") == ["bob"]


@pytest.mark.parametrize("url", ["/admin/people/groups/nope/members",
                                 "/admin/people/queues/nope/delete"])  # fmt: skip
def test_an_unknown_team_is_not_found(app: Flask, admin: Pages, url: str) -> None:
    assert admin.post(url, {"members": "ann"}).status_code == 404
    assert members(app, "group", "nope") is None and members(app, "queue", "nope") is None


def test_a_team_with_open_work_is_not_deleted(
    tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    app = make_app(tmp_path, database_url, clock)
    seed_work(app)  # an open work item of the queue tier2
    pages = Pages(app.test_client())
    pages.login("root")
    pages.post("/admin/people/queues/tier2/members", {"members": ""})
    response = pages.post("/admin/people/queues/tier2/delete", {})
    assert response.status_code == 400
    assert "open work item(s) are assigned to it; reassign them first." in text(response)
    assert members(app, "queue", "tier2") == []
    database.close()


def test_the_header_links_admins_and_only_admins_to_people(
    admin: Pages, signed_in: Callable[[str], Pages]
) -> None:
    assert 'href="/admin/people"' in admin.get("/records").get_data(as_text=True)
    assert 'href="/admin/people"' not in signed_in("ann").get("/records").get_data(as_text=True)
