"""What the database commands of ``stageflow`` share: the app, a connection, errors."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click
from flask.cli import with_appcontext

from .auth import AuthError
from .db import connection_context
from .definitions.errors import DefinitionErrors
from .definitions.store import DefinitionNotFound
from .engine.runs import EngineError
from .records import RecordError, RecordNotFound

#: Errors a command reports as ``error: …`` with exit status 1 (no traceback).
USER_ERRORS = (AuthError, EngineError, RecordError, RecordNotFound, DefinitionNotFound)
#: Who the event log names for actions taken from the command line.
CLI_ACTOR = "cli"


def fail(message: str) -> NoReturn:
    """Print ``error: message`` to stderr and exit with status 1."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def with_database(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command inside the app and a database connection; report errors plainly."""

    @with_appcontext
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with connection_context():
            try:
                return command(*args, **kwargs)
            except DefinitionErrors as error:
                for line in error.errors:
                    click.echo(str(line), err=True)
                count = len(error.errors)
                fail(f"{count} error{'s' if count != 1 else ''}; nothing was deployed")
            except USER_ERRORS as error:
                fail(getattr(error, "message", None) or str(error))

    return wrapper
