"""The Flask application factory."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from . import core, db, migrations
from .clock import Clock
from .config import load_config

DATABASE_FILE = "stageflow.db"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (the file name, not a key)


def create_app(config: Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the Stageflow web app: settings, database (created or upgraded), blueprints.

    ``config`` overrides every other source of settings (see :mod:`stageflow.config`);
    tests pass ``{"database_url": …}`` here, and a ``clock`` to control time.  Raises
    :class:`stageflow.config.ConfigError` for a bad setting.
    """
    settings = load_config(config)
    instance_dir = settings["instance_dir"]
    app = Flask(
        "stageflow", instance_path=str(Path(instance_dir).resolve()) if instance_dir else None
    )
    app.config.from_mapping({key.upper(): value for key, value in settings.items()})
    instance = Path(app.instance_path)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{instance / DATABASE_FILE}"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret_key(instance)
    app.logger.setLevel(logging.getLevelName(app.config["LOG_LEVEL"]))

    db.init_app(app)
    migrations.init_app(app)
    core.init_app(app, clock)

    from . import api

    app.register_blueprint(api.bp)
    return app


def _instance_secret_key(instance: Path) -> str:
    """The key kept in the instance folder, generated on first start (owner-only file)."""
    path = instance / SECRET_KEY_FILE
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()
