"""Session login: who is signed in (``g.user``), the login and logout pages, and
:func:`login_required` for every page that needs a person.

The session cookie holds only the user's id, signed with the app's secret key.  A user
who is deactivated is signed out on their next request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from ..auth import check_password
from ..models import User
from . import bp

#: The message for a failed login: it does not tell which of name and password was wrong.
LOGIN_REFUSED = "Wrong name or password, or the user is deactivated."


@bp.before_request
def load_user() -> None:
    """Set ``g.user`` to the signed-in, active user, or None."""
    user_id = session.get("user_id")
    user = User.get_or_none(User.id == user_id) if isinstance(user_id, int) else None
    if user is not None and not user.is_active:
        session.clear()
        user = None
    g.user = user


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send people who are not signed in to the login page, and back here afterwards."""

    @functools.wraps(view)
    def wrapper(**kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
        return view(**kwargs)

    return wrapper


@bp.route("/login", methods=("GET", "POST"))
def login() -> str | Response | tuple[str, int]:
    """The login form; on success, the page asked for (``?next=``) or the home page."""
    following = local_path(request.values.get("next", ""))
    if request.method == "GET":
        return render_template("login.html", name="", following=following)
    name = request.form.get("name", "").strip()
    user = User.get_or_none(User.name == name) if name else None
    if user is None or not check_password(user, request.form.get("password", "")):
        return render_template(
            "login.html", name=name, following=following, error=LOGIN_REFUSED
        ), 400
    session.clear()  # a new session for the new user, never one an attacker set up
    session["user_id"] = user.id
    return redirect(following or url_for("web.home"))


@bp.post("/logout")
def logout() -> Response:
    """Sign out (a POST, so that another site cannot sign people out with a link)."""
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("web.login"))


def local_path(target: str) -> str | None:
    """``target`` if it is a path on this site (never another host: no open redirect)."""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return None
    return target
