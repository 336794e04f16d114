"""The ``stageflow`` command."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, routes_command, shell_command

from . import __version__


def _create_app() -> Flask:
    from .app import create_app

    return create_app()


class StageflowGroup(FlaskGroup):
    """Flask's command group, without loading the app to list or look up commands.

    Flask would build the app (and so create the database) for ``--help`` or a
    mistyped command; Stageflow's commands are all known without it.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return click.Group.get_command(self, ctx, name)


@click.group(
    cls=StageflowGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
@click.version_option(__version__, prog_name="stageflow")
def main() -> None:
    """Stageflow: multi-stage, multi-user business process orchestration.

    Settings come from config/stageflow.toml, the file STAGEFLOW_CONFIG names and
    STAGEFLOW_* environment variables (e.g. STAGEFLOW_DATABASE_URL).
    """


# -- formula ---------------------------------------------------------------------------


def _json_option(text: str | None, what: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise click.BadParameter(
            f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}",
            param_hint=what,
        ) from None
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object, e.g. '{\"Amount\": 100}'", param_hint=what)
    return value


def _schema(text: str | None) -> dict[str, str] | None:
    from .grammar import types

    schema = _json_option(text, "--schema")
    for name, type_name in schema.items():
        try:
            types.type_name(type_name)
        except ValueError as error:
            raise click.BadParameter(f"field {name}: {error}", param_hint="--schema") from None
    return schema or None


@main.group(cls=click.Group)
def formula() -> None:
    """Check and evaluate formulas (see docs/formulas.md)."""


@formula.command("check")
@click.argument("expression")
@click.option("--schema", help='Field types as JSON, e.g. \'{"Amount": "Number"}\'.')
@click.option("--expected", help="The type the result must have, e.g. Checkbox.")
def formula_check(expression: str, schema: str | None, expected: str | None) -> None:
    """Print the formula's result type, or its errors (exit status 1)."""
    from .grammar import FormulaError, compile_formula

    try:
        compiled = compile_formula(expression, _schema(schema), expected=expected)
    except FormulaError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    click.echo(compiled.type)
    if compiled.fields:
        click.echo(f"fields: {', '.join(compiled.fields)}")


@formula.command("eval")
@click.argument("expression")
@click.option("--values", help="Field values as JSON, e.g. '{\"Amount\": 150}'.")
@click.option("--prior", help="Values before the update as JSON (for ISCHANGED, PRIORVALUE).")
@click.option("--schema", help="Field types as JSON; values are converted to these types.")
@click.option("--now", help="The clock for NOW() and TODAY(), ISO 8601 (default: now).")
def formula_eval(
    expression: str, values: str | None, prior: str | None, schema: str | None, now: str | None
) -> None:
    """Evaluate the formula and print its value (exit status 1 on an error)."""
    from .grammar import FormulaError, compile_formula
    from .grammar import types as T
    from .grammar.library.text import format_value

    field_types = _schema(schema) or {}

    def convert(raw: dict[str, Any], what: str) -> dict[str, Any]:
        out = {}
        for name, value in raw.items():
            type_ = T.type_name(field_types[name]) if name in field_types else T.ANY
            try:
                out[name] = T.coerce(value, type_)
            except ValueError as error:
                raise click.BadParameter(f"field {name}: {error}", param_hint=what) from None
        return out

    try:
        clock = T.parse_datetime(now) if now else None
    except ValueError:
        raise click.BadParameter(
            "use ISO 8601, e.g. 2026-03-05T14:30:00Z", param_hint="--now"
        ) from None
    current = convert(_json_option(values, "--values"), "--values")
    before = convert(_json_option(prior, "--prior"), "--prior") if prior else None
    try:
        compiled = compile_formula(expression, field_types or None)
        result = compiled.evaluate(current, before, now=clock)
    except FormulaError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    click.echo(format_value(result))


# -- plugins ---------------------------------------------------------------------------

_KIND_LABELS = {
    "step_types": "step types",
    "record_sources": "record sources",
    "formula_functions": "formula functions",
    "notification_channels": "notification channels",
    "blueprints": "routes (blueprints)",
}


@main.command("plugins", with_appcontext=False)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.option(
    "--plugins-dir",
    type=click.Path(file_okay=False, exists=True),
    help="Load the .py files of this folder too (default: the plugins_dir setting).",
)
def plugins_command(as_json: bool, plugins_dir: str | None) -> None:
    """List every plugin: its version, where it comes from, its hooks, what it registered."""
    from .config import ConfigError, load_config
    from .plugins import PluginError, collect, describe_plugins, get_plugin_manager

    try:
        config = load_config({"plugins_dir": plugins_dir} if plugins_dir else None)
        pm = get_plugin_manager(config)
        described = describe_plugins(pm, collect(pm, config))
    except (ConfigError, PluginError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(described, indent=2))
        return
    for plugin in described:
        click.echo(f"{plugin['name']} {plugin['version'] or '(no version)'}  [{plugin['origin']}]")
        click.echo(f"  hooks: {', '.join(plugin['hooks']) or 'none'}")
        for kind, names in plugin["registered"].items():
            click.echo(f"  {_KIND_LABELS[kind]}: {', '.join(names)}")


# -- the commands that work on a server's database -------------------------------------


def _register() -> None:
    from . import cli_admin, cli_people, cli_runs, cli_sla

    commands = (*cli_runs.COMMANDS, *cli_people.COMMANDS, *cli_admin.COMMANDS, *cli_sla.COMMANDS)
    for command in (*commands, shell_command, routes_command):
        main.add_command(command)


_register()
