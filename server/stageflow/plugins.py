"""Loading plugins, and collecting what they register once at start-up.

Plugins come from three places, registered in this order:

1. the built-in ``default_*`` modules of :data:`DEFAULT_PLUGINS` (core features are
   plugins too, which proves the hooks complete);
2. installed distributions with an entry point in the ``stageflow`` group;
3. every ``*.py`` file in the configured ``plugins_dir``.

There is no module-level manager: the app builds one with :func:`get_plugin_manager`
and keeps it, and each test builds its own.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import logging
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import Distribution, EntryPoint, distributions
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
from flask import Blueprint

from . import __version__, hookspecs
from .extension import FormulaFunction, NotificationChannel, RecordSource, RunEvent, StepType
from .grammar import FUNCTIONS, FunctionRegistry, register_function

logger = logging.getLogger(__name__)

#: The entry-point group installed plugins declare, and pluggy's project name.
ENTRY_POINT_GROUP = "stageflow"

#: The built-in plugins, registered first by every plugin manager.
DEFAULT_PLUGINS = (
    "stageflow.default_step_types",
    "stageflow.default_notifications",
    "stageflow.default_records",
    "stageflow.default_forms",
    "stageflow.default_assignees",
    "stageflow.default_pages",
)

#: Module names given to files loaded from the plugins directory.
PLUGINS_DIR_PACKAGE = "stageflow_plugins"


class PluginError(Exception):
    """A plugin could not be loaded, or registered something it may not (start-up error)."""


# -- loading ---------------------------------------------------------------------------


def get_plugin_manager(config: Mapping[str, Any] | None = None) -> pluggy.PluginManager:
    """A new plugin manager with the built-in, installed and plugins-directory plugins.

    ``config["plugins_dir"]``, when set, is a directory whose ``*.py`` files are loaded
    as plugins (in name order).  Raises :class:`PluginError` for a plugin that cannot be
    loaded or implements a hook that does not exist.
    """
    config = config or {}
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    for module_name in DEFAULT_PLUGINS:
        _register(pm, importlib.import_module(module_name), module_name, "built-in")
    _load_entry_points(pm)
    if config.get("plugins_dir"):
        _load_plugins_dir(pm, Path(config["plugins_dir"]))
    _refuse_unknown_hooks(pm)
    return pm


def _refuse_unknown_hooks(pm: pluggy.PluginManager) -> None:
    """Refuse an implementation of a hook that does not exist: usually a misspelt name."""
    known = [name for name in vars(hookspecs) if hasattr(pm.hook, name)]
    for name, caller in vars(pm.hook).items():
        if caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if not impl.optionalhook:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise PluginError(f"plugin {impl.plugin_name}: there is no hook {name}{hint}")


def _register(pm: pluggy.PluginManager, plugin: object, name: str, origin: str) -> None:
    existing = pm.get_plugin(name)
    if existing is not None:
        raise PluginError(f"two plugins are named {name!r}: {_origin(name, existing)} and {origin}")
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as error:
        reason = str(error).replace("\n", "; ")
        raise PluginError(f"plugin {name} ({origin}): {reason}") from error


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    for dist, entry_point in _entry_points():
        if pm.get_plugin(entry_point.name) is not None:
            continue  # the same distribution found twice on sys.path
        origin = f"distribution {dist.name}"
        try:
            plugin = entry_point.load()
        except Exception as error:
            raise PluginError(
                f"could not load plugin {entry_point.name!r} ({entry_point.value}) "
                f"of {origin}: {type(error).__name__}: {error}"
            ) from error
        _register(pm, plugin, entry_point.name, origin)


def _entry_points() -> Iterator[tuple[Distribution, EntryPoint]]:
    for dist in distributions():
        for entry_point in dist.entry_points:
            if entry_point.group == ENTRY_POINT_GROUP:
                yield dist, entry_point


def _load_plugins_dir(pm: pluggy.PluginManager, directory: Path) -> None:
    if not directory.is_dir():
        raise PluginError(f"plugins_dir {str(directory)!r} is not a directory")
    for path in sorted(directory.glob("*.py")):
        _register(pm, _load_file(path), path.stem, str(path))


def _load_file(path: Path) -> ModuleType:
    module_name = f"{PLUGINS_DIR_PACKAGE}.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"could not load plugin file {path}")
    module = importlib.util.module_from_spec(spec)
    # In sys.modules while it runs: dataclasses and pickling look their module up there.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[module_name]
        raise PluginError(
            f"could not load plugin file {path}: {type(error).__name__}: {error}"
        ) from error
    return module


# -- collecting what plugins register --------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """One kind of thing plugins register: its hook, its words, its class."""

    hook: str
    attribute: str  # the Registry attribute that holds them
    label: str
    type: type


_KINDS = (
    _Kind("register_step_types", "step_types", "step type", StepType),
    _Kind("register_record_sources", "record_sources", "record source", RecordSource),
    _Kind("register_formula_functions", "formula_functions", "formula function", FormulaFunction),
    _Kind(
        "register_notification_channels",
        "notification_channels",
        "notification channel",
        NotificationChannel,
    ),
    _Kind("register_routes", "blueprints", "blueprint", Blueprint),
)


@dataclass
class Registry:
    """Everything the plugins registered, by name, and who registered each thing.

    ``functions`` is the formula function registry to compile with: the built-in
    functions plus the plugins' (a copy, so managers and tests do not affect each other).
    """

    step_types: dict[str, StepType] = field(default_factory=dict)
    record_sources: dict[str, RecordSource] = field(default_factory=dict)
    formula_functions: dict[str, FormulaFunction] = field(default_factory=dict)
    notification_channels: dict[str, NotificationChannel] = field(default_factory=dict)
    blueprints: dict[str, Blueprint] = field(default_factory=dict)
    functions: FunctionRegistry = field(default_factory=FUNCTIONS.copy)
    #: (attribute, name) → the name of the plugin that registered it
    providers: dict[tuple[str, str], str] = field(default_factory=dict)

    def registered_by(self, plugin: str) -> dict[str, list[str]]:
        """What one plugin registered: ``{"step_types": ["log"], …}`` (non-empty kinds)."""
        found: dict[str, list[str]] = {}
        for (attribute, name), provider in self.providers.items():
            if provider == plugin:
                found.setdefault(attribute, []).append(name)
        return found


def collect(pm: pluggy.PluginManager, config: Mapping[str, Any] | None = None) -> Registry:
    """Call every ``register_*`` hook once and gather the results into a :class:`Registry`.

    ``config`` is passed to ``register_record_sources``.  Raises :class:`PluginError` for
    a name registered twice (naming both plugins), a result of the wrong type, or a
    register hook that fails.
    """
    registry = Registry()
    arguments = {"config": config or {}}
    for kind in _KINDS:
        found = getattr(registry, kind.attribute)
        for plugin, item in _results(pm, kind.hook, arguments):
            name = _checked_name(kind, plugin, item)
            if name in found:
                earlier = registry.providers[kind.attribute, name]
                raise PluginError(
                    f"{kind.label} {name!r} is registered by plugin {earlier} and plugin {plugin}"
                )
            found[name] = item
            registry.providers[kind.attribute, name] = plugin
    for name, function in registry.formula_functions.items():
        _add_function(registry, registry.providers["formula_functions", name], function)
    return registry


def _results(
    pm: pluggy.PluginManager, hook: str, arguments: Mapping[str, Any]
) -> Iterator[tuple[str, Any]]:
    """Each plugin's results of a register hook, attributed to the plugin.

    Plugins are asked in registration order (built-in ones first), so the plugin named
    first in a duplicate error is the one that had the name already.
    """
    for impl in getattr(pm.hook, hook).get_hookimpls():
        if impl.hookwrapper or impl.wrapper:
            raise PluginError(f"plugin {impl.plugin_name}: {hook}() cannot be a wrapper")
        try:
            result = _call(impl, arguments)
        except Exception as error:
            raise PluginError(
                f"plugin {impl.plugin_name} failed in {hook}(): {type(error).__name__}: {error}"
            ) from error
        if result is None:
            continue
        if not isinstance(result, list | tuple):
            raise PluginError(
                f"plugin {impl.plugin_name}: {hook}() must return a list, "
                f"not {type(result).__name__}"
            )
        for item in result:
            yield impl.plugin_name, item


def _call(impl: pluggy.HookImpl, arguments: Mapping[str, Any]) -> Any:
    """Call one plugin's implementation with the arguments it asks for."""
    return impl.function(*(arguments[name] for name in impl.argnames))


def _checked_name(kind: _Kind, plugin: str, item: Any) -> str:
    if not isinstance(item, kind.type):
        raise PluginError(
            f"plugin {plugin}: {kind.hook}() returned {item!r}, which is not a {kind.type.__name__}"
        )
    name = getattr(item, "name", None)
    if not isinstance(name, str) or not name:
        raise PluginError(
            f"plugin {plugin}: a {kind.label} registered by {kind.hook}() has no name"
        )
    # Formula functions are case-insensitive, as formulas are.
    return name.upper() if kind.type is FormulaFunction else name


def _add_function(registry: Registry, plugin: str, function: FormulaFunction) -> None:
    existing = registry.functions.get(function.name)
    if existing is not None:
        raise PluginError(
            f"formula function {function.name.upper()!r} of plugin {plugin} is already "
            f"defined by {existing.provider}"
        )
    try:
        register_function(
            function.name,
            function.signature,
            function.implementation,
            doc=function.doc,
            blanks=function.blanks,
            provider=plugin,
            registry=registry.functions,
        )
    except ValueError as error:
        raise PluginError(f"plugin {plugin}: formula function {function.name!r}: {error}") from None


# -- hooks the server calls while running ----------------------------------------------


def dispatch_run_event(pm: pluggy.PluginManager, event: RunEvent) -> None:
    """Tell every ``run_event`` observer about an event; one failing does not stop others."""
    for impl in reversed(pm.hook.run_event.get_hookimpls()):  # pluggy's call order
        try:
            _call(impl, {"event": event})
        except Exception:
            logger.exception(
                "plugin %s failed to observe %s event of run %s",
                impl.plugin_name,
                event.kind,
                event.run_id,
            )


# -- describing plugins ----------------------------------------------------------------


def describe_plugins(
    pm: pluggy.PluginManager, registry: Registry | None = None
) -> list[dict[str, Any]]:
    """Every plugin, in loading order: name, version, origin, hooks, what it registered.

    ``version`` is the distribution's for installed plugins, Stageflow's for built-in
    ones, and a plugin file's ``__version__`` (or None) otherwise.
    """
    registry = registry or collect(pm)
    return [
        {
            "name": name,
            "version": _version(name, plugin),
            "origin": _origin(name, plugin),
            "hooks": sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()),
            "registered": registry.registered_by(name),
        }
        for name, plugin in pm.list_name_plugin()
    ]


def _distribution(name: str) -> Distribution | None:
    return next((dist for dist, ep in _entry_points() if ep.name == name), None)


def _version(name: str, plugin: object) -> str | None:
    if name in DEFAULT_PLUGINS:
        return __version__
    dist = _distribution(name)
    return dist.version if dist is not None else getattr(plugin, "__version__", None)


def _origin(name: str, plugin: object) -> str:
    if name in DEFAULT_PLUGINS:
        return "built-in"
    dist = _distribution(name)
    if dist is not None:
        return f"distribution {dist.name}"
    return getattr(plugin, "__file__", None) or "registered by code"
