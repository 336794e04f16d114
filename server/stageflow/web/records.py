"""Record pages: the objects, a list of an object's records, a new record, one record.

Every page acts on behalf of the signed-in user (``user=g.user``): lists hold only
records they may read, a record they may not read is a 403 page, and the edit form is
there only for those who may edit.  Values are checked by
:class:`~stageflow.records.RecordService`; its errors are shown at their fields, with
what was typed kept.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..access import check_access, require_access
from ..core import current
from ..definitions.spec import ObjectSpec
from ..extension import Page, Record
from ..records import RecordError
from . import bp
from .fields import (
    SYSTEM_LABELS,
    changed_values,
    columns,
    display,
    display_value,
    filter_inputs,
    filter_values,
    form_values,
    inputs,
    posted_values,
    record_values,
)
from .guide import work_guide
from .login import login_required
from .record_runs import record_runs
from .work_forms import WorkForm
from .zone import server_zone

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

View = str | Response | tuple[str, int]


@bp.get("/")
def home() -> Response:
    """The home page: My Work."""
    return redirect(url_for("web.work_list"))


@bp.get("/records")
@login_required
def record_index() -> str:
    """Every deployed object, each a link to its records."""
    return render_template("records/index.html", objects=current().records.objects())


@bp.get("/records/<object_name>")
@login_required
def record_list(object_name: str) -> View:
    """An object's records the user may read: ``?Field=value`` filters (all must match),
    ``?sort=Field`` or ``?sort=-Field``, and a link to the next page."""
    spec = current().records.object_spec(object_name)
    sort = request.args.get("sort") or None
    cursor = request.args.get("cursor") or None
    errors: dict[str, str] = {}
    page = Page([])
    try:
        where = filter_values(spec, request.args, server_zone())
        page = current().records.query(object_name, where, order_by=sort, limit=_page_size(),
                                       cursor=cursor, user=g.user)  # fmt: skip
    except RecordError as error:
        errors = error.errors
    except ValueError:  # a cursor the record source refuses
        errors = {"cursor": "This page link is out of date: start again from the first page."}
    html = render_template(
        "records/list.html",
        spec=spec,
        filters=filter_inputs(spec, request.args, errors),
        columns=columns(spec),
        rows=[_cells(spec, record) for record in page.records],
        sort=sort,
        errors=errors,
        next_url=_list_url(object_name, cursor=page.cursor) if page.cursor else None,
        sort_url=lambda name: _list_url(object_name, sort=_next_sort(sort, name), cursor=None),
    )
    return (html, 400) if errors else html


@bp.route("/records/<object_name>/new", methods=("GET", "POST"))
@login_required
def record_new(object_name: str) -> View:
    """The form for a new record; on success, the new record's page."""
    spec = current().records.object_spec(object_name)
    if request.method == "GET":
        return _form_page("records/new.html", spec, {})
    shown = posted_values(spec, request.form)
    try:
        record = current().records.create(object_name, record_values(spec, shown, server_zone()),
                                          owner=g.user.name, user=g.user)  # fmt: skip
    except RecordError as error:
        return _form_page("records/new.html", spec, shown, error.errors)
    flash(f"{_title(spec)} {record['Id']} created.", "success")
    return redirect(url_for("web.record_view", object_name=object_name, record_id=record["Id"]))


@bp.route("/records/<object_name>/<record_id>", methods=("GET", "POST"))
@login_required
def record_view(object_name: str, record_id: str) -> View:
    """A record: its values, its runs, the Work Guide and (for those who may edit it)
    the edit form, which posts here."""
    records = current().records
    spec = records.object_spec(object_name)
    record = records.get(object_name, record_id, user=g.user)
    before = form_values(spec, record, server_zone())
    if request.method == "GET":
        return _record_page(spec, record, before)
    require_access(g.user, spec, record, "edit")
    shown = posted_values(spec, request.form)
    changes = changed_values(spec, shown, before, server_zone())
    if changes:
        try:
            records.update(object_name, record_id, changes, user=g.user)
        except RecordError as error:
            return _record_page(spec, record, shown, error.errors)
        flash(f"{_title(spec)} {record_id} saved.", "success")
    else:
        flash("Nothing was changed.", "info")
    return redirect(url_for("web.record_view", object_name=object_name, record_id=record_id))


def record_page(object_name: str, record_id: str, work_form: WorkForm | None = None) -> View:
    """A record's page for the signed-in user, with ``work_form`` (a form of its Work
    Guide that was sent and refused) showing its errors."""
    records = current().records
    spec = records.object_spec(object_name)
    record = records.get(object_name, record_id, user=g.user)
    return _record_page(spec, record, form_values(spec, record, server_zone()),
                        work_form=work_form)  # fmt: skip


def _record_page(
    spec: ObjectSpec,
    record: Record,
    shown: dict[str, Any],
    errors: dict[str, str] | None = None,
    *,
    work_form: WorkForm | None = None,
) -> View:
    zone = server_zone()
    may_edit = check_access(g.user, spec, record, "edit")
    guide = work_guide(spec.name, record["Id"], work_form)
    html = render_template(
        "records/view.html",
        spec=spec,
        title=_title(spec),
        record=record,
        values=[(field, display(field, record.get(field.name), zone)) for field in spec.fields],
        system=[
            (label, display_value(record.get(name), zone)) for name, label in SYSTEM_LABELS.items()
        ],
        inputs=inputs(spec, shown, errors) if may_edit else None,
        record_error=_record_error(spec, errors),
        editing=bool(errors),
        runs=record_runs(spec.name, record["Id"]),
        guide=guide,
        here=url_for("web.record_view", object_name=spec.name, record_id=record["Id"]),
    )
    return (html, 400) if errors or guide.has_errors else html


def _form_page(
    template: str, spec: ObjectSpec, shown: dict[str, Any], errors: dict[str, str] | None = None
) -> View:
    html = render_template(
        template,
        spec=spec,
        title=_title(spec),
        inputs=inputs(spec, shown, errors),
        record_error=_record_error(spec, errors),
    )
    return (html, 400) if errors else html


def _record_error(spec: ObjectSpec, errors: dict[str, str] | None) -> str:
    """The errors that belong to no field (a validation rule's message), shown above it."""
    return " ".join(message for name, message in (errors or {}).items() if spec.field(name) is None)


def _cells(spec: ObjectSpec, record: Record) -> dict[str, Any]:
    zone = server_zone()
    return {
        "id": record["Id"],
        "values": [display(field, record.get(field.name), zone) for field in columns(spec)],
    }


def _title(spec: ObjectSpec) -> str:
    return spec.label or spec.name


def _page_size() -> int:
    text = request.args.get("limit", "")
    return min(int(text), MAX_PAGE_SIZE) if text.isdigit() and int(text) > 0 else PAGE_SIZE


def _next_sort(sort: str | None, name: str) -> str:
    """Clicking a column sorts by it; clicking it again reverses the order."""
    return f"-{name}" if sort == name else name


def _list_url(object_name: str, **changes: str | None) -> str:
    """This list's URL with some query arguments changed (None: removed)."""
    args = {key: value for key, value in request.args.items() if key not in changes}
    args.update({key: value for key, value in changes.items() if value is not None})
    return url_for("web.record_list", object_name=object_name, **args)
