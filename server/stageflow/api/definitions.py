"""``POST /api/definitions``: deploy YAML documents, all or nothing (DESIGN.md §3)."""

from __future__ import annotations

from flask import Response, jsonify, request

from ..core import current
from ..definitions.deploy import deploy_sources
from . import bp
from .access import current_user, operation
from .errors import ApiError
from .schema import Field

#: Largest YAML body accepted (a bigger one is answered 413).
MAX_DEFINITION_BYTES = 2 * 1024 * 1024
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
#: The file name errors are reported against (``?file=`` overrides it).
DEFAULT_FILE = "request.yaml"


@bp.post("/definitions")
@operation(
    "Deploy definitions (YAML, one or many documents)",
    tag="definitions",
    access="admin",
    body={},
    body_media_type="application/yaml",
    query={
        "activate": Field("string", enum=("true", "false"),
                          description="Make deployed orchestrations active"),
        "file": Field("string", description=f"File name in error messages ({DEFAULT_FILE})"),
    },
    status=201,
    description="400 lists every error as file:line:column: message; then nothing changed.",
)  # fmt: skip
def deploy_definitions() -> tuple[Response, int]:
    if request.mimetype not in YAML_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Send YAML with Content-Type: application/yaml, not {request.mimetype or 'none'}",
        )
    request.max_content_length = MAX_DEFINITION_BYTES
    try:
        text = request.get_data(as_text=False).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_body", "The YAML must be UTF-8 text") from None
    if not text.strip():
        raise ApiError(400, "invalid_body", "The body is empty: send one or more YAML documents")
    deployed = deploy_sources(
        [(request.args.get("file") or DEFAULT_FILE, text)],
        step_types=current().registry.step_types,
        activate=request.args.get("activate") == "true",
        actor=current_user(),
    )
    return jsonify({"deployed": [d.to_dict() for d in deployed]}), 201
