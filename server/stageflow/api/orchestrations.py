"""Orchestrations: their versions, activation, and launching runs."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ..core import current
from ..definitions import store
from ..models import Definition, DefinitionVersion
from . import bp
from .access import current_user, operation
from .errors import ApiError
from .runs import run_response
from .schema import Field

KIND = "orchestration"
ACTIVATE = {"version": Field("integer", required=True, description="The version to activate")}
LAUNCH = {
    "inputs": Field("object", description="Values of the orchestration's inputs"),
    "record": Field(
        "object",
        description="The record the run works on",
        fields={
            "object": Field("string", required=True),
            "id": Field("string|integer", required=True),
        },
    ),
}


def _definition(name: str) -> Definition:
    definition = Definition.get_or_none(kind=KIND, name=name)
    if definition is None:
        raise ApiError(404, "not_found", f"No orchestration named {name!r} is deployed")
    return definition


def _summary(definition: Definition, versions: list[DefinitionVersion]) -> dict[str, Any]:
    active = next((v for v in versions if v.active), None)
    label = active.parsed.get("label") if active is not None else None
    return {
        "name": definition.name,
        "label": label or "",
        "active_version": active.version if active is not None else None,
        "latest_version": max((v.version for v in versions), default=None),
    }


@bp.get("/orchestrations")
@operation("List orchestrations with their active and latest versions", tag="orchestrations")
def list_orchestrations() -> Response:
    definitions = list(Definition.select().where(Definition.kind == KIND).order_by(Definition.name))
    versions: dict[int, list[DefinitionVersion]] = {}
    query = DefinitionVersion.select(
        DefinitionVersion.id, DefinitionVersion.definition, DefinitionVersion.version,
        DefinitionVersion.active, DefinitionVersion.parsed,
    ).where(DefinitionVersion.definition.in_([d.id for d in definitions]))  # fmt: skip
    for row in query:
        versions.setdefault(row.definition_id, []).append(row)
    return jsonify({"items": [_summary(d, versions.get(d.id, [])) for d in definitions]})


@bp.get("/orchestrations/<name>")
@operation("An orchestration: every version with its content, and the active one",
           tag="orchestrations")  # fmt: skip
def get_orchestration(name: str) -> Response:
    definition = _definition(name)
    versions = list(definition.versions.order_by(DefinitionVersion.version.desc()))
    return jsonify(
        {**_summary(definition, versions), "versions": [store.version_summary(v) for v in versions]}
    )


@bp.post("/orchestrations/<name>/activate")
@operation("Activate a version (new runs use it; running ones keep theirs)",
           tag="orchestrations", access="admin", body=ACTIVATE)  # fmt: skip
def activate_orchestration(name: str, body: dict[str, Any]) -> Response:
    _definition(name)
    row = store.activate(KIND, name, body["version"])
    return jsonify({"name": name, "active_version": row.version})


@bp.post("/orchestrations/<name>/runs")
@operation("Launch a run of the active version", tag="runs", body=LAUNCH, status=201)
def launch_run(name: str, body: dict[str, Any]) -> tuple[Response, int]:
    record = body.get("record")
    run = current().engine.launch(
        name,
        inputs=body.get("inputs") or {},
        record=(record["object"], str(record["id"])) if record else None,
        actor=current_user().name,
    )
    return run_response(run, 201)
