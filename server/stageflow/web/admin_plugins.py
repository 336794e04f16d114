"""The plugins page (``/admin/plugins``): every plugin and everything it registered.

What ``stageflow plugins`` prints (:func:`stageflow.plugins.describe_plugins`: name,
version, origin, hooks), with the details of each thing registered, read from the
running server's registry: step types with their parameters and outputs, record sources
with the objects they define, formula functions with their signatures, notification
channels and blueprints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import render_template

from ..core import current
from ..extension import FormulaFunction, Parameter, RecordSource, StepType
from ..plugins import Registry, describe_plugins
from . import bp
from .admin_people import admin_required

#: The ways a plugin reaches the server, as the page names them.
BUILT_IN, DISTRIBUTION, PLUGINS_FOLDER, CODE = (
    "built-in", "distribution", "plugins folder", "registered by code",
)  # fmt: skip


@dataclass(frozen=True)
class Origin:
    """Where a plugin comes from: one of the kinds above, and which one (a distribution's
    name, a file's path)."""

    kind: str
    detail: str = ""


def origin_of(described: str, plugins_dir: str) -> Origin:
    """The :class:`Origin` of a plugin from :func:`describe_plugins`' ``origin`` text
    (``built-in``, ``distribution NAME``, a file path, or ``registered by code``)."""
    if described in (BUILT_IN, CODE):
        return Origin(described)
    if described.startswith("distribution "):
        return Origin(DISTRIBUTION, described.removeprefix("distribution "))
    path = Path(described)
    if plugins_dir and path.parent.resolve() == Path(plugins_dir).resolve():
        return Origin(PLUGINS_FOLDER, str(path))
    return Origin(CODE, described)


@dataclass(frozen=True)
class StepTypeInfo:
    """A step type as the page shows it."""

    name: str
    label: str
    interactive: bool
    parameters: Mapping[str, Parameter]
    outputs: Mapping[str, str]
    #: The outputs depend on the flow's parameters (a form's fields).
    outputs_vary: bool


def step_type_info(step_type: StepType) -> StepTypeInfo:
    """What the page shows of a step type."""
    varies = type(step_type).output_schema is not StepType.output_schema
    return StepTypeInfo(step_type.name, step_type.label, step_type.interactive,
                        step_type.parameters, step_type.outputs, varies)  # fmt: skip


@dataclass(frozen=True)
class RecordSourceInfo:
    """A record source: the objects it defines itself (field → type), and the deployed
    objects it stores."""

    name: str
    defines: Mapping[str, Mapping[str, str]]
    stores: list[str]


def record_source_info(
    source: RecordSource, stored_with: Mapping[str, list[str]]
) -> RecordSourceInfo:
    """What the page shows of a record source; ``stored_with`` lists objects by source."""
    return RecordSourceInfo(source.name, source.objects(), stored_with.get(source.name, []))


@dataclass(frozen=True)
class FunctionInfo:
    """A formula function: its name, signatures (overloads) and what it does."""

    name: str
    signatures: list[str]
    doc: str


def function_info(function: FormulaFunction) -> FunctionInfo:
    """What the page shows of a formula function (the first line of its documentation)."""
    signatures = function.signature
    listed = [signatures] if isinstance(signatures, str) else list(signatures)
    doc = function.doc or function.implementation.__doc__ or ""
    return FunctionInfo(function.name.upper(), listed, doc.strip().split("\n")[0])


@dataclass(frozen=True)
class PluginInfo:
    """A plugin: ``stageflow plugins``' description, and the details of what it registered
    by kind (``step_types``, ``record_sources``, …)."""

    name: str
    version: str | None
    origin: Origin
    hooks: list[str]
    registered: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def anchor(self) -> str:
        """The id of the plugin's section on the page."""
        return "plugin-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in self.name)


def registered_details(
    registry: Registry, names: Mapping[str, Sequence[str]], stored_with: Mapping[str, list[str]]
) -> dict[str, list[Any]]:
    """The details of the things one plugin registered, by kind (``names`` as
    :meth:`Registry.registered_by` gives them; ``stored_with``: objects by source)."""
    describe = {
        "step_types": lambda n: step_type_info(registry.step_types[n]),
        "record_sources": lambda n: record_source_info(registry.record_sources[n], stored_with),
        "formula_functions": lambda n: function_info(registry.formula_functions[n]),
        "notification_channels": lambda n: registry.notification_channels[n],
        "blueprints": lambda n: registry.blueprints[n],
    }
    return {kind: [describe[kind](name) for name in found] for kind, found in names.items()}


def plugins() -> list[PluginInfo]:
    """Every plugin of the running server, in loading order (built-in ones first)."""
    sf = current()
    plugins_dir = str(sf.config.get("plugins_dir") or "")
    stored_with: dict[str, list[str]] = {}
    for obj in sf.records.objects():
        stored_with.setdefault(obj.source, []).append(obj.name)
    return [
        PluginInfo(
            name=plugin["name"],
            version=plugin["version"],
            origin=origin_of(plugin["origin"], plugins_dir),
            hooks=plugin["hooks"],
            registered=registered_details(sf.registry, plugin["registered"], stored_with),
        )
        for plugin in describe_plugins(sf.pm, sf.registry)
    ]


@bp.get("/admin/plugins")
@admin_required
def admin_plugins() -> str:
    """Every plugin: version, origin, hooks, and what it registered."""
    return render_template("admin/plugins.html", plugins=plugins())
