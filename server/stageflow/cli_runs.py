"""``stageflow deploy``, ``run`` and ``runs``: definitions in, runs out, runs managed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click

from .api.present import event, run_detail, run_summary, runs_query
from .cli_support import CLI_ACTOR, fail, with_database
from .core import current
from .definitions.deploy import deploy_sources
from .definitions.store import Deployed
from .models import Definition, Event, Run

DEFINITION_SUFFIXES = (".yaml", ".yml")


def read_sources(paths: Iterable[str | Path]) -> list[tuple[str, str]]:
    """``(file name, text)`` of each file, and of each .yaml/.yml file in each folder."""
    sources = []
    for path in map(Path, paths):
        files = (
            sorted(p for p in path.rglob("*") if p.suffix in DEFINITION_SUFFIXES and p.is_file())
            if path.is_dir()
            else [path]
        )
        if path.is_dir() and not files:
            fail(f"{path}: no .yaml or .yml files in this folder")
        for file in files:
            try:
                sources.append((str(file), file.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as error:
                fail(f"{file}: cannot read: {error}")
    return sources


def deploy_paths(paths: Iterable[str | Path], *, activate: bool) -> list[Deployed]:
    """Deploy every definition file under ``paths``, all or nothing."""
    return deploy_sources(read_sources(paths), step_types=current().registry.step_types,
                          activate=activate)  # fmt: skip


def echo_deployed(deployed: Sequence[Deployed]) -> None:
    """One line per document: kind, name, version, whether new and active."""
    for item in deployed:
        state = "created" if item.created else "unchanged"
        active = ", active" if item.active and item.kind == "orchestration" else ""
        click.echo(f"{item.kind} {item.name}: version {item.version} ({state}{active})")


@click.command("deploy")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--activate", is_flag=True, help="Make the deployed orchestrations active.")
@with_database
def deploy_command(paths: tuple[str, ...], activate: bool) -> None:
    """Deploy definition files, or folders of .yaml/.yml files, all or nothing.

    Every error is printed as file:line:column: message (exit status 1).
    """
    echo_deployed(deploy_paths(paths, activate=activate))


def _input_value(text: str) -> Any:
    try:
        return json.loads(text)  # 5, true, "quoted", {"a": 1}
    except ValueError:
        return text


@click.command("run")
@click.argument("name")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="KEY=VALUE",
    help="An input; VALUE is read as JSON when it is (5, true), else as text.",
)
@click.option("--record", metavar="OBJECT:ID", help="The record the run works on.")
@click.option("--as", "actor", default=CLI_ACTOR, help="The user the run is started by.")
@with_database
def run_command(name: str, inputs: tuple[str, ...], record: str | None, actor: str) -> None:
    """Launch a run of the orchestration NAME; print its id and status."""
    values = {}
    for item in inputs:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: use KEY=VALUE", param_hint="--input")
        values[key] = _input_value(value)
    target = None
    if record is not None:
        object_name, sep, record_id = record.partition(":")
        if not sep or not object_name or not record_id:
            raise click.BadParameter(f"{record!r}: use OBJECT:ID", param_hint="--record")
        target = (object_name, record_id)
    run = current().engine.launch(name, inputs=values, record=target, actor=actor)
    click.echo(f"run {run.id} {Run.get_by_id(run.id).status}")


@click.group("runs")
def runs() -> None:
    """List, show and act on runs."""


@runs.command("list")
@click.option("--status", help="Only runs with this status (e.g. InProgress, Error).")
@click.option("--orchestration", help="Only runs of this orchestration.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@with_database
def runs_list(status: str | None, orchestration: str | None, limit: int) -> None:
    """The latest runs, newest first."""
    query = runs_query()
    if status:
        query = query.where(Run.status == status)
    if orchestration:
        query = query.where(Definition.name == orchestration)
    for row in query.order_by(Run.id.desc()).limit(limit):
        run = run_summary(row)
        record = f"{run['record']['object']}:{run['record']['id']}" if run["record"] else "-"
        click.echo(f"{run['id']:>6}  {run['orchestration']} v{run['version']}  "
                   f"{run['status']:<12}  {record}  {run['started_at']}")  # fmt: skip


@runs.command("show")
@click.argument("run_id", type=int)
@click.option(
    "--events",
    "event_count",
    default=10,
    show_default=True,
    help="How many of the latest events to print.",
)
@with_database
def runs_show(run_id: int, event_count: int) -> None:
    """A run: its stages, their steps, and its latest events."""
    row = runs_query().where(Run.id == run_id).first()
    if row is None:
        fail(f"No run with id {run_id}")
    run = run_detail(row)
    record = f" on {run['record']['object']}:{run['record']['id']}" if run["record"] else ""
    click.echo(f"run {run['id']}: {run['orchestration']} v{run['version']}{record}  "
               f"{run['status']}")  # fmt: skip
    for stage in run["stages"]:
        click.echo(f"  stage {stage['name']}: {stage['status']}")
        for step in stage["steps"]:
            extra = f" (attempt {step['attempt']})" if step["attempt"] > 1 else ""
            error = f": {step['error']}" if step["error"] and step["status"] == "Error" else ""
            click.echo(f"    step {step['name']}: {step['status']}{extra}{error}")
    latest = Event.select().where(Event.run == run_id).order_by(Event.id.desc()).limit(event_count)
    if event_count:
        click.echo("  events:")
    for line in reversed([event(e) for e in latest]):
        subject = line["subject"] or "run"
        reason = f"  ({line['reason']})" if line["reason"] else ""
        click.echo(f"    {line['at']}  {line['actor']}  {subject}: "
                   f"{line['from'] or '-'} → {line['to'] or '-'}{reason}")  # fmt: skip


def _run_action(action: str, help_text: str, target: str | None = None) -> click.Command:
    def command(run_id: int, reason: str, **names: str) -> None:
        if action == "restart":
            run = current().engine.restart(run_id, actor=CLI_ACTOR)
            click.echo(f"run {run.id} {Run.get_by_id(run.id).status} (restart of run {run_id})")
            return
        run = current().engine.act(run_id, action, actor=CLI_ACTOR, reason=reason, **names)
        click.echo(f"run {run.id} {Run.get_by_id(run.id).status}")

    # Applied innermost first; click lists arguments in the reverse order: RUN_ID [TARGET].
    decorators = [with_database, click.option("--reason", default="", help="Why; kept in the log.")]
    decorators += [click.argument(target)] if target else []
    decorators += [click.argument("run_id", type=int)]
    for decorate in decorators:
        command = decorate(command)
    return click.command(action.replace("_", "-"), help=help_text)(command)


for _command in (
    _run_action("cancel", "Cancel a run."),
    _run_action("suspend", "Suspend a run in progress."),
    _run_action("resume", "Resume a suspended run."),
    _run_action("restart", "Start a new run with the same inputs and record."),
    _run_action("retry", "Retry a step in Error.", target="step"),
    _run_action("skip", "Skip a step.", target="step"),
    _run_action("complete_stage", "Complete the run's current stage.", target="stage"),
):
    runs.add_command(_command)

COMMANDS = (deploy_command, run_command, runs)
