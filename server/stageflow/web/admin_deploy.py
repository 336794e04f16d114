"""The deploy page (``/admin/deploy``): definitions pasted or uploaded, deployed as
``stageflow deploy`` and ``POST /api/definitions`` deploy them (the same function,
:func:`~stageflow.definitions.deploy.deploy_sources`: all or nothing).

A refused deploy shows the page again (status 400) with every error as
``file:line:column: message``, each linking to its line in a listing of the files
where the lines with errors are marked and their messages written beside them; the
pasted text stays in the form.  A deploy that went through redirects back to the page
(Post/Redirect/Get), which then lists once what was deployed: each definition's
version, new or unchanged, active or not, with links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from flask import flash, g, redirect, render_template, request, session, url_for
from werkzeug.datastructures import FileStorage

from ..api.definitions import MAX_DEFINITION_BYTES
from ..core import current
from ..definitions.deploy import deploy_sources
from ..definitions.errors import DefinitionError, DefinitionErrors
from ..definitions.store import Deployed
from . import bp
from .admin_people import View, admin_required
from .deploy_listing import listings

#: The file name errors in the pasted text are reported against.
PASTED_FILE = "pasted.yaml"
#: Where the page keeps what was deployed until it has shown it (in the session).
DEPLOYED_KEY = "deployed"
#: At most this many deployed definitions are listed (the session is a cookie).
MAX_LISTED = 40


class NothingToDeploy(ValueError):
    """The form held no definitions to deploy, or files that cannot be read."""


@dataclass(frozen=True)
class DeployedRow:
    """A deployed definition as the page lists it, with the page to see it on."""

    kind: str
    name: str
    version: int
    created: bool
    active: bool
    url: str | None


def upload_name(upload: FileStorage) -> str:
    """The name of an uploaded file without any folders the browser sent."""
    return PurePosixPath((upload.filename or "").replace("\\", "/")).name


def unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``… if it is taken (errors must say which file they are in)."""
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name} ({number})"
    taken.add(candidate)
    return candidate


def posted_sources(pasted: str, uploads: Sequence[FileStorage]) -> list[tuple[str, str]]:
    """``[(file name, YAML text), …]`` from the pasted text and the uploaded files.

    Raises :class:`NothingToDeploy` when there is nothing, a file is not UTF-8 text, or
    all of it is more than the API takes in one deploy.
    """
    sources: list[tuple[str, str]] = []
    taken: set[str] = set()
    if pasted.strip():
        sources.append((unique(PASTED_FILE, taken), normal_lines(pasted)))
    for upload in uploads:
        name = upload_name(upload)
        if not name:  # the file input was left empty
            continue
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise NothingToDeploy(f"{name} is not UTF-8 text: save it as UTF-8 and choose it "
                                  "again.") from None  # fmt: skip
        sources.append((unique(name, taken), normal_lines(text)))
    if not sources:
        raise NothingToDeploy("Paste YAML into the text box or choose one or more files.")
    size = sum(len(text.encode()) for _, text in sources)
    if size > MAX_DEFINITION_BYTES:
        raise NothingToDeploy(f"That is {size // 1024} KiB of YAML; deploy at most "
                              f"{MAX_DEFINITION_BYTES // 1024} KiB at a time.")  # fmt: skip
    return sources


def normal_lines(text: str) -> str:
    """``text`` with the line ends browsers send (``\\r\\n``) made ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def definition_url(kind: str, name: str, version: int) -> str | None:
    """The page to see a deployed definition on, if there is one."""
    if kind == "orchestration":
        return url_for("web.admin_orchestration", name=name, version=version)
    if kind == "object":
        return url_for("web.record_list", object_name=name)
    if kind == "directory":
        return url_for("web.admin_people")
    return url_for("web.admin_orchestrations", _anchor=f"{kind}s")


def remember(deployed: Sequence[Deployed]) -> None:
    """Keep what was deployed for the page after the redirect, and say it in a message."""
    session[DEPLOYED_KEY] = [
        [d.kind, d.name, d.version, d.created, d.active] for d in deployed[:MAX_LISTED]
    ]
    created = sum(1 for d in deployed if d.created)
    unchanged = len(deployed) - created
    flash(f"Deployed {len(deployed)} definition{'' if len(deployed) == 1 else 's'}: "
          f"{created} new version{'' if created == 1 else 's'}, {unchanged} unchanged.",
          "success")  # fmt: skip
    if len(deployed) > MAX_LISTED:
        flash(f"Only the first {MAX_LISTED} are listed below.", "info")


def remembered() -> list[DeployedRow]:
    """What the last deploy did (once: it is forgotten when shown)."""
    rows = session.pop(DEPLOYED_KEY, None) or []
    return [
        DeployedRow(
            kind, name, version, bool(created), bool(active), definition_url(kind, name, version)
        )
        for kind, name, version, created, active in rows
    ]


def deploy_page(
    *,
    pasted: str = "",
    activate: bool = False,
    problem: str = "",
    sources: Sequence[tuple[str, str]] = (),
    errors: Sequence[DefinitionError] = (),
    uploaded: bool = False,
) -> View:
    """The deploy form; after a refusal (``problem`` or ``errors``), with what was wrong."""
    values: Mapping[str, Any] = {
        "pasted": pasted,
        "activate": activate,
        "problem": problem,
        "errors": errors,
        "listings": listings(sources, errors) if errors else [],
        "uploaded": uploaded,
        "deployed": [] if problem or errors else remembered(),
        "max_kib": MAX_DEFINITION_BYTES // 1024,
    }
    html = render_template("admin/deploy.html", **values)
    return (html, 400) if problem or errors else html


@bp.get("/admin/deploy")
@admin_required
def admin_deploy() -> View:
    """The deploy form, and what the last deploy did."""
    return deploy_page()


@bp.post("/admin/deploy")
@admin_required
def admin_deploy_post() -> View:
    """Deploy what was pasted and uploaded, all or nothing."""
    pasted = request.form.get("definitions", "")
    activate = request.form.get("activate", "") not in ("", "false")
    uploads = [u for u in request.files.getlist("files") if u.filename]
    shown = {"pasted": pasted, "activate": activate, "uploaded": bool(uploads)}
    try:
        sources = posted_sources(pasted, uploads)
        deployed = deploy_sources(sources, step_types=current().registry.step_types,
                                  activate=activate, actor=g.user)  # fmt: skip
    except NothingToDeploy as refusal:
        return deploy_page(problem=str(refusal), **shown)
    except DefinitionErrors as refusal:
        return deploy_page(sources=sources, errors=refusal.errors, **shown)
    if not deployed:
        return deploy_page(problem="There is no definition in that YAML (only comments or "
                           "empty documents): nothing was deployed.", **shown)  # fmt: skip
    remember(deployed)
    return redirect(url_for("web.admin_deploy"))
