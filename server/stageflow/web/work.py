"""My Work and the work item page: a person's lists of work items, one item with its
form, and what they may do with it (complete, claim, release, reassign).

Every page and action asks the work service (:class:`stageflow.work.WorkService`) on
behalf of the signed-in user, so what is listed and allowed is what the API allows; the
item's ``actions`` say which buttons to show.  Actions are POSTs (with the CSRF token)
that redirect back with a message; a refused form is shown again, each error at its
field and what was typed kept.  Unknown items are 404 pages, other people's 403 pages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..core import current
from ..models import Definition, Group, Queue, User
from ..work import WorkError, WorkPage
from . import bp
from .errors import sentence
from .fields import YES, Input
from .login import local_path, login_required
from .navigation import work_counts
from .records import record_page
from .work_forms import FORM_ERROR, WorkForm, outputs, posted_work, work_form

View = str | Response | tuple[str, int]

PAGE_SIZE = 50

#: The work lists, in the order of their tabs; ``all`` is for admins only.
TABS = {
    "mine": "Mine",
    "queues": "My queues and groups",
    "completed": "Completed",
    "all": "All",
}

#: The statuses of work items that are over: shown read-only.
FINISHED_ITEMS = ("Completed", "Canceled")

#: At most this many users, queues and groups are offered as reassignment targets.
MAX_TARGETS = 500


@dataclass(frozen=True)
class Tab:
    """One work list's tab: its label, how many items it holds (None: not counted)."""

    scope: str
    label: str
    count: int | None
    url: str
    current: bool


@dataclass(frozen=True)
class Reassignment:
    """The reassign form as shown again after a refusal: what was typed, why it was
    refused, and (for admins, after a target who cannot open the record) the offer to
    reassign anyway."""

    to: str = ""
    reason: str = ""
    error: str = ""
    offer_force: bool = False


# -- My Work ---------------------------------------------------------------------------


@bp.get("/work")
@login_required
def work_list() -> View:
    """A list of the user's work (``?scope=`` a tab), filtered by ``?orchestration=`` and
    ``?overdue=true``, sorted by due time, 50 items a page with a link to the next."""
    scope = request.args.get("scope") or "mine"
    if scope not in TABS:
        abort(404, "There is no such work list: choose one of the tabs of My Work.")
    orchestration = request.args.get("orchestration", "").strip()
    overdue = request.args.get("overdue") == YES
    cursor = request.args.get("cursor") or None
    error = ""
    try:
        page = current().work.list(g.user, scope, orchestration=orchestration or None,
                                   overdue=overdue, limit=PAGE_SIZE, cursor=cursor)  # fmt: skip
    except WorkError as refused:
        if refused.code != 400:
            raise
        page = WorkPage([], None, 0)
        error = ("This page link is out of date: start again from the first page."
                 if cursor else sentence(refused.message))  # fmt: skip
    html = render_template(
        "work/list.html",
        scope=scope,
        tabs=_tabs(scope),
        filters=_filters(orchestration, overdue),
        filtered=bool(orchestration or overdue),
        page=page,
        error=error,
        next_url=_list_url(cursor=page.next) if page.next else None,
        clear_url=url_for("web.work_list", scope=scope),
    )
    return (html, 400) if error else html


def _tabs(scope: str) -> list[Tab]:
    counts = work_counts()
    shown = [name for name in TABS if name != "all" or g.user.is_admin]
    return [
        Tab(name, TABS[name], counts.get(name), _list_url(scope=name, cursor=None), name == scope)
        for name in shown
    ]


def _filters(orchestration: str, overdue: bool) -> dict[str, Input]:
    names = [row.name for row in Definition.select(Definition.name)
             .where(Definition.kind == "orchestration").order_by(Definition.name)]  # fmt: skip
    if orchestration and orchestration not in names:
        names.append(orchestration)
    return {
        "orchestration": Input("orchestration", "Orchestration", "select", orchestration,
                               options=(("", "Any"), *((n, n) for n in names))),
        "overdue": Input("overdue", "Overdue only", "checkbox", overdue),
    }  # fmt: skip


def _list_url(**changes: str | None) -> str:
    """This list's URL with some query arguments changed (None: removed)."""
    args = {key: value for key, value in request.args.items() if key not in changes}
    args.update({key: value for key, value in changes.items() if value is not None})
    return url_for("web.work_list", **args)


# -- one work item ---------------------------------------------------------------------


@bp.get("/work/<int:item_id>")
@login_required
def work_item(item_id: int) -> View:
    """A work item: its record, its run, stage and step, its form (or, once finished,
    what was submitted) and the buttons of what the user may do."""
    return _item_page(current().work.get(item_id, g.user))


def _item_page(
    item: Mapping[str, Any],
    *,
    form: WorkForm | None = None,
    reassignment: Reassignment | None = None,
    status: int = 200,
) -> View:
    actions = item["actions"]
    if form is None and actions["complete"] and item.get("form") is not None:
        form = work_form(item)
    html = render_template(
        "work/item.html",
        item=item,
        finished=item["status"] in FINISHED_ITEMS,
        form=form,
        outputs=outputs(item) if item["status"] == "Completed" else [],
        reassignment=reassignment or Reassignment(),
        targets=_targets() if actions["reassign"] else [],
        following=local_path(request.values.get("next", "")),
    )
    return (html, status) if status != 200 else html


def _targets() -> list[str]:
    """Whom work can go to, offered as the reassign input's suggestions."""
    users = User.select(User.name).where(User.is_active).order_by(User.name)
    queues = Queue.select(Queue.name).order_by(Queue.name)
    groups = Group.select(Group.name).order_by(Group.name)
    found = [f"queue:{q.name}" for q in queues.limit(MAX_TARGETS)]
    found += [f"group:{t.name}" for t in groups.limit(MAX_TARGETS)]
    found += [f"user:{u.name}" for u in users.limit(MAX_TARGETS)]
    return found[:MAX_TARGETS]


@bp.post("/work/<int:item_id>/complete")
@login_required
def work_complete(item_id: int) -> View:
    """Submit the item's form.  Done: back to ``next`` (the record page of the Work
    Guide) or My Work.  Refused values: the form again, with the errors at their fields
    (in the record's Work Guide when it was sent from there: ``from=guide``)."""
    work = current().work
    item = work.get(item_id, g.user)
    following = local_path(request.form.get("next", ""))
    shown, submitted = posted_work(item, request.form)
    try:
        done = work.complete(item_id, g.user, submitted)
    except WorkError as error:
        if error.code == 409:
            flash(sentence(error.message), "error")
            return redirect(following or url_for("web.work_item", item_id=item_id))
        if error.code != 400:
            raise
        refused = work_form(item, shown, error.errors or {FORM_ERROR: sentence(error.message)})
        record = item.get("record")
        if record and request.form.get("from") == "guide":
            return record_page(record["object"], record["id"], work_form=refused)
        return _item_page(item, form=refused, status=400)
    flash(f"Completed: {done['label']}.", "success")
    return redirect(following or url_for("web.work_list"))


@bp.post("/work/<int:item_id>/claim")
@login_required
def work_claim(item_id: int) -> Response:
    """Take an item of a queue or group: it is in the user's list until they complete
    or release it.  Someone was quicker: a message saying who."""
    return _act(item_id, "claim", "You claimed “{label}”: it is yours until you complete "
                                  "or release it.")  # fmt: skip


@bp.post("/work/<int:item_id>/release")
@login_required
def work_release(item_id: int) -> Response:
    """Give a claimed item back to its queue or group, for any member to claim."""
    return _act(item_id, "release", "You released “{label}”: it is back with {assignee}.")


def _act(item_id: int, action: str, done: str) -> Response:
    following = local_path(request.form.get("next", ""))
    back = following or url_for("web.work_item", item_id=item_id)
    try:
        item = getattr(current().work, action)(item_id, g.user)
    except WorkError as error:
        if error.code != 409:
            raise
        flash(sentence(error.message), "error")
        return redirect(back)
    flash(done.format(label=item["label"], assignee=target_label(item["assignee"])), "success")
    return redirect(back)


@bp.post("/work/<int:item_id>/reassign")
@login_required
def work_reassign(item_id: int) -> View:
    """Give the item to another user, queue or group, with a reason for the run's log.
    A target who cannot open the item's record is refused, saying why; an admin may then
    reassign anyway (``force``)."""
    work = current().work
    item = work.get(item_id, g.user)
    asked = Reassignment(request.form.get("to", "").strip(), request.form.get("reason", "").strip())
    force = request.form.get("force") == YES
    try:
        if not asked.to:
            raise WorkError(
                400, "Say whom to give the item to: user:NAME, queue:NAME or group:NAME"
            )
        work.reassign(item_id, g.user, asked.to, asked.reason, force=force)
    except WorkError as error:
        if error.code not in (400, 409):
            raise
        offer = error.code == 409 and g.user.is_admin
        refused = dataclasses.replace(asked, error=sentence(error.message), offer_force=offer)
        return _item_page(item, reassignment=refused, status=error.code)
    flash(f"“{item['label']}” is now with {target_label(asked.to)}.", "success")
    return redirect(url_for("web.work_list"))


# -- shared with the templates ---------------------------------------------------------


def record_url(record: Mapping[str, Any]) -> str:
    """The page of a work item's record (``{"object", "id", …}``)."""
    return url_for("web.record_view", object_name=record["object"], record_id=record["id"])


@bp.app_template_filter("target")
def target_label(target: str | None) -> str:
    """An assignee as people read it: ``ann`` for ``user:ann``, ``queue tier2``."""
    kind, _, name = (target or "").partition(":")
    if not name:
        return kind
    return name if kind == "user" else f"{kind} {name}"


@bp.app_template_global("object_label")
def object_label(object_name: str) -> str:
    """What people call an object: its label, or its name (an object no longer
    deployed: its name)."""
    try:
        spec = current().records.object_spec(object_name)
    except LookupError:
        return object_name
    return spec.label or spec.name


@bp.app_template_global("record_url")
def _record_url(record: Mapping[str, Any]) -> str:
    return record_url(record)
