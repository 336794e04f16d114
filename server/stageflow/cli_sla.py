"""``stageflow sla sweep``: fire the SLA warnings and escalations that are due."""

from __future__ import annotations

import datetime as dt

import click

from .cli_support import with_database
from .core import current


def _moment(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.datetime | None:
    """``--at``: ISO 8601; a time without a zone is UTC."""
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("use ISO 8601, e.g. 2026-03-05T14:30:00Z") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@click.group("sla", cls=click.Group)
def sla() -> None:
    """Service levels of work items (see docs/sla.md)."""


@sla.command("sweep")
@click.option("--at", "moment", callback=_moment, metavar="ISO",
              help="Sweep as of this time, ISO 8601 (default: now).")  # fmt: skip
@with_database
def sweep(moment: dt.datetime | None) -> None:
    """Fire every SLA warning and escalation due (a catch-up) and print how many fired."""
    fired = current().sweep_sla(moment)
    click.echo(f"{fired} SLA rung(s) fired")


COMMANDS = (sla,)
