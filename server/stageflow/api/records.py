"""Records of deployed objects: create, read, query, update, delete.

Values are checked against the object's active definition (400 naming each bad field).
Who may see which records comes with access rules (a later issue): for now every
authenticated user may use every record.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ..core import current
from ..records import RecordError
from . import bp
from .access import current_user, operation
from .errors import ApiError
from .pagination import PAGE_QUERY, decode_cursor, encode_cursor, page_limit
from .schema import FreeForm

VALUES = FreeForm('Field values, e.g. {"Subject": "Printer on fire"}')


@bp.post("/records/<object_name>")
@operation("Create a record", tag="records", body=VALUES, status=201)
def create_record(object_name: str, body: dict[str, Any]) -> tuple[Response, int]:
    record = current().records.create(object_name, body, owner=current_user().name)
    return jsonify(record), 201


@bp.get("/records/<object_name>")
@operation(
    "Query records: ?Field=value filters (all must match)",
    tag="records",
    query=PAGE_QUERY,
    extra_query=True,
    result="page",
)
def query_records(object_name: str) -> Response:
    where = {k: v for k, v in request.args.items() if k not in PAGE_QUERY}
    cursor = request.args.get("cursor")
    try:
        page = current().records.query(
            object_name, where, limit=page_limit(), cursor=decode_cursor(cursor) if cursor else None
        )
    except RecordError:
        raise
    except ValueError:  # a cursor the record source refuses
        raise ApiError(400, "invalid_query", "cursor is not one this server gave out") from None
    following = encode_cursor(page.cursor) if page.cursor else None
    return jsonify({"items": page.records, "next": following})


@bp.get("/records/<object_name>/<record_id>")
@operation("A record", tag="records")
def get_record(object_name: str, record_id: str) -> Response:
    return jsonify(current().records.get(object_name, record_id))


@bp.patch("/records/<object_name>/<record_id>")
@operation("Change some fields of a record", tag="records", body=VALUES)
def update_record(object_name: str, record_id: str, body: dict[str, Any]) -> Response:
    return jsonify(current().records.update(object_name, record_id, body))


@bp.delete("/records/<object_name>/<record_id>")
@operation("Delete a record", tag="records", status=204, result="empty")
def delete_record(object_name: str, record_id: str) -> tuple[str, int]:
    current().records.delete(object_name, record_id)
    return "", 204
