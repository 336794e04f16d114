"""The plugin's settings: one ``[plugins.sqltable.objects.NAME]`` table per object.

They come from the server's configuration (``stageflow.toml``, or the JSON of the
``STAGEFLOW_PLUGINS`` environment variable) and are checked when the server starts: a
mistake stops the start-up with a message that names the object and the setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from playhouse import db_url

#: The databases this plugin supports, by URL scheme (``+pool``: a connection pool).
SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+pool", "postgres+pool")


@dataclass(frozen=True)
class ObjectSettings:
    """Where one Stageflow object's records live: a table of a database named by a URL.

    ``key`` is the column that identifies a row (None: the table's primary key),
    ``watermark`` a datetime or integer column that grows on every change (None: only
    changes made through Stageflow reach the change feed), ``owner`` a column holding
    the owner's user name.
    """

    object: str
    url: str
    table: str
    key: str | None = None
    watermark: str | None = None
    owner: str | None = None

    def problem(self, setting: str, message: str) -> ValueError:
        """An error in one of these settings, naming where it is set."""
        return ValueError(f"[plugins.sqltable.objects.{self.object}] {setting}: {message}")


def read_settings(config: Mapping[str, Any]) -> list[ObjectSettings]:
    """The objects configured in the server's ``config``, checked (ValueError if wrong).

    No settings at all is fine: the source then serves no objects.
    """
    plugin = (config.get("plugins") or {}).get("sqltable") or {}
    _check_table(plugin, "[plugins.sqltable]", ("objects",))
    objects = plugin.get("objects") or {}
    _check_table(objects, "[plugins.sqltable.objects]", None)
    return [_object_settings(name, values) for name, values in objects.items()]


def _object_settings(name: str, values: Any) -> ObjectSettings:
    where = f"[plugins.sqltable.objects.{name}]"
    _check_table(values, where, ("url", "table", "key", "watermark", "owner"))
    for setting, value in values.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{where} {setting}: must be a non-empty text, got {value!r}")
    for setting in ("url", "table"):
        if setting not in values:
            raise ValueError(f"{where} {setting}: missing; every object needs a url and a table")
    settings = ObjectSettings(object=name, **values)
    scheme = settings.url.partition("://")[0]
    if scheme not in SCHEMES or scheme not in db_url.schemes:
        raise settings.problem(
            "url",
            f"unsupported database {scheme!r}; use sqlite:///path/to/file.db "
            "or postgresql://user@host/dbname",
        )
    return settings


def _check_table(value: Any, where: str, known: tuple[str, ...] | None) -> None:
    """``value`` must be a table (a mapping); with ``known``, of those keys only."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: must be a table, got {value!r}")
    unknown = [key for key in value if known is not None and key not in known]
    if unknown:
        raise ValueError(
            f"{where}: unknown setting {unknown[0]!r}; known settings: {', '.join(known or ())}"
        )
