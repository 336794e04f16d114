"""Stageflow objects whose records are the rows of tables in an existing SQL database.

Map an object onto a table in the server's configuration::

    [plugins.sqltable.objects.Customer]
    url = "sqlite:////srv/crm.db"        # or postgresql://user@host/dbname
    table = "customers"
    watermark = "updated_at"             # a column that grows on every change
    owner = "owner"                      # a column holding the owner's user name

and its records can be read, queried, created, updated and deleted like any other, and
its changes, made through Stageflow or by other programs, start orchestrations.  The
plugin is also the template for writing a record source: see its README.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stageflow import hookimpl

from .settings import ObjectSettings, read_settings
from .source import SqlTableSource

__all__ = ["ObjectSettings", "SqlTableSource", "read_settings", "register_record_sources"]


@hookimpl
def register_record_sources(config: Mapping[str, Any]) -> list[SqlTableSource]:
    """The ``sqltable`` source, serving the objects of ``[plugins.sqltable.objects]``."""
    return [SqlTableSource(read_settings(config))]
