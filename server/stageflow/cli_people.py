"""``stageflow users|groups|queues``: people, API tokens, and teams."""

from __future__ import annotations

import click

from .auth import create_user, find_user, issue_token, revoke_token, set_members
from .cli_support import with_database

_PROMPT = "\0prompt"  # --password given without a value


@click.group()
def users() -> None:
    """Create users and their API tokens."""


@users.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="May deploy, activate and act on any run.")
@click.option(
    "--password",
    is_flag=False,
    flag_value=_PROMPT,
    default=None,
    help="Password for signing in; without a value, asked for (hidden).",
)
@click.option("--email", help="Email address for notifications.")
@with_database
def users_create(name: str, admin: bool, password: str | None, email: str | None) -> None:
    """Create the user NAME."""
    if password == _PROMPT:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = create_user(name, password=password, email=email, admin=admin)
    click.echo(f"created {'admin' if user.is_admin else 'user'} {user.name}")


@users.command("token")
@click.argument("name")
@click.option(
    "--revoke",
    "revoke_id",
    type=int,
    metavar="TOKEN_ID",
    help="Revoke this token of the user instead of creating one.",
)
@click.option("--label", default="", help="What the token is for (shown in listings).")
@with_database
def users_token(name: str, revoke_id: int | None, label: str) -> None:
    """Create an API token for NAME (printed once), or revoke one."""
    user = find_user(name)
    if revoke_id is not None:
        revoke_token(user, revoke_id)
        click.echo(f"revoked token {revoke_id} of {user.name}")
        return
    row, token = issue_token(user, label)
    click.echo(f"token {row.id} for {user.name} (shown once; keep it secret):", err=True)
    click.echo(token)


def _team_group(kind: str) -> click.Group:
    @click.group(kind + "s", help=f"Create {kind}s of users (work can be assigned to a {kind}).")
    def group() -> None:
        pass

    @group.command("create")
    @click.argument("name")
    @click.option("--members", default="", help="User names, comma-separated: a,b.")
    @with_database
    def create(name: str, members: str) -> None:
        created, names = set_members(kind, name, members.split(","))
        verb = "created" if created else "updated"
        click.echo(f"{verb} {kind} {name}: {', '.join(names) or 'no members'}")

    create.help = f"Create the {kind} NAME (or set its members)."
    return group


COMMANDS = (users, _team_group("group"), _team_group("queue"))
