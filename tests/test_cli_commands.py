"""The ``stageflow`` commands that work on a server's database, with CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from stageflow import cli_admin
from stageflow.auth import check_password
from stageflow.cli import main
from stageflow.db import database
from stageflow.models import Record, Run, User

DEFINITIONS = textwrap.dedent("""
    kind: object
    name: Case
    fields:
      - {name: Subject, type: text, required: true}
      - {name: Touched, type: number}
    ---
    kind: flow
    name: touch
    type: update_record
    set: {Touched: "=BLANKVALUE(Touched, 0) + 1"}
    ---
    kind: orchestration
    name: handle
    object: Case
    inputs:
      - {name: urgency, type: number}
    stages:
      - name: work
        steps:
          - {name: touch, flow: touch}
""")


TEAMS = """
kind: object
name: Team
fields:
  - {name: Name, type: text}
---
kind: object
name: Member
fields:
  - {name: Team, type: lookup, object: Team}
"""


@pytest.fixture
def cli(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def invoke(cli: FlaskCliRunner, *args: str, **kwargs):  # type: ignore[no-untyped-def]
    return cli.invoke(main, list(args), **kwargs)


@pytest.fixture
def definitions(tmp_path: Path) -> Path:
    folder = tmp_path / "defs"
    folder.mkdir()
    (folder / "case.yaml").write_text(DEFINITIONS)
    (folder / "notes.txt").write_text("not a definition")
    return folder


def new_case(app: Flask) -> str:
    with app.app_context(), database.connection_context():
        return app.extensions["stageflow"].records.create("Case", {"Subject": "Fire"})["Id"]


def test_deploy_a_folder(cli: FlaskCliRunner, definitions: Path) -> None:
    result = invoke(cli, "deploy", str(definitions), "--activate")
    assert result.exit_code == 0, result.output
    assert "orchestration handle: version 1 (created, active)" in result.output
    assert "object Case: version 1 (created)" in result.output
    again = invoke(cli, "deploy", str(definitions / "case.yaml"), "--activate")
    assert "orchestration handle: version 1 (unchanged, active)" in again.output


def test_deploy_errors_are_file_line_column(cli: FlaskCliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFINITIONS.replace("flow: touch", "flow: nope"))
    result = invoke(cli, "deploy", str(bad))
    assert result.exit_code == 1
    line = DEFINITIONS.splitlines().index("      - {name: touch, flow: touch}") + 1
    assert f"{bad}:{line}:29: unknown flow 'nope'" in result.output
    assert "error: 1 error; nothing was deployed" in result.output
    missing = invoke(cli, "deploy", str(tmp_path / "missing.yaml"))
    assert missing.exit_code == 2


def test_users_and_tokens(app: Flask, cli: FlaskCliRunner) -> None:
    result = invoke(cli, "users", "create", "carol", "--admin", "--password", "--email",
                    "carol@example.com", input="s3cret\ns3cret\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "created admin carol" in result.output
    assert invoke(cli, "users", "create", "carol").exit_code == 1
    assert invoke(cli, "users", "create", "dave", "--password", "pw").exit_code == 0

    issued = invoke(cli, "users", "token", "carol")
    assert issued.exit_code == 0
    token = issued.stdout.strip().splitlines()[-1]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/runs", headers=headers).status_code == 200
    token_id = issued.output.split("token ")[1].split()[0]
    revoked = invoke(cli, "users", "token", "carol", "--revoke", token_id)
    assert revoked.exit_code == 0 and f"revoked token {token_id}" in revoked.output
    assert client.get("/api/runs", headers=headers).status_code == 401
    assert invoke(cli, "users", "token", "carol", "--revoke", token_id).exit_code == 1
    assert invoke(cli, "users", "token", "dave", "--revoke", token_id).exit_code == 1
    assert "No user named 'nobody'" in invoke(cli, "users", "token", "nobody").output
    with app.app_context(), database.connection_context():
        carol = User.get(User.name == "carol")
        assert carol.is_admin and carol.email == "carol@example.com"
        assert carol.password_hash.startswith("scrypt:")


def test_groups_and_queues(cli: FlaskCliRunner) -> None:
    for name in ("ann", "bob"):
        invoke(cli, "users", "create", name)
    result = invoke(cli, "groups", "create", "engineers", "--members", "ann,bob")
    assert result.output.strip() == "created group engineers: ann, bob"
    updated = invoke(cli, "groups", "create", "engineers", "--members", "bob")
    assert updated.output.strip() == "updated group engineers: bob"
    assert invoke(cli, "queues", "create", "tier1", "--members", "ann").exit_code == 0
    refused = invoke(cli, "queues", "create", "tier2", "--members", "ann,zed")
    assert refused.exit_code == 1 and "zed" in refused.output


def test_run_list_show_and_act(app: Flask, cli: FlaskCliRunner, definitions: Path) -> None:
    invoke(cli, "deploy", str(definitions), "--activate")
    case = new_case(app)
    result = invoke(cli, "run", "handle", "--input", "urgency=3", "--record", f"Case:{case}")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "run 1 InProgress"
    assert invoke(cli, "run", "handle", "--record", "Case").exit_code == 2
    no_value = invoke(cli, "run", "handle", "--input", "urgency", "--record", f"Case:{case}")
    assert no_value.exit_code == 2
    refused = invoke(cli, "run", "handle", "--input", "urgency=high", "--record", f"Case:{case}")
    assert refused.exit_code == 1 and "input 'urgency'" in refused.output
    assert invoke(cli, "run", "nope").exit_code == 1

    worked = invoke(cli, "worker", "--once")
    assert worked.exit_code == 0 and "job(s) done" in worked.output
    listing = invoke(cli, "runs", "list", "--status", "Completed")
    assert "handle v1" in listing.output and f"Case:{case}" in listing.output
    assert invoke(cli, "runs", "list", "--orchestration", "other").output == ""

    shown = invoke(cli, "runs", "show", "1")
    assert shown.exit_code == 0
    lines = shown.output.splitlines()
    assert lines[0] == f"run 1: handle v1 on Case:{case}  Completed"
    assert "  stage work: Completed" in lines and "    step touch: Completed" in lines
    assert any("step:touch: InProgress → Completed" in line for line in lines)
    assert invoke(cli, "runs", "show", "9").exit_code == 1

    assert "already Completed" in invoke(cli, "runs", "cancel", "1").output
    restarted = invoke(cli, "runs", "restart", "1")
    assert restarted.output.strip() == "run 2 InProgress (restart of run 1)"
    suspended = invoke(cli, "runs", "suspend", "2", "--reason", "wait")
    assert suspended.output.strip() == "run 2 Suspended"
    assert invoke(cli, "runs", "resume", "2").output.strip() == "run 2 InProgress"
    assert invoke(cli, "runs", "skip", "2", "touch").output.strip() == "run 2 Completed"
    assert invoke(cli, "runs", "retry", "2", "touch").exit_code == 1
    assert invoke(cli, "runs", "complete-stage", "2", "work").exit_code == 1


def test_demo_loads_once(app: Flask, cli: FlaskCliRunner, tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    examples.mkdir()
    (examples / "cases.yaml").write_text(DEFINITIONS)
    (examples / "teams.yaml").write_text(TEAMS)
    (examples / "people.yaml").write_text("kind: directory\nusers:\n  - {name: alice}\n")
    (examples / "demo-data.json").write_text(json.dumps({"records": [
        {"object": "Case", "values": {"Subject": "Printer on fire"}, "launch": ["handle"]},
        {"object": "Case", "values": {"Subject": "Coffee machine"}},
        {"object": "Team", "values": {"Name": "Ops"}},
        {"object": "Member", "values": {"Team": {"$find": {"Name": "Ops"}}}},
    ]}))  # fmt: skip
    first = invoke(cli, "demo", "--examples", str(examples))
    assert first.exit_code == 0, first.output
    assert "created admin user 'admin' with password 'admin'" in first.output
    token = first.output.split("API token (shown once): ")[1].split()[0]
    assert (
        app.test_client()
        .get("/api/runs", headers={"Authorization": f"Bearer {token}"})
        .get_json()["items"][0]["orchestration"]
        == "handle"
    )
    assert "created 4 record(s), launched 1 run(s)" in first.output
    assert "users alice: the password is the user's name" in first.output
    with app.app_context(), database.connection_context():
        assert check_password(User.get(User.name == "alice"), "alice")
    second = invoke(cli, "demo", "--examples", str(examples))
    assert second.exit_code == 0
    assert "created 0 record(s), launched 0 run(s)" in second.output
    assert "user 'admin' exists" in second.output
    with app.app_context(), database.connection_context():
        assert Record.select().count() == 4 and Run.select().count() == 1
        team, member = (
            Record.select().where(Record.object.in_(["Team", "Member"])).order_by(Record.id)
        )
        assert member.data == {"Team": str(team.id)}
        assert User.select().where(User.name == "admin").count() == 1


def test_formula_commands_need_no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STAGEFLOW_INSTANCE_DIR", str(tmp_path / "instance"))
    result = CliRunner().invoke(main, ["formula", "eval", "1 + 2"])
    assert result.output.strip() == "3"
    assert CliRunner().invoke(main, ["--help"]).exit_code == 0
    assert not (tmp_path / "instance").exists()


def test_serve_runs_the_app_with_workers_and_stops_them(
    app: Flask, cli: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = {}

    def fake_run_simple(host: str, port: int, application: Flask, **options: object) -> None:
        seen.update(host=host, port=port, app=application, workers=application.extensions[
            "stageflow"].workers.alive, options=options)  # fmt: skip

    monkeypatch.setattr(cli_admin, "run_simple", fake_run_simple)
    result = invoke(cli, "serve", "--host", "192.0.2.1", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert (seen["host"], seen["port"], seen["app"]) == ("192.0.2.1", 8123, app)
    assert seen["workers"] == app.config["WORKERS"] and seen["options"]["threaded"] is True
    assert app.extensions["stageflow"].workers is None  # stopped on exit


def test_worker_runs_until_told_to_stop(
    app: Flask, cli: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    alive = []

    pool = app.extensions["stageflow"]
    monkeypatch.setattr(cli_admin, "wait_for_stop_signal", lambda: alive.append(pool.workers.alive))
    result = invoke(cli, "worker", "--threads", "3")
    assert result.exit_code == 0, result.output
    assert alive == [3] and "worker stopped" in result.output
    assert app.extensions["stageflow"].workers is None


def test_install_runs_pip_in_this_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    calls = []

    def fake_run(args: list[str], check: bool) -> subprocess.CompletedProcess:
        calls.append(args)
        return subprocess.CompletedProcess(args, 0)

    monkeypatch.setattr(cli_admin.subprocess, "run", fake_run)
    result = CliRunner().invoke(main, ["install", "stageflow-http"])
    assert result.exit_code == 0
    assert calls == [[sys.executable, "-m", "pip", "install", "stageflow-http"]]


def test_every_command_is_documented() -> None:
    import click

    docs = (Path(__file__).parents[1] / "docs" / "cli.md").read_text()

    def names(group: click.Group, prefix: str) -> list[str]:
        out = []
        for name, command in group.commands.items():
            out.append(f"{prefix}{name}")
            if isinstance(command, click.Group):
                out += names(command, f"{prefix}{name} ")
        return out

    missing = [name for name in names(main, "stageflow ") if name.rsplit(" ", 1)[-1] not in docs]
    assert not missing
    for group in ("users", "groups", "queues", "runs", "formula"):
        for name in main.commands[group].commands:  # type: ignore[attr-defined]
            assert f"{group} {name}" in docs or f"|{name}" in docs or f"{name}|" in docs, name
