"""The second pass: references between definitions, and every formula type-checked.

Runs over all documents of a deploy at once, with the definitions already active, so a
flow may call a step type, an orchestration a flow, a lookup an object defined in the
same deploy or earlier.  Errors go to each document's :class:`Context`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stageflow.grammar import FormulaError, compile_formula

from . import spec as S
from .errors import DefinitionError
from .kinds import ASSIGNEE_TARGET, FormulaSite, parameter_value
from .shapes import INVALID, Context, suggestion
from .steptypes import StepType
from .yamlio import Path

#: Globals every orchestration formula sees.
USER_GLOBALS = {"$User.Name": "Text", "$User.Id": "Text", "$User.Email": "Text",
                "$User.IsAdmin": "Checkbox"}  # fmt: skip
RUN_GLOBALS = {"$Run.Id": "Text", "$Run.StartedAt": "DateTime"}

#: Parameter types that are formula result types (a ``=`` formula must give one).
_RESULT_TYPES = {"Text", "Number", "Checkbox", "Date", "DateTime", "Time", "Picklist"}

#: The kinds of team a target may name, and the directory's key for each.
TEAMS = {"queue": "queues", "group": "groups"}

#: Active definitions, by kind then name (``{"object": {"Case": ObjectSpec(...)}}``).
Active = Mapping[str, Mapping[str, Any]]


@dataclass
class Parsed:
    """A document after the first pass: its context, kind and spec (or INVALID)."""

    ctx: Context
    kind: str
    spec: Any

    @property
    def name(self) -> str | None:
        return getattr(self.spec, "name", None)


# -- schemas ---------------------------------------------------------------------------


def record_schema(obj: S.ObjectSpec, objects: Mapping[str, S.ObjectSpec]) -> dict[str, str]:
    """A record's fields (through lookups) bare, as ``$Record.`` and ``$Record__Prior.``."""
    fields = obj.formula_schema(dict(objects))
    schema = dict(fields)
    for prefix in ("$Record.", "$Record__Prior."):
        schema.update({prefix + path: type_ for path, type_ in fields.items()})
    return schema


def flow_outputs(flow: S.FlowSpec, step_type: StepType | None) -> dict[str, str]:
    """A flow's outputs and their formula types: the step type's, and a form's fields."""
    outputs = dict(step_type.output_schema(flow.params)) if step_type else {}
    outputs.update({field.name: field.formula_type for field in flow.fields})
    return outputs


class Deploy:
    """Everything known during one deploy: this deploy's definitions over the active ones."""

    def __init__(self, parsed: list[Parsed], step_types: Mapping[str, StepType],
                 active: Active, known_users: Collection[str],
                 known_teams: Mapping[str, Collection[str]] | None = None) -> None:  # fmt: skip
        self.parsed = parsed
        self.step_types = step_types
        self.known: dict[str, dict[str, Any]] = {
            kind: dict(active.get(kind, {})) for kind in S.KINDS
        }
        self.contexts: dict[tuple[str, str], Context] = {}
        for item in parsed:
            if item.spec is not INVALID and item.kind != "directory":
                self.known[item.kind][item.name] = item.spec
                self.contexts[(item.kind, item.name)] = item.ctx
        self.users = set(known_users)
        self.teams = {kind: set((known_teams or {}).get(kind, ())) for kind in TEAMS}
        for item in self.of_kind("directory"):
            self.users.update(user.name for user in item.spec.users)
            for kind, key in TEAMS.items():
                self.teams[kind].update(team.name for team in getattr(item.spec, key))
        self.failed_flow_formulas: set[tuple[str, Path]] = set()

    def of_kind(self, kind: str) -> Iterator[Parsed]:
        return (p for p in self.parsed if p.kind == kind and p.spec is not INVALID)

    def unknown(self, ctx: Context, path: Path, kind: str, name: str) -> None:
        ctx.error(path, f"unknown {kind} {name!r}" + _closest(name, self.known[kind]))

    def run_schema(self, orchestration: S.OrchestrationSpec) -> dict[str, str]:
        """What an orchestration's formulas see: record, inputs, steps, stages, user, run."""
        schema: dict[str, str] = {}
        obj = self.known["object"].get(orchestration.object or "")
        if obj is not None:
            schema.update(record_schema(obj, self.known["object"]))
        for item in orchestration.inputs:
            schema[f"$Input.{item.name}"] = S.FIELD_TYPES[item.type]
        for stage in orchestration.stages:
            schema[f"$Stages.{stage.name}.Status"] = "Text"
            for step in stage.steps:
                flow = self.known["flow"].get(step.flow)
                if flow is not None:
                    outputs = flow_outputs(flow, self.step_types.get(flow.type))
                    schema.update({f"$Steps.{step.name}.{k}": v for k, v in outputs.items()})
                schema[f"$Steps.{step.name}.Status"] = "Text"
        return {**schema, **USER_GLOBALS, **RUN_GLOBALS}


def _closest(name: str, known: Collection[str]) -> str:
    hint = suggestion(name, known)
    return hint if hint.startswith(" (") else ""


# -- formulas --------------------------------------------------------------------------


def check_formula(ctx: Context, site: FormulaSite, schema: Mapping[str, str] | None,
                  note: str = "") -> bool:  # fmt: skip
    """Type-check one formula; report an error at its place in the file.  True when valid."""
    try:
        compile_formula(site.text, schema, expected=site.expected)
    except FormulaError as error:
        doc = ctx.document
        if site.literal:
            position = doc.value_position(site.path)
        else:
            position = doc.formula_position(site.path, error.line, error.column, site.skip)
        ctx.errors.append(DefinitionError(position, error.message + note))
        return False
    return True


def parameter_formulas(params: Mapping[str, Any], step_type: StepType | None,
                       path: Path = ()) -> Iterator[FormulaSite]:  # fmt: skip
    """Every ``=`` formula in a flow's parameters (or a step's inputs), at any depth."""
    declared = step_type.parameters if step_type else {}
    for key, value in params.items():
        type_ = declared[key].type if key in declared else None
        yield from _walk_formulas((*path, key), value, type_ if type_ in _RESULT_TYPES else None)


def _walk_formulas(path: Path, value: Any, expected: str | None) -> Iterator[FormulaSite]:
    if isinstance(value, str) and value.startswith("="):
        yield FormulaSite(path, value[1:], "run", expected, skip=1)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_formulas((*path, key), item, None)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk_formulas((*path, i), item, None)


# -- per kind --------------------------------------------------------------------------


def check_lookups(deploy: Deploy, ctx: Context, fields: tuple[S.FieldSpec, ...]) -> None:
    """Every lookup field points to a known object."""
    for i, field in enumerate(fields):
        if field.type == "lookup" and field.object not in deploy.known["object"]:
            deploy.unknown(ctx, ("fields", i, "object"), "object", field.object or "")


def check_object(deploy: Deploy, item: Parsed) -> None:
    obj: S.ObjectSpec = item.spec
    check_lookups(deploy, item.ctx, obj.fields)
    schema = {**record_schema(obj, deploy.known["object"]), **USER_GLOBALS}
    for site in item.ctx.formulas:
        check_formula(item.ctx, site, schema)


def check_flow(deploy: Deploy, item: Parsed) -> None:
    flow: S.FlowSpec = item.spec
    check_lookups(deploy, item.ctx, flow.fields)
    schema = {field.name: field.formula_type for field in flow.fields}
    schema.update({**USER_GLOBALS, **RUN_GLOBALS})
    for site in item.ctx.formulas:
        check_formula(item.ctx, site, schema)
    # Parameters are checked again with each orchestration's schema that calls the flow.
    for site in parameter_formulas(flow.params, deploy.step_types.get(flow.type)):
        if not check_formula(item.ctx, site, None):
            deploy.failed_flow_formulas.add((flow.name, site.path))


def check_orchestration(deploy: Deploy, item: Parsed) -> None:
    orchestration: S.OrchestrationSpec = item.spec
    ctx = item.ctx
    obj = orchestration.object
    if obj is not None and obj not in deploy.known["object"]:
        path = ("trigger", "object") if orchestration.trigger.object else ("object",)
        deploy.unknown(ctx, path, "object", obj)
        return
    run_schema = deploy.run_schema(orchestration)
    for i, stage in enumerate(orchestration.stages):
        for j, step in enumerate(stage.steps):
            check_step(deploy, ctx, ("stages", i, "steps", j), step, orchestration, run_schema)
    record = None
    if obj is not None:
        record = {**record_schema(deploy.known["object"][obj], deploy.known["object"]),
                  **USER_GLOBALS}  # fmt: skip
    for site in ctx.formulas:
        if site.scope == "record" and record is None:
            ctx.error(site.path, "a condition needs the trigger's object")
        else:
            check_formula(ctx, site, record if site.scope == "record" else run_schema)


def check_step(deploy: Deploy, ctx: Context, path: Path, step: S.StepSpec,
               orchestration: S.OrchestrationSpec, schema: dict[str, str]) -> None:  # fmt: skip
    """A step's flow, the keys its step type allows, its inputs and its flow's formulas."""
    flow: S.FlowSpec | None = deploy.known["flow"].get(step.flow)
    if flow is None:
        deploy.unknown(ctx, (*path, "flow"), "flow", step.flow)
        return
    step_type = deploy.step_types.get(flow.type)
    if step_type is None:
        ctx.error((*path, "flow"), f"flow {step.flow!r} has step type {flow.type!r},"
                  " which no installed plugin provides")  # fmt: skip
        return
    raw = ctx.document.data_at(path)
    kind = "interactive" if step_type.interactive else "background"
    if step_type.interactive and step.assignee is None:
        ctx.error(
            path,
            f"step {step.name!r} calls the interactive flow {step.flow!r}:"
            " it needs an assignee (user:NAME, queue:NAME, group:NAME or a formula)",
        )
    only = ("retry",) if step_type.interactive else ("assignee", "exit", "sla")
    for key in only:
        if key in raw:
            ctx.error((*path, key), f"{key} does not apply to the {kind} flow {step.flow!r}"
                      f" (step type {flow.type!r})", at_key=True)  # fmt: skip
    check_targets(deploy, ctx, path, raw)
    if step.sla:
        check_sla(deploy, ctx, (*path, "sla"), step.sla, orchestration, schema)
    check_step_inputs(deploy, ctx, path, step, step_type, schema)
    check_flow_in_run(deploy, ctx, path, step, flow, step_type, schema, orchestration.name)


def check_targets(deploy: Deploy, ctx: Context, path: Path, raw: dict) -> None:
    """Literal assignees and SLA targets are ``kind:name``; named users must exist, and
    so must the queues and groups SLA targets name."""
    places: list[tuple[Path, Any, bool]] = []
    if isinstance(raw.get("assignee"), str) and ASSIGNEE_TARGET.match(raw["assignee"]):
        places.append(((*path, "assignee"), raw["assignee"], False))
    sla = raw.get("sla") if isinstance(raw.get("sla"), dict) else {}
    for i, escalation in enumerate(sla.get("escalations") or []):
        where = (*path, "sla", "escalations", i)
        if "reassign" in escalation:
            places.append(((*where, "reassign"), escalation["reassign"], True))
        notify = escalation.get("notify") or []
        places += [((*where, "notify", j), t, True) for j, t in enumerate(notify)
                   if t != "assignee"]  # fmt: skip
    for where, target, teams in places:
        if target.startswith("="):
            continue  # a formula, type-checked with the others
        kind, _, name = target.partition(":")
        if not ASSIGNEE_TARGET.match(target):
            ctx.error(where, f"invalid target {target!r}: use user:NAME, queue:NAME or group:NAME")
        elif kind == "user" and name not in deploy.users:
            deploy_users_error(ctx, where, name, deploy.users)
        elif teams and kind in TEAMS and name not in deploy.teams[kind]:
            ctx.error(where, f"unknown {kind} {name!r}" + _closest(name, deploy.teams[kind])
                      + f": add it to the directory's {TEAMS[kind]}")  # fmt: skip


def check_sla(deploy: Deploy, ctx: Context, path: Path, sla: Mapping[str, Any],
              orchestration: S.OrchestrationSpec, schema: dict[str, str]) -> None:  # fmt: skip
    """A step's ``sla``: its calendar, and the record fields its escalations ``set``."""
    calendar = sla.get("calendar")
    if calendar is not None and calendar not in deploy.known["calendar"]:
        deploy.unknown(ctx, (*path, "calendar"), "calendar", calendar)
    obj = deploy.known["object"].get(orchestration.object or "")
    for i, rung in enumerate(sla.get("escalations") or []):
        where = (*path, "escalations", i, "set")
        if "set" in rung and obj is None:
            ctx.error(where, "set needs the run's record: give the orchestration an object",
                      at_key=True)  # fmt: skip
            continue
        for key, value in (rung.get("set") or {}).items():
            field = obj.field(key) if obj is not None else None
            if field is None:
                known = [f.name for f in obj.fields] if obj is not None else []
                ctx.error((*where, key), f"unknown field {key!r} of {orchestration.object}"
                          + suggestion(key, known), at_key=True)  # fmt: skip
            elif isinstance(value, str) and value.startswith("="):
                expected = S.FIELD_TYPES[field.type]
                check_formula(ctx, FormulaSite((*where, key), value[1:], "run", expected, 1),
                              schema)  # fmt: skip


def check_step_inputs(deploy: Deploy, ctx: Context, path: Path, step: S.StepSpec,
                      step_type: StepType, schema: dict[str, str]) -> None:  # fmt: skip
    for key, value in step.inputs.items():
        where = (*path, "inputs", key)
        parameter = step_type.parameters.get(key)
        if parameter is None:
            known = [k for k in step_type.parameters if k not in ("fields", "validations")]
            ctx.error(where, f"unknown parameter {key!r} for step type {step_type.name!r}"
                      + suggestion(key, known), at_key=True)  # fmt: skip
        else:
            parameter_value(ctx, where, value, parameter.type)
    for site in parameter_formulas(step.inputs, step_type, (*path, "inputs")):
        check_formula(ctx, site, schema)


def check_flow_in_run(deploy: Deploy, ctx: Context, path: Path, step: S.StepSpec,
                      flow: S.FlowSpec, step_type: StepType, schema: dict[str, str],
                      orchestration: str) -> None:  # fmt: skip
    """The flow's own parameter formulas, with this orchestration's names."""
    flow_ctx = deploy.contexts.get(("flow", flow.name))
    for site in parameter_formulas(flow.params, step_type):
        if site.path[0] in step.inputs or (flow.name, site.path) in deploy.failed_flow_formulas:
            continue
        if flow_ctx is not None:
            note = f" (in orchestration {orchestration!r}, step {step.name!r})"
            check_formula(flow_ctx, site, schema, note)
            continue
        try:
            compile_formula(site.text, schema, expected=site.expected)
        except FormulaError as error:
            where = ".".join(str(p) for p in site.path)
            ctx.error((*path, "flow"), f"flow {flow.name!r}, parameter {where}: {error.message}")


def check_calendar(deploy: Deploy, item: Parsed) -> None:
    """Calendars are complete after the first pass."""


def check_directory(deploy: Deploy, item: Parsed) -> None:
    directory: S.DirectorySpec = item.spec
    ctx = item.ctx
    for i, user in enumerate(directory.users):
        if user.manager is not None and user.manager not in deploy.users:
            deploy_users_error(ctx, ("users", i, "manager"), user.manager, deploy.users)
    for key in ("groups", "queues"):
        for i, team in enumerate(getattr(directory, key)):
            for j, member in enumerate(team.members):
                if member not in deploy.users:
                    deploy_users_error(ctx, (key, i, "members", j), member, deploy.users)


def deploy_users_error(ctx: Context, path: Path, name: str, users: Collection[str]) -> None:
    ctx.error(path, f"unknown user {name!r}" + _closest(name, users)
              + ": add them to the directory's users")  # fmt: skip


CHECKS = {
    "object": check_object,
    "flow": check_flow,
    "orchestration": check_orchestration,
    "calendar": check_calendar,
    "directory": check_directory,
}


# -- names -----------------------------------------------------------------------------


def check_unique_names(parsed: list[Parsed]) -> None:
    """Names are unique per kind within a deploy; so are users, groups and queues."""
    first: dict[tuple[str, Any], S.Position] = {}

    def claim(ctx: Context, key: tuple[str, Any], path: Path, noun: str) -> None:
        position = ctx.document.value_position(path)
        if key in first:
            ctx.error(path, f"duplicate {noun} name {key[1]!r} (first defined at"
                      f" {first[key]})", broken=False)  # fmt: skip
        else:
            first[key] = position

    for item in parsed:
        data = item.ctx.document.data
        if item.kind != "directory":
            if isinstance(data.get("name"), str):
                claim(item.ctx, (item.kind, data["name"]), ("name",), item.kind)
            continue
        for key, noun in (("users", "user"), ("groups", "group"), ("queues", "queue")):
            entries = data.get(key)
            for i, entry in enumerate(entries if isinstance(entries, list) else []):
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    continue
                # Repeats inside one document are reported by the first pass.
                if entry["name"] not in [e.get("name") for e in entries[:i] if isinstance(e, dict)]:
                    claim(item.ctx, (noun, entry["name"]), (key, i, "name"), noun)


def validate(parsed: list[Parsed], *, step_types: Mapping[str, StepType], active: Active,
             known_users: Collection[str],
             known_teams: Mapping[str, Collection[str]] | None = None) -> None:  # fmt: skip
    """Check names, references and formulas of a deploy; errors go to each context.

    ``known_teams`` are the queues and groups that exist already (``{"queue": names,
    "group": names}``); SLA targets may name these and those of this deploy.
    """
    check_unique_names(parsed)
    deploy = Deploy(parsed, step_types, active, known_users, known_teams)
    # Flows first: their failed formulas are not reported again for each orchestration.
    for kind in ("object", "flow", "orchestration", "calendar", "directory"):
        for item in deploy.of_kind(kind):
            if not item.ctx.broken:
                CHECKS[kind](deploy, item)
