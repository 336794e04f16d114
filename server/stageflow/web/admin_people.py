"""The admin page for people (``/admin/people``): users, groups and queues.

Admins list everyone with their manager, rights and teams, create users, edit them, set
their passwords, and create, fill and delete groups and queues.  The rules are those of
the ``stageflow users|groups|queues`` commands (:mod:`stageflow.auth`) and of a
directory definition (its checkers for user names, team names and email addresses), so
that anything made here could also be written in YAML.  The few rules only a person at
a page needs are here, marked *page rule*: a password is long enough, nobody is their
own manager, an admin keeps their own rights and stays active, a new team's name is not
taken, and only an empty team without open work is deleted.

Every form posts, then redirects with a message (Post/Redirect/Get); a refused form is
shown again (status 400) with each problem at its field and what was typed kept
(passwords excepted).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from ..auth import AuthError, create_user, find_user, hash_password, set_members
from ..db import database
from ..definitions.kinds import email, user_name
from ..definitions.shapes import INVALID, Context
from ..definitions.shapes import name as team_name
from ..definitions.yamlio import Path
from ..engine.work_items import OPEN
from ..models import Group, GroupMembership, Queue, QueueMembership, User, WorkItem
from . import bp
from .errors import sentence
from .fields import NO, Input
from .login import login_required

View = str | Response | tuple[str, int]

#: Page rule: the shortest password the page sets (the CLI leaves this to the admin).
MIN_PASSWORD_LENGTH = 8

#: The tables of each kind of team, by the kind's name (as in ``queue:tier1``).
TEAM_TABLES: dict[str, tuple[type[Group] | type[Queue], Any]] = {
    "group": (Group, GroupMembership),
    "queue": (Queue, QueueMembership),
}


# -- the forms -------------------------------------------------------------------------


@dataclass(frozen=True)
class FormField:
    """One input of a form on these pages (drawn as a :class:`~.fields.Input`)."""

    name: str
    label: str
    type: str = "text"
    required: bool = False
    hint: str = ""


NAME = FormField("name", "Name", required=True, hint="Letters, digits and the marks _ . @ -")
EMAIL = FormField("email", "Email", "email", hint="For notifications.")
MANAGER = FormField("manager", "Manager", hint="A user's name (blank: none).")
ADMIN = FormField(
    "admin", "Admin", "checkbox", hint="May manage people, deploy definitions and act on any run."
)
ACTIVE = FormField(
    "active", "Active", "checkbox", hint="Off: cannot sign in, and is signed out if signed in."
)
INITIAL_PASSWORD = FormField(
    "password",
    "Password",
    "password",
    hint=f"At least {MIN_PASSWORD_LENGTH} characters. Blank: no signing in until one is set.",
)
NEW_PASSWORD = FormField("password", "New password", "password", required=True,
                         hint=f"At least {MIN_PASSWORD_LENGTH} characters.")  # fmt: skip
TEAM_NAME = FormField("name", "Name", required=True,
                      hint="Letters, digits and _, starting with a letter.")  # fmt: skip
MEMBERS = FormField("members", "Members", hint="User names, separated by commas.")

NEW_USER = (NAME, EMAIL, MANAGER, ADMIN, INITIAL_PASSWORD)
EDIT_USER = (EMAIL, MANAGER, ADMIN, ACTIVE)
SET_PASSWORD = (NEW_PASSWORD,)
NEW_TEAM = (TEAM_NAME, MEMBERS)
TEAM_MEMBERS = (MEMBERS,)


def posted(fields: Iterable[FormField], form: MultiDict[str, str]) -> dict[str, Any]:
    """What a form sent: checkboxes as booleans, text stripped, passwords as typed."""
    values: dict[str, Any] = {}
    for f in fields:
        sent = form.get(f.name, "")
        if f.type == "checkbox":
            values[f.name] = sent not in ("", NO)
        else:
            values[f.name] = sent if f.type == "password" else sent.strip()
    return values


@dataclass(frozen=True)
class Refusal:
    """A form that was refused: its id prefix, what was sent, and the problems by field."""

    form: str
    values: Mapping[str, Any]
    errors: Mapping[str, str]


def form_inputs(
    fields: Iterable[FormField],
    prefix: str,
    values: Mapping[str, Any],
    refusal: Refusal | None = None,
) -> list[Input]:
    """A form's inputs showing ``values`` or, if it is the form refused, what was sent
    and its problems.  A password is never shown again."""
    errors: Mapping[str, str] = {}
    if refusal is not None and refusal.form == prefix:
        values, errors = refusal.values, refusal.errors
    return [
        Input(
            name=f.name,
            label=f.label,
            type=f.type,
            value=shown_value(f, values),
            required=f.required,
            hint=f.hint,
            error=errors.get(f.name, ""),
            prefix=prefix,
        )
        for f in fields
    ]


def shown_value(f: FormField, values: Mapping[str, Any]) -> Any:
    """What an input shows: the value, unchecked or blank by default; never a password."""
    if f.type == "password":
        return ""
    return values.get(f.name, False if f.type == "checkbox" else "")


# -- problems --------------------------------------------------------------------------


class Refused(Exception):
    """A form refused; ``errors`` says what was wrong, by field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = dict(errors)


class Problems(Context):
    """What is wrong with a sent form, by field.

    A :class:`~stageflow.definitions.shapes.Context`, so that the directory's own
    checkers (``user_name``, ``email``, ``name``) report here: the path they are given is
    the field's name.  :meth:`at` does the same for the refusals of :mod:`stageflow.auth`.
    """

    def __init__(self) -> None:
        # No YAML document: messages go to form fields, not to positions in a file.
        super().__init__(document=None)  # type: ignore[arg-type]
        self.fields: dict[str, str] = {}

    def error(self, path: Path, message: str, *, at_key: bool = False,
              broken: bool = True) -> Any:  # fmt: skip
        """Note ``message`` at the field named by the last part of ``path``."""
        self.add(str(path[-1]), message)
        return INVALID

    def add(self, name: str, message: str) -> None:
        """Note a problem at a field (the first one noted there is shown)."""
        self.fields.setdefault(name, sentence(message))

    @contextmanager
    def at(self, name: str) -> Iterator[None]:
        """Note an :class:`~stageflow.auth.AuthError` raised in the block at a field."""
        try:
            yield
        except AuthError as error:
            self.add(name, str(error))

    def raise_any(self) -> None:
        """Raise :class:`Refused` if any problem was noted."""
        if self.fields:
            raise Refused(self.fields)


def check_email(problems: Problems, address: str) -> None:
    """An email address, if one is given, as a directory definition takes it."""
    if address:
        email(problems, ("email",), address)


def check_password(problems: Problems, password: str, *, required: bool) -> None:
    """Page rule: a password set here has at least :data:`MIN_PASSWORD_LENGTH` characters."""
    if (password or required) and len(password) < MIN_PASSWORD_LENGTH:
        problems.add("password", f"use at least {MIN_PASSWORD_LENGTH} characters")


def manager_named(problems: Problems, name: str, user: User | None) -> User | None:
    """The user named to manage ``user`` (blank: None); unknown, or ``user`` themselves
    (a page rule), is a problem at ``manager``."""
    if not name:
        return None
    manager = None
    with problems.at("manager"):
        manager = find_user(name)
    if manager is not None and user is not None and manager.id == user.id:
        problems.add("manager", f"{name} cannot be their own manager")
    return manager


# -- what the forms do -----------------------------------------------------------------


def add_user(values: Mapping[str, Any]) -> str:
    """Create a user (:func:`stageflow.auth.create_user`) with a manager; the message."""
    problems = Problems()
    if values["name"]:  # a blank name is create_user's to refuse
        user_name(problems, ("name",), values["name"])
    check_email(problems, values["email"])
    check_password(problems, values["password"], required=False)
    with database.atomic():  # any problem rolls the new user back
        user = None
        with problems.at("name"):
            user = create_user(values["name"], password=values["password"] or None,
                               email=values["email"] or None, admin=values["admin"])  # fmt: skip
        manager = manager_named(problems, values["manager"], user)
        problems.raise_any()
        if user is not None and manager is not None:
            user.manager = manager
            user.save(only=[User.manager])
    return f"Created {'admin' if values['admin'] else 'user'} {values['name']}."


def save_user(user: User, values: Mapping[str, Any], actor: User) -> str:
    """Change a user's email, manager, admin right and activity; the message.

    Page rule: ``actor`` (the admin at the page) cannot deactivate themselves or take
    away their own admin right, so that there is always an admin left to undo it.
    """
    problems = Problems()
    check_email(problems, values["email"])
    manager = manager_named(problems, values["manager"], user)
    if user.id == actor.id:
        if not values["active"]:
            problems.add("active", "you cannot deactivate yourself; another admin can")
        if not values["admin"]:
            problems.add("admin", "you cannot take away your own admin right; another admin can")
    problems.raise_any()
    user.email = values["email"] or None
    user.manager = manager
    user.is_admin = values["admin"]
    user.is_active = values["active"]
    user.save(only=[User.email, User.manager, User.is_admin, User.is_active])
    return f"Saved user {user.name}."


def set_password(user: User, values: Mapping[str, Any]) -> str:
    """Set a user's password (hashed by :func:`stageflow.auth.hash_password`); the message."""
    problems = Problems()
    check_password(problems, values["password"], required=True)
    problems.raise_any()
    user.password_hash = hash_password(values["password"])
    user.save(only=[User.password_hash])
    return f"Set the password of {user.name}."


def add_team(kind: str, values: Mapping[str, Any]) -> str:
    """Create a group or queue with members (:func:`stageflow.auth.set_members`); the message.

    Page rules: the name is not blank and not taken (``set_members`` would change the
    team of that name instead).
    """
    problems = Problems()
    name = values["name"]
    if not name:
        problems.add("name", f"a {kind} needs a name")
    else:
        team_name(problems, ("name",), name)
    if name and find_team(kind, name) is not None:
        problems.add("name", f"a {kind} named {name!r} already exists; change its members "
                             "in the list")  # fmt: skip
    with database.atomic():  # any problem rolls the new team back
        members = fill_team(problems, kind, name, values["members"])
        problems.raise_any()
    return f"Created {kind} {name}: {members}."


def fill_team(problems: Problems, kind: str, name: str, members: str) -> str:
    """Set a team's members from comma-separated names (unknown ones are a problem at
    ``members``); the members as a message says them."""
    names: list[str] = []
    with problems.at("members"):
        names = set_members(kind, name, members.split(","))[1]
    return ", ".join(names) or "no members"


def set_team_members(kind: str, team: Group | Queue, values: Mapping[str, Any]) -> str:
    """Set the members of an existing group or queue; the message."""
    problems = Problems()
    members = fill_team(problems, kind, team.name, values["members"])
    problems.raise_any()
    return f"Set the members of {kind} {team.name}: {members}."


def delete_team(kind: str, team: Group | Queue) -> str:
    """Page rule: delete a group or queue only when it has no members and no open work
    (its work items would have nobody to go to); the message."""
    problems = Problems()
    if team_members(kind, team):
        problems.add("members", f"remove its members first: only an empty {kind} can be deleted")
    open_items = open_work(kind, team.name)
    if open_items:
        problems.add(
            "members", f"{open_items} open work item(s) are assigned to it; reassign them first"
        )
    problems.raise_any()
    team.delete_instance()
    return f"Deleted {kind} {team.name}."


# -- reading the directory -------------------------------------------------------------


def find_team(kind: str, name: str) -> Group | Queue | None:
    """The group or queue of that name, or None."""
    model = TEAM_TABLES[kind][0]
    return model.get_or_none(model.name == name)


def open_work(kind: str, name: str) -> int:
    """How many open work items are assigned to a group or queue."""
    assigned = (WorkItem.assignee_kind == kind) & (WorkItem.assignee_name == name)
    return WorkItem.select().where(assigned & WorkItem.status.in_(OPEN)).count()


def team_members(kind: str, team: Group | Queue) -> list[str]:
    """The names of a team's members, sorted."""
    membership = TEAM_TABLES[kind][1]
    query = User.select(User.name).join(membership).where(getattr(membership, kind) == team.id)
    return sorted(user.name for user in query)


def memberships(kind: str) -> list[tuple[str, str]]:
    """Every (team name, member name) pair of a kind of team, sorted."""
    model, membership = TEAM_TABLES[kind]
    query = (
        membership.select(model.name, User.name.alias("member"))
        .join_from(membership, model)
        .join_from(membership, User)
        .order_by(model.name, User.name)
    )
    return list(query.tuples())


@dataclass(frozen=True)
class Person:
    """A user as the list shows them."""

    name: str
    email: str
    manager: str
    is_admin: bool
    is_active: bool
    has_password: bool
    groups: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)


def people(only: str | None = None) -> list[Person]:
    """Every user (or ``only`` the one of that name), by name, with their manager,
    groups and queues."""
    query = User.select().order_by(User.name)
    users = list(query if only is None else query.where(User.name == only))
    names = dict(User.select(User.id, User.name).tuples())
    teams: dict[str, dict[str, list[str]]] = {kind: {} for kind in TEAM_TABLES}
    for kind in TEAM_TABLES:
        for team, member in memberships(kind):
            teams[kind].setdefault(member, []).append(team)
    return [
        Person(
            name=user.name,
            email=user.email or "",
            manager=names.get(user.manager_id, ""),
            is_admin=bool(user.is_admin),
            is_active=bool(user.is_active),
            has_password=bool(user.password_hash),
            groups=teams["group"].get(user.name, []),
            queues=teams["queue"].get(user.name, []),
        )
        for user in users
    ]


@dataclass(frozen=True)
class Team:
    """A group or queue as the list shows it, with the form that sets its members."""

    id: int
    name: str
    members: list[str]
    form: list[Input]


@dataclass(frozen=True)
class TeamSection:
    """The groups or the queues, and the form that creates one."""

    kind: str
    plural: str
    teams: list[Team]
    new: list[Input]


def team_section(kind: str, refusal: Refusal | None) -> TeamSection:
    """The list of a kind of team, each with its members form, and the new team form."""
    model = TEAM_TABLES[kind][0]
    members: dict[str, list[str]] = {}
    for team, member in memberships(kind):
        members.setdefault(team, []).append(member)
    teams = []
    for row in model.select().order_by(model.name):
        names = members.get(row.name, [])
        shown = {"members": ", ".join(names)}
        form = form_inputs(TEAM_MEMBERS, team_prefix(kind, row), shown, refusal)
        teams.append(Team(row.id, row.name, names, form))
    new = form_inputs(NEW_TEAM, f"new-{kind}", {}, refusal)
    return TeamSection(kind, f"{kind}s", teams, new)


def team_prefix(kind: str, team: Group | Queue) -> str:
    """The id prefix of a team's members form (ids: ``group-3-members``)."""
    return f"{kind}-{team.id}"


def user_values(user: User) -> dict[str, Any]:
    """A user as the edit form shows them."""
    manager = User.get_or_none(User.id == user.manager_id) if user.manager_id else None
    return {
        "email": user.email or "",
        "manager": manager.name if manager else "",
        "admin": bool(user.is_admin),
        "active": bool(user.is_active),
    }


# -- the pages -------------------------------------------------------------------------


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only admins see the page: others get a 403 page, people not signed in the login."""

    @functools.wraps(view)
    def wrapper(**kwargs: Any) -> Any:
        if not g.user.is_admin:
            abort(403, "Only admins may open the admin pages.")
        return view(**kwargs)

    return login_required(wrapper)


def submit(action: Callable[[], str], refused: Callable[[Mapping[str, str]], View],
           done: str) -> View:  # fmt: skip
    """Post/Redirect/Get: do ``action``, flash its message and go to ``done``; if it is
    refused, show ``refused(errors)``: the page again, with the problems at the fields."""
    try:
        message = action()
    except Refused as error:
        return refused(error.errors)
    flash(message, "success")
    return redirect(done)


def people_page(refusal: Refusal | None = None) -> View:
    """``/admin/people``, with ``refusal`` (a form sent and refused) shown at its form."""
    html = render_template(
        "admin/people.html",
        people=people(),
        new_user=form_inputs(NEW_USER, "new-user", {}, refusal),
        sections=[team_section(kind, refusal) for kind in TEAM_TABLES],
        refusal=refusal,
    )
    return (html, 400) if refusal else html


def person_page(user: User, refusal: Refusal | None = None) -> View:
    """A user's page: their teams, the edit form and the password form."""
    (person,) = people(user.name)
    html = render_template(
        "admin/person.html",
        person=person,
        edit=form_inputs(EDIT_USER, "user", user_values(user), refusal),
        password=form_inputs(SET_PASSWORD, "set-password", {}, refusal),
        is_self=user.id == g.user.id,
        refusal=refusal,
    )
    return (html, 400) if refusal else html


def user_or_404(name: str) -> User:
    """The user of that name, or a Not found page."""
    user = User.get_or_none(User.name == name)
    if user is None:
        abort(404, f"There is no user named {name!r}.")
    return user


def team_or_404(kind: str, name: str) -> Group | Queue:
    """The group or queue of that name, or a Not found page."""
    team = find_team(kind, name)
    if team is None:
        abort(404, f"There is no {kind} named {name!r}.")
    return team


def people_url(anchor: str) -> str:
    """The people page, at a section (``users``, ``groups``, ``queues``)."""
    return url_for("web.admin_people", _anchor=anchor)


@bp.get("/admin/people")
@admin_required
def admin_people() -> View:
    """Users, groups and queues, and the forms that create them."""
    return people_page()


@bp.post("/admin/people/users")
@admin_required
def admin_user_create() -> View:
    """Create a user; back to the list."""
    values = posted(NEW_USER, request.form)
    return submit(lambda: add_user(values),
                  lambda errors: people_page(Refusal("new-user", values, errors)),
                  people_url("users"))  # fmt: skip


@bp.route("/admin/people/users/<name>", methods=("GET", "POST"))
@admin_required
def admin_user(name: str) -> View:
    """A user's page; its edit form posts here."""
    user = user_or_404(name)
    if request.method == "GET":
        return person_page(user)
    values = posted(EDIT_USER, request.form)
    return submit(lambda: save_user(user, values, g.user),
                  lambda errors: person_page(user, Refusal("user", values, errors)),
                  url_for("web.admin_user", name=user.name))  # fmt: skip


@bp.post("/admin/people/users/<name>/password")
@admin_required
def admin_user_password(name: str) -> View:
    """Set a user's password; back to their page."""
    user = user_or_404(name)
    values = posted(SET_PASSWORD, request.form)
    return submit(lambda: set_password(user, values),
                  lambda errors: person_page(user, Refusal("set-password", values, errors)),
                  url_for("web.admin_user", name=user.name))  # fmt: skip


@bp.post("/admin/people/<any(groups, queues):plural>")
@admin_required
def admin_team_create(plural: str) -> View:
    """Create a group or queue with its members; back to the list."""
    kind = plural.removesuffix("s")
    values = posted(NEW_TEAM, request.form)
    return submit(lambda: add_team(kind, values),
                  lambda errors: people_page(Refusal(f"new-{kind}", values, errors)),
                  people_url(plural))  # fmt: skip


@bp.post("/admin/people/<any(groups, queues):plural>/<name>/members")
@admin_required
def admin_team_members(plural: str, name: str) -> View:
    """Set the members of a group or queue; back to the list."""
    kind = plural.removesuffix("s")
    team = team_or_404(kind, name)
    values = posted(TEAM_MEMBERS, request.form)
    refusal = functools.partial(Refusal, team_prefix(kind, team), values)
    return submit(lambda: set_team_members(kind, team, values),
                  lambda errors: people_page(refusal(errors)), people_url(plural))  # fmt: skip


@bp.post("/admin/people/<any(groups, queues):plural>/<name>/delete")
@admin_required
def admin_team_delete(plural: str, name: str) -> View:
    """Delete an empty group or queue; refused, the problem is shown at its members."""
    kind = plural.removesuffix("s")
    team = team_or_404(kind, name)
    shown = {"members": ", ".join(team_members(kind, team))}
    refusal = functools.partial(Refusal, team_prefix(kind, team), shown)
    return submit(lambda: delete_team(kind, team),
                  lambda errors: people_page(refusal(errors)), people_url(plural))  # fmt: skip
