"""Deploying definition files: load and validate against what is active, then store.

The one entry point the CLI, the REST API and the admin page share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..db import database
from ..extension import StepType
from ..models import Group, Queue, User
from . import store
from .loader import load_definitions


def deploy_sources(
    sources: Sequence[tuple[str, str]],
    *,
    step_types: Mapping[str, StepType],
    activate: bool = False,
    actor: User | None = None,
) -> list[store.Deployed]:
    """Validate ``[(file name, YAML text), …]`` and store it, all or nothing.

    Raises :class:`~stageflow.definitions.errors.DefinitionErrors` listing every
    problem as ``file:line:column: message``; then nothing has changed.
    """
    with database.atomic():
        documents = load_definitions(
            list(sources),
            step_types=step_types,
            active=store.active_specs(),
            known_users={name for (name,) in User.select(User.name).tuples()},
            known_teams={"queue": [name for (name,) in Queue.select(Queue.name).tuples()],
                         "group": [name for (name,) in Group.select(Group.name).tuples()]},
        )  # fmt: skip
        return store.deploy(documents, activate=activate, actor=actor)
