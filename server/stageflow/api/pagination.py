"""Cursor pagination: ``?limit=`` and an opaque ``?cursor=``; responses carry ``next``.

A cursor is the last row's key, encoded so clients treat it as opaque; keyset paging
(``WHERE id < last``) stays correct while rows are added and costs the same on every
page, unlike ``OFFSET``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import peewee
from flask import request

from .errors import ApiError
from .schema import Field

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

#: The query parameters every paginated route takes (declare them in ``@operation``).
PAGE_QUERY = {
    "limit": Field("integer", description=f"Page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})"),
    "cursor": Field("string", description="The `next` value of the previous page"),
}


def page_limit() -> int:
    """The requested page size; 400 outside 1…MAX_LIMIT."""
    text = request.args.get("limit")
    if text is None:
        return DEFAULT_LIMIT
    limit = int(text) if text.strip().isdigit() else 0
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, "invalid_query", f"limit must be between 1 and {MAX_LIMIT}",
                       {"limit": f"must be between 1 and {MAX_LIMIT}"})  # fmt: skip
    return limit


def encode_cursor(value: str) -> str:
    """An opaque cursor for a key."""
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The key inside a cursor; 400 if it was not made by :func:`encode_cursor`."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad_cursor() from None


def _bad_cursor() -> ApiError:
    return ApiError(400, "invalid_query", "cursor is not one this server gave out",
                    {"cursor": "use the 'next' value of the previous page"})  # fmt: skip


def keyset_page(
    query: peewee.ModelSelect,
    key: peewee.Field,
    present: Callable[[Any], dict[str, Any]],
    *,
    descending: bool = False,
) -> dict[str, Any]:
    """One page of ``query`` ordered by the integer ``key``: ``{"items", "next"}``."""
    limit = page_limit()
    if cursor := request.args.get("cursor"):
        last = decode_cursor(cursor)
        if not last.isdigit():
            raise _bad_cursor()
        query = query.where(key < int(last) if descending else key > int(last))
    rows = list(query.order_by(key.desc() if descending else key).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    following = encode_cursor(str(getattr(rows[-1], key.name))) if more else None
    return {"items": [present(row) for row in rows], "next": following}
