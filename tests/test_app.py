"""The app factory: first start, instance folder, secret key."""

from __future__ import annotations

from pathlib import Path

import pytest

from stageflow.app import create_app
from stageflow.config import ConfigError
from stageflow.db import database
from stageflow.migrations import current_version, latest_version


@pytest.mark.sqlite_only
def test_first_start_creates_the_sqlite_file_in_the_instance_folder(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    app = create_app({"instance_dir": str(instance)})
    assert app.instance_path == str(instance)
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance}/stageflow.db"
    assert (instance / "stageflow.db").is_file()
    with database.connection_context():
        assert current_version() == latest_version()


def test_secret_key_is_generated_once_and_kept(tmp_path: Path, database_url: str) -> None:
    settings = {"instance_dir": str(tmp_path), "database_url": database_url}
    first = create_app(settings).config["SECRET_KEY"]
    assert len(first) >= 32
    assert create_app(settings).config["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert create_app({**settings, "secret_key": "given"}).config["SECRET_KEY"] == "given"


def test_environment_reaches_the_app(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEFLOW_WORKERS", "7")
    monkeypatch.setenv("STAGEFLOW_DATABASE_URL", database_url)
    app = create_app({"instance_dir": str(tmp_path)})
    assert app.config["WORKERS"] == 7
    assert app.config["DATABASE_URL"] == database_url


def test_bad_setting_stops_the_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGEFLOW_JOB_LEASE_SECONDS", "soon")
    with pytest.raises(ConfigError, match="STAGEFLOW_JOB_LEASE_SECONDS: job_lease_seconds"):
        create_app({"instance_dir": str(tmp_path)})
