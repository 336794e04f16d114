"""People and credentials: password hashes, API tokens, and who is making a request.

Passwords are hashed with werkzeug's scrypt.  An API token is a random string shown
once when it is issued; only its SHA-256 is stored (:class:`~stageflow.models.ApiToken`),
so a stolen database gives no usable token.  A token stops working when it is revoked
or its user is deactivated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from werkzeug.security import check_password_hash, generate_password_hash

from .db import database
from .models import ApiToken, Group, GroupMembership, Queue, QueueMembership, User, utcnow

TOKEN_PREFIX = "sf_"  # noqa: S105 (a prefix that makes leaked tokens easy to spot)
#: ``last_used_at`` is written at most this often per token (a write per request is waste).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class AuthError(Exception):
    """A user or credential operation refused; the message says why."""


def hash_password(password: str) -> str:
    """The scrypt hash of ``password``, as stored in ``User.password_hash``."""
    return generate_password_hash(password, method="scrypt")


def check_password(user: User, password: str) -> bool:
    """Whether ``password`` is the user's (False for a user without one or inactive)."""
    if not user.is_active or not user.password_hash:
        return False
    return check_password_hash(user.password_hash, password)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    name: str, *, password: str | None = None, email: str | None = None, admin: bool = False
) -> User:
    """Create a user; AuthError if the name is taken or empty."""
    name = name.strip()
    if not name:
        raise AuthError("A user needs a name")
    with database.atomic():
        if User.get_or_none(User.name == name) is not None:
            raise AuthError(f"A user named {name!r} already exists")
        return User.create(
            name=name,
            email=email,
            is_admin=admin,
            password_hash=hash_password(password) if password else None,
        )


def find_user(name: str) -> User:
    """The user of that name; AuthError if there is none."""
    user = User.get_or_none(User.name == name)
    if user is None:
        raise AuthError(f"No user named {name!r}")
    return user


def issue_token(user: User, label: str = "") -> tuple[ApiToken, str]:
    """A new API token for ``user``: the stored row and the token text (shown only now)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.create(user=user, token_hash=token_hash(token), label=label)
    return row, token


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens; AuthError if it is not theirs or already revoked."""
    row = ApiToken.get_or_none((ApiToken.id == token_id) & (ApiToken.user == user))
    if row is None:
        raise AuthError(f"User {user.name!r} has no token {token_id}")
    if row.revoked_at is not None:
        raise AuthError(f"Token {token_id} was already revoked")
    row.revoked_at = utcnow()
    row.save(only=[ApiToken.revoked_at])
    return row


def user_for_token(token: str, now: dt.datetime | None = None) -> User | None:
    """The active user a valid, unrevoked token belongs to, or None."""
    row = (
        ApiToken.select(ApiToken, User)
        .join(User)
        .where((ApiToken.token_hash == token_hash(token)) & ApiToken.revoked_at.is_null())
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
    return row.user


def set_members(kind: str, name: str, members: Iterable[str]) -> tuple[bool, list[str]]:
    """Create (or update) a group or queue with exactly these members.

    ``kind`` is ``group`` or ``queue``.  Returns whether it was created, and the member
    names.  AuthError naming every unknown user; then nothing changes.
    """
    team_model, membership, field = (
        (Group, GroupMembership, "group") if kind == "group" else (Queue, QueueMembership, "queue")
    )
    names = sorted({m.strip() for m in members if m.strip()})
    with database.atomic():
        users = list(User.select().where(User.name.in_(names)))
        unknown = sorted(set(names) - {u.name for u in users})
        if unknown:
            raise AuthError(f"No user named {', '.join(unknown)}; create them first")
        team, created = team_model.get_or_create(name=name)
        membership.delete().where(getattr(membership, field) == team).execute()
        if users:
            membership.insert_many([{field: team, "user": user} for user in users]).execute()
    return created, names
