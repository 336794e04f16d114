"""Records of deployed objects: create, read, query, update, delete, share.

Values are checked against the object's active definition (400 naming each bad field).
Every call is made on behalf of the token's user: records they may not read are left
out of queries and answer 403 when named (see :mod:`stageflow.access`).  Creating and
updating fire the object's record triggers.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from .. import access
from ..core import current
from . import bp
from .access import current_user, operation
from .errors import ApiError
from .pagination import PAGE_QUERY, decode_cursor, encode_cursor, page_limit
from .schema import Field, FreeForm

VALUES = FreeForm('Field values, e.g. {"Subject": "Printer on fire"}')
QUERY = {
    **PAGE_QUERY,
    "sort": Field("string", description="A field to sort by; `-Field` for descending"),
}
SHARE = {
    "to": Field("string", required=True, description="user:NAME, group:NAME or queue:NAME"),
    "level": Field("string", required=True, enum=access.ACTIONS, description="read or edit"),
}


@bp.post("/records/<object_name>")
@operation("Create a record (you own it)", tag="records", body=VALUES, status=201)
def create_record(object_name: str, body: dict[str, Any]) -> tuple[Response, int]:
    record = current().records.create(object_name, body, user=current_user())
    return jsonify(record), 201


@bp.get("/records/<object_name>")
@operation(
    "Query the records you may read: ?Field=value filters (all must match), ?sort=",
    tag="records",
    query=QUERY,
    extra_query=True,
    result="page",
)
def query_records(object_name: str) -> Response:
    where = {k: v for k, v in request.args.items() if k not in QUERY}
    cursor = request.args.get("cursor")
    try:
        page = current().records.query(
            object_name,
            where,
            order_by=request.args.get("sort") or None,
            limit=page_limit(),
            cursor=decode_cursor(cursor) if cursor else None,
            user=current_user(),
        )
    except ValueError as error:
        if hasattr(error, "errors"):  # a RecordError: unknown fields, bad values
            raise
        raise ApiError(400, "invalid_query", "cursor is not one this server gave out") from None
    following = encode_cursor(page.cursor) if page.cursor else None
    return jsonify({"items": page.records, "next": following})


@bp.get("/records/<object_name>/<record_id>")
@operation("A record", tag="records")
def get_record(object_name: str, record_id: str) -> Response:
    return jsonify(current().records.get(object_name, record_id, user=current_user()))


@bp.patch("/records/<object_name>/<record_id>")
@operation("Change some fields of a record", tag="records", body=VALUES)
def update_record(object_name: str, record_id: str, body: dict[str, Any]) -> Response:
    return jsonify(current().records.update(object_name, record_id, body, user=current_user()))


@bp.delete("/records/<object_name>/<record_id>")
@operation("Delete a record", tag="records", status=204, result="empty")
def delete_record(object_name: str, record_id: str) -> tuple[str, int]:
    current().records.delete(object_name, record_id, user=current_user())
    return "", 204


@bp.get("/records/<object_name>/<record_id>/shares")
@operation("Who a record is shared with", tag="records")
def list_shares(object_name: str, record_id: str) -> Response:
    current().records.get(object_name, record_id, user=current_user())
    return jsonify({"items": access.shares_of(object_name, record_id)})


@bp.post("/records/<object_name>/<record_id>/shares")
@operation("Share a record (its owner or an admin)", tag="records", body=SHARE, status=201)
def add_share(object_name: str, record_id: str, body: dict[str, Any]) -> tuple[Response, int]:
    _require_owner(object_name, record_id)
    return jsonify(access.share(object_name, record_id, body["to"], body["level"])), 201


@bp.delete("/records/<object_name>/<record_id>/shares/<grantee>")
@operation("Stop sharing a record with user:NAME, group:NAME or queue:NAME", tag="records",
           status=204, result="empty")  # fmt: skip
def remove_share(object_name: str, record_id: str, grantee: str) -> tuple[str, int]:
    _require_owner(object_name, record_id)
    if not access.unshare(object_name, record_id, grantee):
        raise ApiError(404, "not_found", f"{object_name} {record_id} is not shared with {grantee}")
    return "", 204


def _require_owner(object_name: str, record_id: str) -> None:
    """403 unless the caller owns the record or is an admin (who share it)."""
    user = current_user()
    record = current().records.get(object_name, record_id, user=user)
    if not user.is_admin and record.get("Owner") != user.name:
        raise ApiError(403, "forbidden", f"Only the owner of {object_name} {record_id} or an "
                       "admin may change who it is shared with")  # fmt: skip
