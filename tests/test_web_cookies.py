"""Session cookies: not for scripts, not cross-site, and over HTTPS only when served so."""

from __future__ import annotations

from pathlib import Path

import pytest

from stageflow.app import create_app


@pytest.mark.parametrize(("base_url", "secure"), [("", False), ("https://flow.example.com", True)])
def test_session_cookie_settings(tmp_path: Path, database_url: str, base_url: str,
                                 secure: bool) -> None:  # fmt: skip
    app = create_app({"database_url": database_url, "instance_dir": str(tmp_path),
                      "base_url": base_url, "TESTING": True})  # fmt: skip
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is secure
    response = app.test_client().get("/login")  # the CSRF token starts a session
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("Secure" in cookie) is secure
