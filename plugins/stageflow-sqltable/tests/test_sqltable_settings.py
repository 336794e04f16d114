"""Loading the plugin through its entry point, and the start-up errors of its settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from stageflow.app import create_app
from stageflow.db import database
from stageflow.plugins import PluginError, collect, describe_plugins, get_plugin_manager
from stageflow_sqltable import SqlTableSource, read_settings

if TYPE_CHECKING:
    from conftest import Crm


def test_the_plugin_loads_without_settings() -> None:
    pm = get_plugin_manager()
    registry = collect(pm, {})
    source = registry.record_sources["sqltable"]
    assert isinstance(source, SqlTableSource)
    assert source.objects() == {}
    (described,) = [p for p in describe_plugins(pm, registry) if p["name"] == "sqltable"]
    assert described == {
        "name": "sqltable",
        "version": "0.1.0",
        "origin": "distribution stageflow-sqltable",
        "hooks": ["register_record_sources"],
        "registered": {"record_sources": ["sqltable"]},
    }


def test_the_plugin_loads_with_settings(plugins: dict[str, Any]) -> None:
    registry = collect(get_plugin_manager(), {"plugins": plugins})
    assert sorted(registry.record_sources["sqltable"].objects()) == ["Customer", "Ticket"]


def test_settings_from_the_environment(
    plugins: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEFLOW_PLUGINS", json.dumps(plugins))
    app = create_app(
        {"database_url": f"sqlite:///{tmp_path / 'sf.db'}", "instance_dir": str(tmp_path)}
    )
    source = app.extensions["stageflow"].registry.record_sources["sqltable"]
    if not database.is_closed():
        database.close()
    assert sorted(source.objects()) == ["Customer", "Ticket"]


def customer(**settings: Any) -> dict[str, Any]:
    return {"plugins": {"sqltable": {"objects": {"Customer": settings}}}}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"plugins": {"sqltable": {"object": {}}}},
            "[plugins.sqltable]: unknown setting 'object'; known settings: objects",
        ),
        (
            {"plugins": {"sqltable": {"objects": ["Customer"]}}},
            "[plugins.sqltable.objects]: must be a table, got ['Customer']",
        ),
        (
            customer(url="{crm}"),
            "[plugins.sqltable.objects.Customer] table: missing; every object needs a url "
            "and a table",
        ),
        (
            customer(table="customers"),
            "[plugins.sqltable.objects.Customer] url: missing; every object needs a url "
            "and a table",
        ),
        (
            customer(url="{crm}", table="customers", tabel="customers"),
            "[plugins.sqltable.objects.Customer]: unknown setting 'tabel'; "
            "known settings: url, table, key, watermark, owner",
        ),
        (
            customer(url="{crm}", table="customers", key=1),
            "[plugins.sqltable.objects.Customer] key: must be a non-empty text, got 1",
        ),
        (
            customer(url="oracle://crm", table="customers"),
            "[plugins.sqltable.objects.Customer] url: unsupported database 'oracle'; "
            "use sqlite:///path/to/file.db or postgresql://user@host/dbname",
        ),
        (
            customer(url="sqlite:////no/such/crm.db", table="customers"),
            "[plugins.sqltable.objects.Customer] url: there is no SQLite database file at "
            "'/no/such/crm.db'",
        ),
        (
            customer(url="postgresql://crm:secret@127.0.0.1:1/crm", table="customers"),
            "[plugins.sqltable.objects.Customer] url: cannot read the database: ",
        ),
        (
            customer(url="{crm}", table="custmers"),
            "[plugins.sqltable.objects.Customer] table: no table 'custmers' in {crm} "
            "(its tables: customers, tickets)",
        ),
        (
            customer(url="{crm}", table="customers", key="code"),
            "[plugins.sqltable.objects.Customer] key: no column 'code' in table 'customers' "
            "(its columns: id, name, email, balance, visits, rating, vip, born, last_seen, "
            "opens, owner, updated_at)",
        ),
        (
            customer(url="{crm}", table="customers", key="born"),
            "[plugins.sqltable.objects.Customer] key: column 'born' is date; "
            "it must be integer or text",
        ),
        (
            customer(url="{crm}", table="customers", watermark="changed_at"),
            "[plugins.sqltable.objects.Customer] watermark: no column 'changed_at' in table",
        ),
        (
            customer(url="{crm}", table="customers", watermark="balance"),
            "[plugins.sqltable.objects.Customer] watermark: column 'balance' is number; "
            "it must be datetime or integer",
        ),
        (
            customer(url="{crm}", table="customers", owner="vip"),
            "[plugins.sqltable.objects.Customer] owner: column 'vip' is checkbox; it must be text",
        ),
    ],
)
def test_mistakes_in_the_settings_stop_the_start_up(
    crm: Crm, config: dict[str, Any], message: str
) -> None:
    config = json.loads(json.dumps(config).replace("{crm}", crm.url))
    with pytest.raises(PluginError) as failed:
        collect(get_plugin_manager(), config)
    prefix = "plugin sqltable failed in register_record_sources(): ValueError: "
    assert str(failed.value).startswith(prefix + message.replace("{crm}", crm.url))
    assert "secret" not in str(failed.value)


def test_a_table_without_a_one_column_primary_key_needs_a_key(crm: Crm) -> None:
    crm.run("CREATE TABLE visits (customer INTEGER, day DATE, PRIMARY KEY (customer, day))")
    with pytest.raises(ValueError, match=r"key: table 'visits' has no one-column primary key"):
        SqlTableSource(read_settings(customer(url=crm.url, table="visits")))
    source = SqlTableSource(read_settings(customer(url=crm.url, table="visits", key="customer")))
    assert source.objects() == {"Customer": {"day": "date"}}


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("not a database, but notes " * 100)
    settings = customer(url=f"sqlite:///{tmp_path / 'notes.db'}", table="customers")
    with pytest.raises(ValueError, match=r"url: cannot read the database: file is not a database"):
        SqlTableSource(read_settings(settings))
