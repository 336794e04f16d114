"""Every hook a Stageflow plugin can implement.

A plugin is a module (or any object) with functions of these names marked
``@stageflow.hookimpl``.  A plugin may leave out parameters it does not use.  The
``register_*`` hooks are called once per plugin at start-up; the lists they return are
collected by :func:`stageflow.plugins.collect`, which refuses two things of one name.
``docs/plugins.md`` documents each hook with an example; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from flask import Blueprint, Flask

    from .extension import (
        AssigneeContext,
        FormulaFunction,
        NotificationChannel,
        RecordSource,
        RunEvent,
        StepType,
    )

hookspec = pluggy.HookspecMarker("stageflow")
hookimpl = pluggy.HookimplMarker("stageflow")


# -- registration: called once at start-up -----------------------------------------------


@hookspec
def register_step_types() -> list[StepType]:
    """Register step types: the code behind flows (``type:`` in a flow definition).

    :return: a list of :class:`~stageflow.extension.BackgroundStepType` or
        :class:`~stageflow.extension.InteractiveStepType` instances.  Names must be
        unique across all plugins; a duplicate stops start-up with an error naming both
        plugins.
    """


@hookspec
def register_record_sources(config: Mapping[str, Any]) -> list[RecordSource]:
    """Register record sources: where the records of objects live.

    :param config: the server's configuration, so a source can read its own settings
        (a URL, credentials) from ``stageflow.toml`` or ``STAGEFLOW_*`` variables.
    :return: a list of :class:`~stageflow.extension.RecordSource` instances, named by
        their ``name`` (what ``source:`` in an object definition refers to).
    """


@hookspec
def register_formula_functions() -> list[FormulaFunction]:
    """Register functions for the formula language.

    They are added to the server's function registry and type-checked against their
    signatures like the built-in functions.  A name already used by a built-in function
    or by another plugin is refused at start-up.

    :return: a list of :class:`~stageflow.extension.FormulaFunction`.
    """


@hookspec
def register_notification_channels() -> list[NotificationChannel]:
    """Register notification channels (email, chat, webhook, the log…).

    :return: a list of :class:`~stageflow.extension.NotificationChannel` instances.
    """


@hookspec
def register_routes() -> list[Blueprint]:
    """Register extra pages and API endpoints.

    :return: a list of :class:`flask.Blueprint`; the app registers each of them.
        Blueprint names must be unique across plugins.
    """


# -- runs ------------------------------------------------------------------------------


@hookspec(firstresult=True)
def resolve_assignee(reference: str, context: AssigneeContext) -> str | None:
    """Resolve an assignee of a kind Stageflow does not know, such as ``manager:alice``.

    Called when an interactive step's ``assignee`` gives a reference whose kind is not
    ``user:``, ``queue:`` or ``group:``.

    :param reference: the assignee as the formula gave it, e.g. ``"manager:alice"``.
    :param context: the run, its record, and the directory of users
        (:class:`~stageflow.extension.AssigneeContext`).
    :return: ``user:NAME``, ``queue:NAME`` or ``group:NAME``; or None when this plugin
        does not handle the reference.  If no plugin resolves it, the step goes to
        ``Error`` with that reason.

    Stops at first non-None result.
    """


@hookspec
def run_event(event: RunEvent) -> None:
    """Observe a run's transitions (audit export, metrics, webhooks).

    Called for every event appended to a run's log, after its transaction commits.
    An exception in one observer is logged and affects neither the run nor the other
    observers.

    :param event: the transition (:class:`~stageflow.extension.RunEvent`).
    """


# -- the server ------------------------------------------------------------------------


@hookspec
def startup(app: Flask) -> None:
    """Do start-up work once the app is built (warm caches, check settings, start threads).

    :param app: the Flask application; ``app.config`` holds the configuration.
    """
