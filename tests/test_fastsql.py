"""Prepared statements: they read and write exactly what peewee's own queries would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import peewee
import pytest
from flask import Flask

from stageflow import fastsql
from stageflow.db import database
from stageflow.default_records import BuiltinRecordSource
from stageflow.engine.states import Status
from stageflow.models import Definition, DefinitionVersion, Record, Run, StageRun, StepRun, User

T0 = dt.datetime(2026, 3, 5, 14, 30, tzinfo=dt.UTC)


@pytest.fixture
def run(app: Flask) -> Iterator[Run]:
    with database.connection_context():
        definition = Definition.create(kind="orchestration", name="onboarding")
        version = DefinitionVersion.create(
            definition=definition, version=1, content="", content_hash="0" * 64, parsed={}
        )
        yield Run.create(orchestration=version, status=Status.IN_PROGRESS, inputs={"n": 1})


def test_create_many_returns_each_row_by_its_key_with_its_id(run: Run) -> None:
    with database.atomic():
        rows = [{"run": run.id, "name": name, "position": i} for i, name in enumerate("abc")]
        made = fastsql.create_many(StageRun, rows, key="name")
    assert list(made) == ["a", "b", "c"]
    for name, row in made.items():
        stored = StageRun.get_by_id(row.id)
        assert (stored.name, stored.position, stored.status) == (name, row.position, "NotStarted")
        assert row.status == Status.NOT_STARTED and not row.dirty_fields
    assert fastsql.create_many(StageRun, [], key="name") == {}


def test_select_reads_rows_as_peewee_does(run: Run) -> None:
    stage = StageRun.create(run=run, name="triage", position=0, started_at=T0)
    StepRun.create(run=run, stage_run=stage, name="b", outputs={"x": [1, "y"]}, started_at=T0)
    StepRun.create(run=run, stage_run=stage, name="a", status=Status.COMPLETED)
    fast = fastsql.select(StepRun, {StepRun.run: run.id, StepRun.stage_run: stage.id}, StepRun.name)
    slow = StepRun.select().where(StepRun.run == run.id).order_by(StepRun.name)
    assert [row.__data__ for row in fast] == [row.__data__ for row in slow]
    assert fast[1].started_at == T0 and fast[1].started_at.tzinfo == dt.UTC
    assert fast[1].outputs == {"x": [1, "y"]}
    assert fastsql.select(StepRun, {StepRun.run: run.id, StepRun.name: "zed"}) == []
    assert fastsql.select_where(Run, Run.id, run.id)[0].inputs == {"n": 1}


def test_update_rows_writes_only_the_fields_named(run: Run) -> None:
    stage = StageRun.create(run=run, name="triage", position=0)
    step = fastsql.select_where(StepRun, StepRun.id, StepRun.create(
        run=run, stage_run=stage, name="a", error="old").id)[0]  # fmt: skip
    step.status, step.outputs, step.error = Status.COMPLETED, {"ok": True}, "not written"
    step.finished_at = T0
    fastsql.update_rows([step], [StepRun.status, StepRun.outputs, StepRun.finished_at])
    stored = StepRun.get_by_id(step.id)
    assert (stored.status, stored.outputs, stored.finished_at) == ("Completed", {"ok": True}, T0)
    assert stored.error == "old"


def test_a_savepoint_undoes_only_its_own_block(run: Run) -> None:
    with database.atomic():
        run.status = Status.COMPLETED
        fastsql.update_rows([run], [Run.status])
        with pytest.raises(ZeroDivisionError), fastsql.savepoint("step"):
            StageRun.create(run=run, name="lost", position=0)
            with fastsql.savepoint("step"):  # the same name nests
                StageRun.create(run=run, name="also lost", position=1)
            _ = 1 / 0
        with fastsql.savepoint("step"):
            StageRun.create(run=run, name="kept", position=0)
    assert [s.name for s in StageRun.select()] == ["kept"]
    assert Run.get_by_id(run.id).status == Status.COMPLETED


def test_a_savepoint_needs_a_transaction(app: Flask) -> None:
    with (
        database.connection_context(),
        pytest.raises(RuntimeError, match="needs a transaction"),
        fastsql.savepoint(),
    ):
        pass
    with pytest.raises(ValueError, match="identifier"):
        fastsql.savepoint("x; DROP TABLE runs")


def test_execute_takes_values_only_as_parameters(app: Flask) -> None:
    with database.connection_context():
        assert fastsql.execute("SELECT ? + ?", (2, 3)).fetchone()[0] == 5
        with pytest.raises(ValueError, match="as parameters"):
            fastsql.execute("SELECT name FROM users WHERE name = 'x'")


def test_statements_are_compiled_per_database(app: Flask, tmp_path: Path) -> None:
    with database.connection_context():
        first = database.obj
        fastsql.select_where(User, User.name, "nobody")
        assert any(key[0] == "select" for key in first._stageflow_statements)
    other = peewee.SqliteDatabase(str(tmp_path / "other.db"))
    assert not hasattr(other, "_stageflow_statements")


def test_the_builtin_source_keeps_the_replaced_data_as_the_prior(app: Flask) -> None:
    source = BuiltinRecordSource()
    with database.connection_context():
        alice = User.create(name="alice")
        created = source.create("Case", {"Subject": "Printer on fire", "Amount": 3}, owner="alice")
        updated = source.update("Case", created["Id"], {"Subject": "Printer fixed"})
        assert updated == {**created, "Subject": "Printer fixed", "UpdatedAt": updated["UpdatedAt"]}
        assert updated["Owner"] == alice.name
        prior = source.prior("Case", created["Id"])
        assert prior is not None and prior["Subject"] == "Printer on fire"
        assert source.get("Case", created["Id"]) == updated
        stored = Record.get_by_id(int(created["Id"]))
        assert stored.prior == {"Subject": "Printer on fire", "Amount": 3}
        for object_name, record_id in (("Case", "999"), ("Order", created["Id"]), ("Case", "x")):
            with pytest.raises(KeyError):
                source.update(object_name, record_id, {"Subject": "?"})
