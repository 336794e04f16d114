"""The admin pages for orchestrations: the list of definitions, and one orchestration
with its versions, the changes between two of them, its diagram, and activation.

``/admin/orchestrations`` lists every orchestration (active and latest version, runs
going on, halted and in all), then the flows, objects and calendars.
``/admin/orchestrations/NAME`` shows one: the diagram and YAML of a version
(``?version=N``; by default the active one, else the latest), the history of its
versions with their runs, and the changes between two versions (``?a=1&b=2``).
Activating a version and deactivating post (with the CSRF token) and redirect back
with a message, as the REST API's activation does, through the same functions of
:mod:`stageflow.definitions.store`.
"""

from __future__ import annotations

from typing import cast

from flask import Response, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from ..core import current
from ..definitions import store
from ..definitions.spec import OrchestrationSpec
from ..models import Definition, DefinitionVersion
from . import bp
from .admin_people import View, admin_required
from .definition_catalog import SECTIONS, VersionRow, definition_rows, flow_infos, version_rows
from .diagram import orchestration_svg
from .version_diff import diff_lines

KIND = "orchestration"


def orchestration_or_404(name: str) -> Definition:
    """The orchestration of that name, or a Not found page."""
    definition = Definition.get_or_none(kind=KIND, name=name)
    if definition is None:
        abort(404, f"No orchestration named {name!r} is deployed.")
    return definition


def version_number(value: str | None, name: str, versions: list[VersionRow]) -> int | None:
    """A version asked for (``?version=``, ``?a=``), or None when none is; a Not found
    page when ``name`` has no such version."""
    if value is None or value == "":
        return None
    known = {row.version for row in versions}
    if not value.isdigit() or int(value) not in known:
        abort(404, f"Orchestration {name} has no version {value}.")
    return int(value)


def shown_version(versions: list[VersionRow], asked: int | None) -> VersionRow:
    """The version a page shows: the one asked for, else the active one, else the latest."""
    if not versions:
        abort(404, "This orchestration has no versions.")
    if asked is not None:
        return next(row for row in versions if row.version == asked)
    return next((row for row in versions if row.active), versions[0])


def diagram(version_id: int) -> str:
    """The SVG diagram of an orchestration version (its flows as they are active now,
    which is what a step of a new run calls)."""
    spec = cast(OrchestrationSpec, store.spec_of(version_id, KIND))
    names = {step.flow for stage in spec.stages for step in stage.steps}
    return orchestration_svg(spec, flow_infos(names, current().registry.step_types))


def content_of(version_id: int) -> str:
    """A version's YAML as deployed."""
    return DefinitionVersion.get_by_id(version_id).content


def active_number(definition: Definition) -> int | None:
    """The number of a definition's active version, or None."""
    row = (
        DefinitionVersion.select(DefinitionVersion.version)
        .where(
            (DefinitionVersion.definition == definition) & (DefinitionVersion.active == True)  # noqa: E712 (builds SQL)
        )
        .first()
    )
    return row.version if row is not None else None


def orchestration_url(name: str, **args: object) -> str:
    """An orchestration's page, with query arguments and an anchor (``_anchor``)."""
    return url_for("web.admin_orchestration", name=name, **args)


@bp.get("/admin/orchestrations")
@admin_required
def admin_orchestrations() -> View:
    """Every orchestration, flow, object and calendar, with its versions (and runs)."""
    return render_template("admin/orchestrations.html", sections=SECTIONS, rows=definition_rows())


@bp.get("/admin/orchestrations/<name>")
@admin_required
def admin_orchestration(name: str) -> View:
    """One orchestration: a version's diagram and YAML, its history, and a comparison."""
    definition = orchestration_or_404(name)
    versions = version_rows(definition)
    shown = shown_version(versions, version_number(request.args.get("version"), name, versions))
    old = version_number(request.args.get("a"), name, versions)
    new = version_number(request.args.get("b"), name, versions)
    compared = None
    if old is not None and new is not None:
        by_number = {row.version: row for row in versions}
        lines = diff_lines(content_of(by_number[old].id), content_of(by_number[new].id))
        compared = (old, new, lines)
    spec = store.spec_of(shown.id, KIND)
    return render_template(
        "admin/orchestration.html",
        name=name,
        spec=spec,
        versions=versions,
        shown=shown,
        active=next((row for row in versions if row.active), None),
        svg=Markup(diagram(shown.id)),  # noqa: S704 (built and escaped by diagram.py)
        content=content_of(shown.id),
        compared=compared,
        default_pair=(versions[1].version, versions[0].version) if len(versions) > 1 else None,
    )


@bp.get("/admin/orchestrations/<name>/diagram.svg")
@admin_required
def admin_orchestration_svg(name: str) -> Response:
    """A version's diagram alone, as an SVG file (``?version=N``, as on the page)."""
    versions = version_rows(orchestration_or_404(name))
    shown = shown_version(versions, version_number(request.args.get("version"), name, versions))
    svg = '<?xml version="1.0" encoding="UTF-8"?>\n' + diagram(shown.id)
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Disposition"] = f'inline; filename="{name}-v{shown.version}.svg"'
    return response


@bp.post("/admin/orchestrations/<name>/activate")
@admin_required
def admin_orchestration_activate(name: str) -> Response:
    """Make the posted version the active one (new runs use it; started runs keep theirs)."""
    definition = orchestration_or_404(name)
    wanted = request.form.get("version", "")
    if not wanted.isdigit():
        flash(f"Choose a version of {name} to activate.", "error")
    elif active_number(definition) == int(wanted):
        flash(f"Version {wanted} of {name} is already the active one.", "info")
    else:
        try:
            store.activate(KIND, name, int(wanted))
        except store.DefinitionNotFound:
            flash(f"Orchestration {name} has no version {wanted}: nothing changed.", "error")
        else:
            flash(f"Version {wanted} of {name} is active: new runs use it; runs already "
                  "started keep the version they started on.", "success")  # fmt: skip
    return redirect(orchestration_url(name, _anchor="versions"))


@bp.post("/admin/orchestrations/<name>/deactivate")
@admin_required
def admin_orchestration_deactivate(name: str) -> Response:
    """Leave no version active: no new runs start; runs already started go on."""
    definition = orchestration_or_404(name)
    if active_number(definition) is None:
        flash(f"{name} has no active version: nothing changed.", "info")
    else:
        store.deactivate(KIND, name)
        flash(f"{name} is deactivated: no new runs start (its trigger is off); runs already "
              "started go on. Activate a version to start runs again.", "success")  # fmt: skip
    return redirect(orchestration_url(name, _anchor="versions"))
