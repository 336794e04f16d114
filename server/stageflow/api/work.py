"""Work items: people's lists, one item, and claim, release, complete and reassign.

Every call acts for the token's user, as the pages do (see :mod:`stageflow.work`): other
people's items answer 403, and an item closed meanwhile 409 with what happened.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ..core import current
from ..work import WorkError
from . import bp
from .access import current_user, operation
from .errors import error_response
from .pagination import PAGE_QUERY, page_limit
from .schema import Field

LIST_QUERY = {
    **PAGE_QUERY,
    "scope": Field("string", enum=("mine", "queues", "all"),
                   description="mine (default), queues (yours, unclaimed) or all (admins)"),
    "status": Field("string", enum=("open", "completed"),
                    description="open (default) or completed"),
    "overdue": Field("boolean", description="Only items past their due time"),
    "orchestration": Field("string", description="Only items of this orchestration"),
}  # fmt: skip
COMPLETE = {"outputs": Field("object", required=True, description="The form's values by field")}
REASSIGN = {
    "to": Field("string", required=True, description="user:NAME, queue:NAME or group:NAME"),
    "reason": Field("string", description="Why; kept in the run's event log"),
    "force": Field("boolean", description="Admins: even if the target cannot open the record"),
}
BULK = {
    **REASSIGN,
    "ids": Field("array", required=True, description="The work items to reassign"),
}


@bp.errorhandler(WorkError)
def _work_error(error: WorkError) -> tuple[Response, int]:
    codes = {400: "bad_request", 403: "forbidden", 404: "not_found", 409: "conflict"}
    return error_response(error.code, codes.get(error.code, "error"), error.message,
                          error.errors or None)  # fmt: skip


@bp.get("/work-items")
@operation("Work items: yours, your queues' and groups', or everyone's (admins)",
           tag="work", query=LIST_QUERY, result="page")  # fmt: skip
def list_work_items() -> Response:
    scope = request.args.get("scope", "mine")
    status = request.args.get("status", "open")
    if scope == "mine" and status == "completed":
        scope, status = "completed", None  # what I completed
    elif scope == "queues" and status == "completed":
        raise WorkError(400, "queues lists open work only; use scope=mine&status=completed")
    page = current().work.list(
        current_user(),
        scope,
        orchestration=request.args.get("orchestration") or None,
        overdue=request.args.get("overdue", "").lower() in ("true", "1", "yes"),
        status=status if scope == "all" else None,
        limit=page_limit(),
        cursor=request.args.get("cursor") or None,
    )
    return jsonify({"items": page.items, "next": page.next, "total": page.total})


@bp.get("/work-items/<int:item_id>")
@operation("A work item with its form", tag="work")
def get_work_item(item_id: int) -> Response:
    return jsonify(current().work.get(item_id, current_user()))


@bp.post("/work-items/<int:item_id>/claim")
@operation("Claim a queue or group item", tag="work")
def claim_work_item(item_id: int) -> Response:
    return jsonify(current().work.claim(item_id, current_user()))


@bp.post("/work-items/<int:item_id>/release")
@operation("Give a claimed item back to its queue or group", tag="work")
def release_work_item(item_id: int) -> Response:
    return jsonify(current().work.release(item_id, current_user()))


@bp.post("/work-items/<int:item_id>/complete")
@operation("Complete an item with its form's values (400 names each bad field)",
           tag="work", body=COMPLETE)  # fmt: skip
def complete_work_item(item_id: int, body: dict[str, Any]) -> Response:
    return jsonify(current().work.complete(item_id, current_user(), body["outputs"]))


@bp.post("/work-items/<int:item_id>/reassign")
@operation("Reassign an item (its holder or an admin)", tag="work", body=REASSIGN)
def reassign_work_item(item_id: int, body: dict[str, Any]) -> Response:
    return jsonify(current().work.reassign(
        item_id, current_user(), body["to"], body.get("reason") or "", force=bool(body.get("force"))
    ))  # fmt: skip


@bp.post("/work-items/reassign")
@operation("Reassign many items at once (admins); each is done or refused on its own",
           tag="work", access="admin", body=BULK)  # fmt: skip
def reassign_work_items(body: dict[str, Any]) -> Response:
    results = []
    for item_id in body["ids"]:
        try:
            item = current().work.reassign(int(item_id), current_user(), body["to"],
                                           body.get("reason") or "",
                                           force=bool(body.get("force")))  # fmt: skip
            results.append({"id": item["id"], "ok": True, "assignee": item["assignee"]})
        except (WorkError, ValueError, TypeError) as error:
            message = error.message if isinstance(error, WorkError) else f"bad id {item_id!r}"
            results.append({"id": item_id, "ok": False, "error": message})
    return jsonify({"items": results})
