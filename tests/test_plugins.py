"""The plugin system: loading, collecting, refusing duplicates, and every hook at work."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import flask
import pytest
from click.testing import CliRunner

from stageflow import (
    AssigneeContext,
    BackgroundStepType,
    FormulaFunction,
    InteractiveStepType,
    Message,
    NotificationChannel,
    Page,
    Recipient,
    RecordSource,
    RunEvent,
    StepContext,
    StepError,
    hookimpl,
    hookspecs,
)
from stageflow.cli import main
from stageflow.grammar import FUNCTIONS, FormulaTypeError, compile_formula
from stageflow.plugins import (
    DEFAULT_PLUGINS,
    PLUGINS_DIR_PACKAGE,
    PluginError,
    collect,
    describe_plugins,
    dispatch_run_event,
    get_plugin_manager,
)

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs" / "plugins.md"
HOOKS = sorted(
    name
    for name, spec in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(spec, "stageflow_spec")
)


@pytest.fixture(autouse=True)
def _forget_plugin_modules() -> Iterator[None]:
    """Plugin files and fake distributions loaded by a test do not outlive it."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith((PLUGINS_DIR_PACKAGE, "stageflow_hello")):
            del sys.modules[name]


def plugin_manager(**plugins: object):
    """A fresh manager with the built-in plugins plus these, registered under their names."""
    pm = get_plugin_manager()
    for name, plugin in plugins.items():
        pm.register(plugin, name=name)
    return pm


class Echo(BackgroundStepType):
    def run(self, context: StepContext) -> dict:
        return dict(context.parameters)


class MemorySource(RecordSource):
    """A record source that keeps records in a dict: proves the interface is complete."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.records: dict[tuple[str, str], dict] = {}

    def get(self, object, id):
        return self.records.get((object, id))

    def query(self, object, where=None, *, limit=100, cursor=None):
        found = [
            record
            for (obj, _), record in sorted(self.records.items())
            if obj == object and all(record.get(k) == v for k, v in (where or {}).items())
        ]
        return Page(found[:limit])

    def create(self, object, values, *, owner=None):
        record = {"Id": str(len(self.records) + 1), "Owner": owner, **values}
        self.records[object, record["Id"]] = record
        return record

    def update(self, object, id, values):
        self.records[object, id].update(values)
        return self.records[object, id]

    def delete(self, object, id):
        del self.records[object, id]

    def changes(self, object, since=None):
        return []


# -- discipline: every hook documented and tested ---------------------------------------


def test_there_are_hooks() -> None:
    assert {"register_step_types", "resolve_assignee", "startup"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hookspec_docstring_is_complete(hook: str) -> None:
    spec = getattr(hookspecs, hook)
    doc = inspect.getdoc(spec) or ""
    assert len(doc) > 40, f"hookspec {hook} needs a docstring"
    for parameter in inspect.signature(spec).parameters:
        assert f":param {parameter}:" in doc, f"hookspec {hook} does not document {parameter}"
    if spec.stageflow_spec["firstresult"]:
        assert "Stops at first non-None result" in doc
    if inspect.signature(spec).return_annotation != "None":
        assert ":return:" in doc, f"hookspec {hook} does not say what it returns"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_in_docs(hook: str) -> None:
    docs = DOCS.read_text(encoding="utf-8")
    parameters = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    heading = f"### {hook}({parameters})"
    assert heading in docs.splitlines(), f"docs/plugins.md needs a section '{heading}'"
    section = docs.split(heading, 1)[1].split("\n### ", 1)[0]
    assert f"def {hook}(" in section, f"the {hook} section of docs/plugins.md needs an example"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook: str) -> None:
    tests = "\n".join(path.read_text(encoding="utf-8") for path in ROOT.glob("tests/test_*.py"))
    assert re.search(rf"^def test_\w*{hook}\w*\(", tests, re.MULTILINE), (
        f"hook {hook} has no test: write one with {hook} in its name"
    )


def test_docs_example_plugin_works_from_a_plugins_dir(tmp_path: Path) -> None:
    docs = DOCS.read_text(encoding="utf-8")
    example = re.search(r"<!-- example: hello.py -->\n```python\n(.*?)```", docs, re.DOTALL)
    assert example, "docs/plugins.md lost its example plugin"
    (tmp_path / "hello.py").write_text(example[1], encoding="utf-8")
    pm = get_plugin_manager({"plugins_dir": str(tmp_path)})
    registry = collect(pm)
    greet = registry.step_types["greet"].execute(StepContext("g", {"name": "Ada"}))
    assert greet == {"greeting": "Hello, Ada!"}
    formula = compile_formula('GREETING("Ada")', functions=registry.functions)
    assert formula.evaluate({}) == "Hello, Ada!"
    (hello,) = [p for p in describe_plugins(pm, registry) if p["name"] == "hello"]
    assert hello["version"] == "1.0"


# -- loading ---------------------------------------------------------------------------


def test_default_plugins_are_registered_first() -> None:
    pm = get_plugin_manager()
    assert [name for name, _ in pm.list_name_plugin()][: len(DEFAULT_PLUGINS)] == list(
        DEFAULT_PLUGINS
    )


def test_managers_are_independent() -> None:
    class Steps:
        @hookimpl
        def register_step_types(self):
            return [Echo(name="echo")]

        @hookimpl
        def register_formula_functions(self):
            return [FormulaFunction("TWICE", "(Number) -> Number", lambda n: n * 2)]

    with_plugin = collect(plugin_manager(steps=Steps()))
    without = collect(get_plugin_manager())
    assert "echo" in with_plugin.step_types
    assert "echo" not in without.step_types
    assert "TWICE" in with_plugin.functions
    assert "TWICE" not in without.functions
    assert "TWICE" not in FUNCTIONS


def test_plugins_dir_loads_every_py_file(tmp_path: Path) -> None:
    (tmp_path / "shout.py").write_text(
        "from __future__ import annotations\n"
        "from dataclasses import dataclass\n"
        "from stageflow import BackgroundStepType, hookimpl\n"
        "__version__ = '2.5'\n"
        "@dataclass\n"
        "class Shout(BackgroundStepType):\n"
        "    suffix: str = '!'\n"
        "    def run(self, context):\n"
        "        return {'text': context.parameters['text'].upper() + self.suffix}\n"
        "@hookimpl\n"
        "def register_step_types():\n"
        "    return [Shout(name='shout')]\n",
        encoding="utf-8",
    )
    (tmp_path / "notes.txt").write_text("not a plugin", encoding="utf-8")
    pm = get_plugin_manager({"plugins_dir": str(tmp_path)})
    registry = collect(pm)
    step = registry.step_types["shout"]
    assert step.run(StepContext("s", {"text": "hi"})) == {"text": "HI!"}
    (shout,) = [p for p in describe_plugins(pm, registry) if p["name"] == "shout"]
    assert shout == {
        "name": "shout",
        "version": "2.5",
        "origin": str(tmp_path / "shout.py"),
        "hooks": ["register_step_types"],
        "registered": {"step_types": ["shout"]},
    }


def test_plugins_dir_file_that_fails_to_import_is_named(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import no_such_module_here\n", encoding="utf-8")
    with pytest.raises(PluginError, match=r"broken\.py: ModuleNotFoundError"):
        get_plugin_manager({"plugins_dir": str(tmp_path)})


def test_plugins_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="is not a directory"):
        get_plugin_manager({"plugins_dir": str(tmp_path / "missing")})


def test_misspelt_hook_is_refused(tmp_path: Path) -> None:
    (tmp_path / "typo.py").write_text(
        "from stageflow import hookimpl\n@hookimpl\ndef register_step_type():\n    return []\n",
        encoding="utf-8",
    )
    with pytest.raises(
        PluginError, match="no hook register_step_type; did you mean register_step_types"
    ):
        get_plugin_manager({"plugins_dir": str(tmp_path)})


def test_hook_with_unknown_argument_is_refused(tmp_path: Path) -> None:
    (tmp_path / "wrong.py").write_text(
        "from stageflow import hookimpl\n"
        "@hookimpl\n"
        "def register_step_types(config):\n"
        "    return []\n",
        encoding="utf-8",
    )
    with pytest.raises(PluginError, match=r"(?s)plugin wrong .*register_step_types\(config\)"):
        get_plugin_manager({"plugins_dir": str(tmp_path)})


@pytest.fixture
def hello_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installed distribution ``stageflow-hello`` 1.2.3 with a ``stageflow`` entry point.

    Written as real files on ``sys.path``: a module and its ``.dist-info``, which is
    what pip leaves behind, so importlib.metadata finds it as it finds any other.
    """
    site = tmp_path / "site"
    dist_info = site / "stageflow_hello-1.2.3.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: stageflow-hello\nVersion: 1.2.3\n", encoding="utf-8"
    )
    (dist_info / "entry_points.txt").write_text(
        "[stageflow]\nhello = stageflow_hello_plugin\n", encoding="utf-8"
    )
    (site / "stageflow_hello_plugin.py").write_text(
        "from stageflow import NotificationChannel, hookimpl\n"
        "class Pigeon(NotificationChannel):\n"
        "    def send(self, message):\n"
        "        pass\n"
        "@hookimpl\n"
        "def register_notification_channels():\n"
        "    return [Pigeon(name='pigeon')]\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(site))
    return site


def test_entry_point_plugin_is_loaded_with_its_version(hello_distribution: Path) -> None:
    pm = get_plugin_manager()
    registry = collect(pm)
    assert "pigeon" in registry.notification_channels
    (hello,) = [p for p in describe_plugins(pm, registry) if p["name"] == "hello"]
    assert hello == {
        "name": "hello",
        "version": "1.2.3",
        "origin": "distribution stageflow-hello",
        "hooks": ["register_notification_channels"],
        "registered": {"notification_channels": ["pigeon"]},
    }


def test_entry_point_and_plugin_file_of_one_name_are_refused(
    hello_distribution: Path, tmp_path: Path
) -> None:
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / "hello.py").write_text("", encoding="utf-8")
    with pytest.raises(
        PluginError, match="two plugins are named 'hello': distribution stageflow-hello and"
    ):
        get_plugin_manager({"plugins_dir": str(plugins_dir)})


# -- collecting: duplicates and wrong results ------------------------------------------


def _registering(hook: str, item: object) -> SimpleNamespace:
    """A plugin whose ``hook`` returns ``[item]``."""

    def register():
        return [item]

    def register_with_config(config):
        return [item]

    implementation = register_with_config if hook == "register_record_sources" else register
    return SimpleNamespace(**{hook: hookimpl(implementation)})


DUPLICATES = {
    "register_step_types": ("step type 'echo'", lambda: Echo(name="echo")),
    "register_record_sources": ("record source 'memory'", lambda: MemorySource("memory")),
    "register_formula_functions": (
        "formula function 'TWICE'",
        lambda: FormulaFunction("twice", "(Number) -> Number", lambda n: n * 2),
    ),
    "register_notification_channels": (
        "notification channel 'pager'",
        lambda: NotificationChannel(name="pager"),
    ),
    "register_routes": ("blueprint 'extra'", lambda: flask.Blueprint("extra", __name__)),
}


@pytest.mark.parametrize("hook", DUPLICATES)
def test_duplicate_names_are_refused_naming_both_plugins(hook: str) -> None:
    what, make = DUPLICATES[hook]
    pm = plugin_manager(first=_registering(hook, make()), second=_registering(hook, make()))
    with pytest.raises(PluginError) as raised:
        collect(pm)
    assert str(raised.value) == f"{what} is registered by plugin first and plugin second"


def test_duplicate_of_a_built_in_step_type_names_the_built_in_plugin() -> None:
    pm = plugin_manager(mine=_registering("register_step_types", Echo(name="log")))
    with pytest.raises(PluginError) as raised:
        collect(pm)
    assert str(raised.value) == (
        "step type 'log' is registered by plugin stageflow.default_step_types and plugin mine"
    )


def test_formula_function_may_not_replace_a_built_in_one() -> None:
    left = FormulaFunction("left", "(Text) -> Text", str)
    pm = plugin_manager(mine=_registering("register_formula_functions", left))
    with pytest.raises(PluginError, match="'LEFT' of plugin mine is already defined by builtin"):
        collect(pm)


def test_formula_function_with_a_bad_signature_is_refused() -> None:
    bad = FormulaFunction("odd", "Text -> Text", str)
    pm = plugin_manager(mine=_registering("register_formula_functions", bad))
    with pytest.raises(PluginError, match="plugin mine: formula function 'odd': Signature"):
        collect(pm)


def test_register_hook_result_of_the_wrong_type_is_refused() -> None:
    pm = plugin_manager(mine=_registering("register_step_types", "log"))
    with pytest.raises(PluginError, match=r"register_step_types\(\) returned 'log'.*StepType"):
        collect(pm)


def test_register_hook_that_fails_is_named() -> None:
    class Failing:
        @hookimpl
        def register_step_types(self):
            raise RuntimeError("no database")

    with pytest.raises(PluginError, match=r"plugin failing failed in register_step_types"):
        collect(plugin_manager(failing=Failing()))


# -- each hook -------------------------------------------------------------------------


def test_register_step_types_log_step_logs_and_outputs_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = collect(get_plugin_manager()).step_types["log"]
    assert not log.interactive
    assert log.output_schema({"message": "x"}) == {"message": "Text"}
    context = StepContext("note", {"message": "shipped", "level": "warning"}, run_id=7)
    with caplog.at_level(logging.DEBUG, logger="stageflow.steps"):
        assert log.execute(context) == {"message": "shipped"}
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "run 7, step note: shipped")
    ]


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({}, "step type 'log' needs the parameter 'message'"),
        ({"message": "x", "colour": "red"}, "unknown parameter 'colour' for step type 'log'"),
        ({"message": "x", "level": "loud"}, "level must be one of debug, info, warning, error"),
    ],
)
def test_register_step_types_log_step_refuses_bad_parameters(
    parameters: dict, message: str
) -> None:
    log = collect(get_plugin_manager()).step_types["log"]
    with pytest.raises(StepError, match=re.escape(message)) as raised:
        log.execute(StepContext("note", parameters))
    assert raised.value.retry is False


def test_background_step_bookkeeping_turns_failures_into_step_errors() -> None:
    class Crashes(BackgroundStepType):
        def run(self, context):
            return 1 / 0

    class ReturnsText(BackgroundStepType):
        def run(self, context):
            return "done"

    with pytest.raises(StepError, match="ZeroDivisionError: division by zero") as raised:
        Crashes(name="crashes").execute(StepContext("c"))
    assert raised.value.retry is True
    with pytest.raises(StepError, match="returned str, not a mapping"):
        ReturnsText(name="text").execute(StepContext("t"))
    assert Echo(name="echo").execute(StepContext("e")) == {}
    assert StepContext("e", step_run_id=12, attempt=2).idempotency_key == "12:2"


def test_interactive_step_type_renders_and_completes() -> None:
    class Approval(InteractiveStepType):
        def render(self, context):
            return {"fields": [{"name": "approved", "type": "Checkbox"}]}

        def complete(self, context, submitted):
            if "approved" not in submitted:
                raise StepError("Say whether you approve", retry=False)
            return {"approved": bool(submitted["approved"])}

    approval = Approval(name="approval", outputs={"approved": "Checkbox"})
    context = StepContext("approve")
    assert approval.interactive
    assert approval.render(context)["fields"][0]["name"] == "approved"
    assert approval.finish(context, {"approved": 1}) == {"approved": True}
    with pytest.raises(StepError, match="Say whether you approve"):
        approval.finish(context, {})
    with pytest.raises(TypeError):
        Approval(name="approval", interactive=False)


def test_register_record_sources_gets_the_config() -> None:
    class Sources:
        @hookimpl
        def register_record_sources(self, config):
            return [MemorySource(config["source_name"])]

    registry = collect(plugin_manager(sources=Sources()), {"source_name": "memory"})
    source = registry.record_sources["memory"]
    created = source.create("Case", {"Subject": "Printer on fire"}, owner="alice")
    assert source.get("Case", created["Id"]) == created
    assert source.query("Case", {"Subject": "Printer on fire"}).records == [created]
    assert registry.registered_by("sources") == {"record_sources": ["memory"]}


def test_record_source_must_implement_every_method() -> None:
    class Partial(RecordSource):
        name = "partial"

        def get(self, object, id):
            return None

    with pytest.raises(TypeError, match="abstract"):
        Partial()


def test_register_formula_functions_reach_the_formula_registry_type_checked() -> None:
    def double(number):
        """Twice the number.

        Examples:
            DOUBLE(2) → 4
        """
        return number * 2

    class Functions:
        @hookimpl
        def register_formula_functions(self):
            return [FormulaFunction("double", "(Number) -> Number", double)]

    registry = collect(plugin_manager(functions=Functions()))
    function = registry.functions.get("DOUBLE")
    assert function.provider == "functions"
    assert function.examples == (("DOUBLE(2)", "4"),)
    formula = compile_formula(
        "double(Amount) + 1", {"Amount": "Number"}, functions=registry.functions
    )
    assert formula.type == "Number"
    assert formula.evaluate({"Amount": Decimal("20.5")}) == Decimal("42.0")
    with pytest.raises(FormulaTypeError, match="Expected Number, received Text"):
        compile_formula('DOUBLE("x")', functions=registry.functions)
    assert "DOUBLE" not in FUNCTIONS


def test_register_notification_channels_log_channel(caplog: pytest.LogCaptureFixture) -> None:
    channel = collect(get_plugin_manager()).notification_channels["log"]
    message = Message(
        (Recipient("alice", "alice@example.com"), Recipient("bob")),
        "Case 42 is overdue",
        link="https://stageflow.example.com/work/42",
    )
    with caplog.at_level(logging.INFO, logger="stageflow.notifications"):
        channel.send(message)
    assert caplog.messages == [
        "to alice, bob: Case 42 is overdue\nhttps://stageflow.example.com/work/42"
    ]


def test_register_routes_blueprints_are_served() -> None:
    bp = flask.Blueprint("hello", __name__, url_prefix="/hello")
    bp.add_url_rule("/", "index", lambda: {"hello": "world"})
    registry = collect(plugin_manager(pages=_registering("register_routes", bp)))
    app = flask.Flask(__name__)
    for blueprint in registry.blueprints.values():
        app.register_blueprint(blueprint)
    assert app.test_client().get("/hello/").json == {"hello": "world"}


class Directory:
    def user(self, name):
        return {"alice": {"name": "alice", "manager": "carol"}}.get(name)


def test_resolve_assignee_stops_at_the_first_answer() -> None:
    asked = []

    class Managers:
        @hookimpl
        def resolve_assignee(self, reference, context):
            asked.append("managers")
            kind, _, name = reference.partition(":")
            user = context.directory.user(name) if kind == "manager" else None
            return f"user:{user['manager']}" if user else None

    class Fallback:
        @hookimpl(trylast=True)
        def resolve_assignee(self, reference):
            asked.append("fallback")
            return "queue:triage"

    pm = plugin_manager(managers=Managers(), fallback=Fallback())
    context = AssigneeContext(Directory(), run_id=1, step="approve")
    assert pm.hook.resolve_assignee(reference="manager:alice", context=context) == "user:carol"
    assert asked == ["managers"]
    assert pm.hook.resolve_assignee(reference="role:cfo", context=context) == "queue:triage"
    assert get_plugin_manager().hook.resolve_assignee(reference="x:y", context=context) is None


def test_run_event_observers_each_see_events_despite_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen = []

    class Audit:
        @hookimpl
        def run_event(self, event):
            seen.append((event.kind, event.name, event.to_status))

    class Broken:
        @hookimpl(tryfirst=True)
        def run_event(self, event):
            raise ConnectionError("metrics server down")

    event = RunEvent(
        run_id=3,
        orchestration="case_escalation",
        kind="stage",
        name="triage",
        from_status="NotStarted",
        to_status="InProgress",
        at=dt.datetime(2026, 3, 5, 14, 30, tzinfo=dt.UTC),
    )
    with caplog.at_level(logging.ERROR, logger="stageflow.plugins"):
        dispatch_run_event(plugin_manager(audit=Audit(), broken=Broken()), event)
    assert seen == [("stage", "triage", "InProgress")]
    assert caplog.messages == ["plugin broken failed to observe stage event of run 3"]


def test_startup_receives_the_app() -> None:
    class Warmup:
        @hookimpl
        def startup(self, app):
            app.extensions["warm"] = True

    app = flask.Flask(__name__)
    plugin_manager(warmup=Warmup()).hook.startup(app=app)
    assert app.extensions["warm"] is True


# -- the `stageflow plugins` command ---------------------------------------------------


def _shout_plugin(directory: Path) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "shout.py").write_text(
        "from stageflow import BackgroundStepType, FormulaFunction, hookimpl\n"
        "class Shout(BackgroundStepType):\n"
        "    def run(self, context):\n"
        "        return {}\n"
        "@hookimpl\n"
        "def register_step_types():\n"
        "    return [Shout(name='shout')]\n"
        "@hookimpl\n"
        "def register_formula_functions():\n"
        "    return [FormulaFunction('SHOUT', '(Text) -> Text', str.upper)]\n",
        encoding="utf-8",
    )
    return directory


def test_cli_plugins_lists_plugins_versions_hooks_and_registrations(tmp_path: Path) -> None:
    plugins_dir = _shout_plugin(tmp_path / "plugins")
    result = CliRunner().invoke(main, ["plugins", "--plugins-dir", str(plugins_dir)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "stageflow.default_step_types 0.1.0  [built-in]\n"
        "  hooks: register_step_types\n"
        "  step types: log, update_record, create_record, launch_orchestration, wait\n"
        "stageflow.default_notifications 0.1.0  [built-in]\n"
        "  hooks: register_notification_channels\n"
        "  notification channels: log, email\n"
        "stageflow.default_records 0.1.0  [built-in]\n"
        "  hooks: register_record_sources\n"
        "  record sources: builtin\n"
        "stageflow.default_forms 0.1.0  [built-in]\n"
        "  hooks: register_step_types\n"
        "  step types: form, approval\n"
        "stageflow.default_assignees 0.1.0  [built-in]\n"
        "  hooks: resolve_assignee\n"
        "stageflow.default_pages 0.1.0  [built-in]\n"
        "  hooks: register_routes, startup\n"
        "  routes (blueprints): web\n"
        # the first-party plugin the project installs with it (an entry point)
        "sqltable 0.1.0  [distribution stageflow-sqltable]\n"
        "  hooks: register_record_sources\n"
        "  record sources: sqltable\n"
        f"shout (no version)  [{plugins_dir / 'shout.py'}]\n"
        "  hooks: register_formula_functions, register_step_types\n"
        "  step types: shout\n"
        "  formula functions: SHOUT\n"
    )


def test_cli_plugins_json(tmp_path: Path) -> None:
    plugins_dir = _shout_plugin(tmp_path / "plugins")
    result = CliRunner().invoke(main, ["plugins", "--json", "--plugins-dir", str(plugins_dir)])
    assert result.exit_code == 0, result.output
    described = json.loads(result.output)
    assert [p["name"] for p in described] == [*DEFAULT_PLUGINS, "sqltable", "shout"]
    assert described[-1]["registered"] == {
        "step_types": ["shout"],
        "formula_functions": ["SHOUT"],
    }
    assert described[0]["version"] == "0.1.0"


def test_cli_plugins_reports_a_duplicate_and_fails(tmp_path: Path) -> None:
    plugins_dir = tmp_path / "plugins"
    plugins_dir.mkdir()
    (plugins_dir / "again.py").write_text(
        "from stageflow import BackgroundStepType, hookimpl\n"
        "@hookimpl\n"
        "def register_step_types():\n"
        "    return [BackgroundStepType(name='log')]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["plugins", "--plugins-dir", str(plugins_dir)])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: step type 'log' is registered by plugin stageflow.default_step_types "
        "and plugin again\n"
    )
