"""The definitions loader: YAML in, specs out, or every error as ``file:line:column: message``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stageflow import default_forms, default_step_types
from stageflow.definitions import (
    DefinitionErrors,
    Document,
    Limits,
    load_definitions,
    parse_duration,
)
from stageflow.definitions import spec as S
from stageflow.definitions.yamlio import read_documents

ROOT = Path(__file__).resolve().parent.parent


def _types() -> dict:
    """The built-in step types."""
    types = [*default_step_types.register_step_types(), *default_forms.register_step_types()]
    return {t.name: t for t in types}


STEP_TYPES = _types()

BASE = """\
kind: object
name: Account
fields:
  - {name: Name, type: text, required: true}
---
kind: object
name: Case
fields:
  - {name: Subject, type: text, required: true}
  - {name: Status, type: picklist, values: [New, Working, Closed], default: New}
  - {name: Amount, type: number, scale: 2}
  - {name: Account, type: lookup, object: Account}
---
kind: flow
name: note
type: log
message: "=\\"Case \\" & $Record.Subject"
---
kind: flow
name: touch
type: update_record
set: {Status: "='Working'", Subject: "=Subjct & '!'"}
---
kind: flow
name: triage_form
type: form
fields:
  - {name: severity, type: picklist, values: [Minor, Major], required: true}
---
kind: flow
name: approve
type: approval
---
kind: calendar
name: support_hours
time_zone: Europe/Berlin
hours: {mon-fri: "09:00-17:00"}
---
kind: directory
users:
  - {name: alice, email: alice@example.com}
  - {name: bob, manager: alice}
groups:
  - {name: leads, members: [alice]}
"""

ORCH = """\
kind: orchestration
name: o
trigger: {type: record, object: Case}
stages:
  - name: s
    steps:
      - {name: a, flow: note}
"""


def load(*sources: tuple[str, str], **options) -> list[Document]:
    options.setdefault("step_types", STEP_TYPES)
    options.setdefault("active", {})
    options.setdefault("known_users", {"admin"})
    return load_definitions(list(sources), **options)


def errors(text: str, **options) -> list[str]:
    with pytest.raises(DefinitionErrors) as info:
        load(("base.yaml", BASE), ("bad.yaml", text), **options)
    return [str(error) for error in info.value.errors]


def step(extra: str) -> str:
    """ORCH with its one step changed: ``extra`` replaces ``flow: note}``."""
    return ORCH.replace("flow: note}", extra)


#: An interactive step, for its ``sla``.
SLA_STEP = "flow: approve, assignee: 'user:alice', "

BOMB = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{b}: &{b} [{', '.join(['*' + a] * 10)}]\n" for a, b in zip("abcde", "bcdef", strict=True)
)
DURATION_HELP = "use a number and a unit (30s, 15m, 4h, 2d, 1w) or ISO 8601 (PT4H, P1DT2H)"
HOLIDAY_HELP = "use a date (2026-12-25), or MM-DD with yearly: true"
FIELD_TYPES = ", ".join(S.FIELD_TYPES)

# (id, document, the one error expected)
INVALID = [
    ("unknown kind", "kind: objekt\nname: X\n",
     "bad.yaml:1:7: unknown kind 'objekt' (did you mean 'object'?)"),
    ("missing kind", "name: X\n",
     "bad.yaml:1:1: the document is missing required key 'kind'"
     " (one of: object, flow, orchestration, calendar, directory)"),
    ("not a mapping", "- a\n- b\n",
     "bad.yaml:1:1: a definition must be a mapping with a kind, not a list"),
    ("unknown key", "kind: object\nname: X\nlable: The X\nfields:\n  - {name: A, type: text}\n",
     "bad.yaml:3:1: unknown key 'lable' in object (did you mean 'label'?)"),
    ("unknown key, no close match",
     "kind: object\nname: X\ncolour: red\nfields:\n  - {name: A, type: text}\n",
     "bad.yaml:3:1: unknown key 'colour' in object; expected one of: kind, name, label,"
     " source, access, fields, validations"),
    ("missing required key", "kind: object\nname: X\n",
     "bad.yaml:1:1: object is missing required key 'fields'"),
    ("wrong type", "kind: object\nname: X\nfields: {name: A}\n",
     "bad.yaml:3:9: 'fields' must be a list, not a mapping"),
    ("unknown field type", "kind: object\nname: X\nfields:\n  - {name: A, type: strng}\n",
     f"bad.yaml:4:21: 'type' must be one of {FIELD_TYPES}, not 'strng'"),
    ("invalid name", "kind: object\nname: my case\nfields:\n  - {name: A, type: text}\n",
     "bad.yaml:2:7: invalid name 'my case': use letters, digits and _, starting with a letter"),
    ("duplicate field",
     "kind: object\nname: X\nfields:\n  - {name: A, type: text}\n  - {name: A, type: number}\n",
     "bad.yaml:5:12: duplicate field 'A' (first defined at bad.yaml:4:12)"),
    ("duplicate name in a deploy", "kind: object\nname: Case\nfields:\n  - {name: A, type: text}\n",
     "bad.yaml:2:7: duplicate object name 'Case' (first defined at base.yaml:7:7)"),
    ("picklist without values", "kind: object\nname: X\nfields:\n  - {name: P, type: picklist}\n",
     "bad.yaml:4:5: a picklist field needs a list of values"),
    ("duplicate picklist value",
     "kind: object\nname: X\nfields:\n  - {name: P, type: picklist, values: [a, b, a]}\n",
     "bad.yaml:4:46: duplicate value 'a' (first defined at bad.yaml:4:40)"),
    ("picklist value not text",
     "kind: object\nname: X\nfields:\n  - {name: P, type: picklist, values: [a, 2]}\n",
     "bad.yaml:4:43: item 2 of 'values' must be text, not the number 2"),
    ("lookup to an unknown object",
     "kind: object\nname: X\nfields:\n  - {name: Acct, type: lookup, object: Acount}\n",
     "bad.yaml:4:40: unknown object 'Acount' (did you mean 'Account'?)"),
    ("scale on text", "kind: object\nname: X\nfields:\n  - {name: A, type: text, scale: 2}\n",
     "bad.yaml:4:27: scale is only for number fields"),
    ("required not a boolean",
     "kind: object\nname: X\nfields:\n  - {name: A, type: text, required: yes please}\n",
     "bad.yaml:4:37: 'required' must be true or false, not the text 'yes please'"),
    ("default of the wrong type",
     "kind: object\nname: X\nfields:\n  - {name: A, type: number, default: abc}\n",
     "bad.yaml:4:38: Formula result is data type (Text), incompatible with expected data"
     " type (Number)."),
    ("unknown step type", "kind: flow\nname: f\ntype: frm\n",
     "bad.yaml:3:7: unknown step type 'frm' (did you mean 'form'?)"),
    ("missing parameter", "kind: flow\nname: f\ntype: log\n",
     "bad.yaml:1:1: flow of type 'log' is missing required key 'message'"),
    ("parameter of the wrong type", "kind: flow\nname: f\ntype: update_record\nset: [Status]\n",
     "bad.yaml:4:6: 'set' must be a mapping or a formula starting with =, not a list"),
    ("parameter formula syntax error", "kind: flow\nname: f\ntype: log\nmessage: \"='a' &\"\n",
     "bad.yaml:4:17: Syntax error. Missing expression at the end of the formula"),
    ("form field required formula not a condition",
     "kind: flow\nname: f\ntype: form\nfields:\n  - {name: a, type: text, required: \"=LEN(a)\"}\n",
     "bad.yaml:5:39: Formula result is data type (Number), incompatible with expected data"
     " type (Checkbox)."),
    ("form validation names an unknown field",
     "kind: flow\nname: f\ntype: form\nfields:\n  - {name: a, type: text}\n"
     "validations:\n  - {condition: LEN(b) > 3, message: too long}\n",
     "bad.yaml:7:21: Field b does not exist. Check spelling."),
    ("unknown flow", step("flow: nots}"),
     "bad.yaml:7:25: unknown flow 'nots' (did you mean 'note'?)"),
    ("interactive step without assignee", step("flow: triage_form}"),
     "bad.yaml:7:9: step 'a' calls the interactive flow 'triage_form': it needs an assignee"
     " (user:NAME, queue:NAME, group:NAME or a formula)"),
    ("background step with assignee", step("flow: note, assignee: 'user:alice'}"),
     "bad.yaml:7:31: assignee does not apply to the background flow 'note' (step type 'log')"),
    ("interactive step with retry",
     step("flow: approve, assignee: 'user:alice', retry: {attempts: 2}}"),
     "bad.yaml:7:58: retry does not apply to the interactive flow 'approve'"
     " (step type 'approval')"),
    ("retry attempts zero", step("flow: note, retry: {attempts: 0}}"),
     "bad.yaml:7:49: 'attempts' must be at least 1, not 0"),
    ("bad backoff duration", step("flow: note, retry: {attempts: 2, backoff: 10 minutes}}"),
     f"bad.yaml:7:61: invalid duration '10 minutes': {DURATION_HELP}"),
    ("bad sla due", step("flow: approve, assignee: 'user:alice', sla: {due: 4 hours}}"),
     f"bad.yaml:7:69: invalid duration '4 hours': {DURATION_HELP}"),
    ("bad escalation after",
     step("flow: approve, assignee: 'user:alice', sla: {due: 4h, escalations: [{after: soon}]}}"),
     f"bad.yaml:7:95: invalid duration 'soon': {DURATION_HELP}"),
    ("unknown calendar",
     step("flow: approve, assignee: 'user:alice', sla: {due: 4h, calendar: office}}"),
     "bad.yaml:7:83: unknown calendar 'office'"),
    ("escalations out of order",
     step(f"{SLA_STEP}sla: {{due: 4h, escalations: [{{after: 2h}}, {{after: PT1H}}]}}}}"),
     "bad.yaml:7:108: escalations must come in order: after 'PT1H' is not later than the"
     " previous escalation's '2h'"),
    ("escalation to an unknown queue",
     step(f"{SLA_STEP}sla: {{due: 4h, escalations: [{{after: 1h, reassign: 'queue:tier9'}}]}}}}"),
     "bad.yaml:7:109: unknown queue 'tier9': add it to the directory's queues"),
    ("escalation notifying an unknown group",
     step(f"{SLA_STEP}sla: {{due: 4h, escalations: [{{after: 1h,"
          " notify: [assignee, 'group:lead']}]}}"),
     "bad.yaml:7:118: unknown group 'lead' (did you mean 'leads'?): add it to the directory's"
     " groups"),
    ("due formula not a date and time", step(f"{SLA_STEP}sla: {{due: TODAY()}}}}"),
     "bad.yaml:7:69: Formula result is data type (Date), incompatible with expected data type"
     " (DateTime)."),
    ("bad sla warn", step(f"{SLA_STEP}sla: {{due: 4h, warn: soon}}}}"),
     f"bad.yaml:7:79: invalid duration 'soon': {DURATION_HELP}"),
    ("escalation sets an unknown field",
     step(f"{SLA_STEP}sla: {{due: 4h, escalations: [{{after: 1h, set: {{Statu: Closed}}}}]}}}}"),
     "bad.yaml:7:105: unknown field 'Statu' of Case (did you mean 'Status'?)"),
    ("escalation sets a field to the wrong type",
     step(f"{SLA_STEP}sla: {{due: 4h, escalations: [{{after: 1h, set: {{Amount: \"='x'\"}}}}]}}}}"),
     "bad.yaml:7:115: Formula result is data type (Text), incompatible with expected data"
     " type (Number)."),
    ("escalation target formula not text",
     step(f"{SLA_STEP}sla: {{due: 4h, escalations: [{{after: 1h, reassign: '=Amount'}}]}}}}"),
     "bad.yaml:7:111: Formula result is data type (Number), incompatible with expected data"
     " type (Text)."),
    ("formula syntax error in an entry", step("flow: note, entry: 'Amount > (1 +'}"),
     "bad.yaml:7:52: Syntax error. Missing expression at the end of the formula"),
    ("non-boolean entry", step("flow: note, entry: Amount + 1}"),
     "bad.yaml:7:38: Formula result is data type (Number), incompatible with expected data"
     " type (Checkbox)."),
    ("formula type error in a condition",
     ORCH.replace("object: Case}", "object: Case, condition: 'IF(\"yes\", TRUE, FALSE)'}"),
     "bad.yaml:3:54: Incorrect parameter type for function 'IF()'. Expected Boolean,"
     " received Text"),
    ("unknown field in a condition",
     ORCH.replace("object: Case}", "object: Case, condition: 'Amont > 5'}"),
     "bad.yaml:3:51: Field Amont does not exist. Check spelling."),
    ("unknown $Steps output",
     step("flow: note}\n      - {name: b, flow: note, entry: '$Steps.a.mesage = \"x\"'}"),
     "bad.yaml:8:39: Field $Steps.a.mesage does not exist. Check spelling."),
    ("$Steps output of the wrong type",
     step("flow: note}\n      - {name: b, flow: note, entry: '$Steps.a.message > 5'}"),
     "bad.yaml:8:56: Incorrect parameter type for operator '>'. Expected Text, received Number"),
    ("$Input of the wrong type",
     step("flow: note, entry: '$Input.reason > 3'}") + "inputs:\n  - {name: reason, type: text}\n",
     "bad.yaml:7:53: Incorrect parameter type for operator '>'. Expected Text, received Number"),
    ("formula error in a block scalar",
     step("flow: note}\n    exit: |\n      AND(\n        ISPICKVAL(Status, \"Closed\"),\n"
          "        Amount >\n      )\n"),
     "bad.yaml:12:7: Syntax error. Found ')'"),
    ("duplicate step across stages",
     ORCH + "  - name: t\n    steps:\n      - {name: a, flow: note}\n",
     "bad.yaml:10:16: duplicate step 'a' (first defined at bad.yaml:7:16)"),
    ("duplicate stage", ORCH + "  - name: s\n    steps:\n      - {name: b, flow: note}\n",
     "bad.yaml:8:11: duplicate stage 's' (first defined at bad.yaml:5:11)"),
    ("no stages", "kind: orchestration\nname: o\nstages: []\n",
     "bad.yaml:3:9: 'stages' must list at least one item"),
    ("record trigger without object", ORCH.replace("object: Case}", "}"),
     "bad.yaml:3:10: a record trigger needs the object whose records start runs"),
    ("trigger when", ORCH.replace("object: Case}", "object: Case, when: deleted}"),
     "bad.yaml:3:45: 'when' must be one of created, updated, created_or_updated, not 'deleted'"),
    ("trigger on an unknown object", ORCH.replace("object: Case}", "object: Kase}"),
     "bad.yaml:3:33: unknown object 'Kase' (did you mean 'Case'?)"),
    ("unknown step input", step("flow: note, inputs: {mesage: hi}}"),
     "bad.yaml:7:40: unknown parameter 'mesage' for step type 'log' (did you mean 'message'?)"),
    ("step input formula", step("flow: note, inputs: {message: '=TEXT(Amont)'}}"),
     "bad.yaml:7:56: Field Amont does not exist. Check spelling."),
    ("flow parameter checked against the run's record", step("flow: touch}"),
     "base.yaml:22:40: Field Subjct does not exist. Check spelling. (in orchestration 'o',"
     " step 'a')"),
    ("input type", ORCH + "inputs:\n  - {name: reason, type: txt}\n",
     f"bad.yaml:9:26: 'type' must be one of {FIELD_TYPES}, not 'txt'"),
    ("bad time zone",
     "kind: calendar\nname: c\ntime_zone: Europe/Berln\nhours: {mon: '09:00-17:00'}\n",
     "bad.yaml:3:12: unknown time zone 'Europe/Berln': use a name such as Europe/Berlin or"
     " America/New_York"),
    ("bad calendar hours", "kind: calendar\nname: c\ntime_zone: UTC\nhours: {mon-fri: '9-5'}\n",
     "bad.yaml:4:18: invalid working hours '9-5': write working hours as \"09:00-17:00\","
     " several as \"09:00-12:00, 13:00-17:00\""),
    ("calendar with no working hours", "kind: calendar\nname: c\ntime_zone: UTC\nhours: {}\n",
     "bad.yaml:4:8: a calendar needs working hours on some day: write working hours as"
     " \"09:00-17:00\", several as \"09:00-12:00, 13:00-17:00\""),
    ("calendar hours reversed",
     "kind: calendar\nname: c\ntime_zone: UTC\nhours: {mon-fri: '17:00-09:00'}\n",
     "bad.yaml:4:18: working hours '17:00-09:00' end before they start"),
    ("calendar weekday",
     "kind: calendar\nname: c\ntime_zone: UTC\nhours: {monday: '09:00-17:00'}\n",
     "bad.yaml:4:9: invalid weekday 'monday': use mon, tue, wed, thu, fri, sat, sun or a range"
     " such as mon-fri"),
    ("calendar day twice",
     "kind: calendar\nname: c\ntime_zone: UTC\n"
     "hours: {mon-fri: '09:00-17:00', fri: '09:00-12:00'}\n",
     "bad.yaml:4:33: fri has working hours twice"),
    ("calendar holiday", "kind: calendar\nname: c\ntime_zone: UTC\nhours: {mon: '09:00-17:00'}\n"
     "holidays: [2026-02-30]\n",
     f"bad.yaml:5:12: invalid holiday '2026-02-30': {HOLIDAY_HELP}"),
    ("picklist default not a value",
     "kind: object\nname: X\nfields:\n  - {name: P, type: picklist, values: [a, b], default: c}\n",
     "bad.yaml:4:56: default 'c' is not one of the values: a, b"),
    ("lookup in a form to an unknown object",
     "kind: flow\nname: f\ntype: form\nfields:\n  - {name: a, type: lookup, object: Nope}\n",
     "bad.yaml:5:37: unknown object 'Nope'"),
    ("assignee names an unknown user", step("flow: approve, assignee: 'user:zed'}"),
     "bad.yaml:7:44: unknown user 'zed': add them to the directory's users"),
    ("escalation target", step("flow: approve, assignee: 'user:alice', sla: {due: 4h,"
                               " escalations: [{after: 1h, notify: [leads]}]}}"),
     "bad.yaml:7:108: invalid target 'leads': use user:NAME, queue:NAME or group:NAME"),
    ("unknown group member", "kind: directory\ngroups:\n  - {name: g, members: [alice, zed]}\n",
     "bad.yaml:3:32: unknown user 'zed': add them to the directory's users"),
    ("unknown manager", "kind: directory\nusers:\n  - {name: zoe, manager: carl}\n",
     "bad.yaml:3:26: unknown user 'carl': add them to the directory's users"),
    ("bad email", "kind: directory\nusers:\n  - {name: zoe, email: zoe.example.com}\n",
     "bad.yaml:3:24: invalid email address 'zoe.example.com'"),
    ("user defined twice", "kind: directory\nusers:\n  - {name: alice}\n",
     "bad.yaml:3:12: duplicate user name 'alice' (first defined at base.yaml:41:12)"),
    ("YAML syntax error", "kind: object\nname: X\nfields: [\n",
     "bad.yaml:4:1: invalid YAML: expected the node content, but found '<stream end>'"
     " (while parsing a flow node)"),
    ("YAML tab", "kind: object\n\tname: X\n",
     "bad.yaml:2:1: invalid YAML: found character '\\t' that cannot start any token"
     " (while scanning for the next token)"),
    ("duplicate key", "kind: object\nname: X\nname: Y\nfields:\n  - {name: A, type: text}\n",
     "bad.yaml:3:1: duplicate key 'name'"),
    ("alias bomb", BOMB,
     "bad.yaml:1:26: the document has more than 100,000 values (aliases expanding too much?)"),
    ("too deep", "kind: object\nname: X\nfields: " + "[" * 60 + "]" * 60 + "\n",
     "bad.yaml:3:58: the document is nested deeper than 50 levels"),
    ("recursive alias", "kind: object\nname: X\nfields: &f [*f]\n",
     "bad.yaml:3:9: the document is nested deeper than 50 levels (a recursive alias?)"),
    ("python tag", "kind: object\nname: !!python/object/apply:os.system X\n"
     "fields:\n  - {name: A, type: text}\n",
     "bad.yaml:2:7: invalid value: could not determine a constructor for the tag"
     " 'tag:yaml.org,2002:python/object/apply:os.system'"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in INVALID])
def test_invalid_document(text: str, expected: str) -> None:
    assert errors(text) == [expected]


def test_the_table_is_large_and_distinct() -> None:
    assert len(INVALID) >= 30
    assert len({text for _, text, _ in INVALID}) == len(INVALID)


def test_every_error_is_reported_at_once() -> None:
    text = (
        "kind: object\nname: X\nfields:\n  - {name: A, type: strng}\n  - {name: B, type: text,"
        " requird: true}\n---\n"
        + step("flow: nots, entry: 'Amount >'}")
        + "---\nkind: calendar\nname: c\ntime_zone: Mars/Olympus\nhours: {sun: '10:00-9:00'}\n"
    )
    assert errors(text) == [
        f"bad.yaml:4:21: 'type' must be one of {FIELD_TYPES}, not 'strng'",
        "bad.yaml:5:27: unknown key 'requird' in field (did you mean 'required'?)",
        "bad.yaml:13:25: unknown flow 'nots' (did you mean 'note'?)",
        "bad.yaml:13:47: Syntax error. Missing expression at the end of the formula",
        "bad.yaml:17:12: unknown time zone 'Mars/Olympus': use a name such as Europe/Berlin"
        " or America/New_York",
        "bad.yaml:18:14: invalid working hours '10:00-9:00': write working hours as"
        ' "09:00-17:00", several as "09:00-12:00, 13:00-17:00"',
    ]


def test_errors_are_sorted_across_files_and_documents_before_a_syntax_error_count() -> None:
    with pytest.raises(DefinitionErrors) as info:
        load(("b.yaml", "kind: object\nname: X\nfields: []\n---\nkind: [\n"),
             ("a.yaml", "kind: flow\nname: f\ntype: log\nmessage: 3\n"))  # fmt: skip
    assert str(info.value).splitlines() == [
        "a.yaml:4:10: 'message' must be text or a formula starting with =, not the number 3",
        "b.yaml:3:9: 'fields' must list at least one item",
        "b.yaml:6:1: invalid YAML: expected the node content, but found '<stream end>'"
        " (while parsing a flow node)",
    ]


# -- valid documents -------------------------------------------------------------------


def test_valid_documents_of_every_kind() -> None:
    text = ORCH.replace(
        "{type: record, object: Case}",
        "{type: record, object: Case,"
        " when: updated, condition: 'ISCHANGED(Status)', only_when_changed: true}",
    )
    text += """\
  - name: review
    entry: $Stages.s.Status = "Completed" && $Input.urgent
    exit: $Steps.approval.decision = "Approved"
    steps:
      - name: approval
        flow: approve
        label: Approve the case
        assignee: IF($Record.Amount > 1000, "group:leads", "user:" & $User.Name)
        sla: {due: 2d, calendar: support_hours, escalations: [{after: 1d, notify: [assignee]}]}
      - name: record
        flow: touch
        entry: $Steps.a.message <> "" && NOT(ISBLANK($Record__Prior.Status))
        inputs: {set: {Status: "=IF($Input.urgent, 'Working', 'New')"}}
        retry: {attempts: 3, backoff: PT30S}
inputs:
  - {name: urgent, type: checkbox, default: false}
  - {name: reason, type: text, required: true}
"""
    base = BASE.replace("Subjct", "Subject")
    docs = load(("base.yaml", base), ("o.yaml", text), known_users={"carol"})
    assert [(d.kind, d.name) for d in docs] == [
        ("object", "Account"), ("object", "Case"), ("flow", "note"), ("flow", "touch"),
        ("flow", "triage_form"), ("flow", "approve"), ("calendar", "support_hours"),
        ("directory", "directory"), ("orchestration", "o"),
    ]  # fmt: skip
    case = docs[1].spec
    assert case.field("Status") == S.FieldSpec(
        "Status", "picklist", values=("New", "Working", "Closed"), default='"New"'
    )
    assert case.field("Amount").scale == 2 and case.field("Account").object == "Account"
    touch = {"set": {"Status": "='Working'", "Subject": "=Subject & '!'"}}
    assert docs[3].spec == S.FlowSpec("touch", "update_record", params=touch)
    assert docs[4].spec.fields[0].required is True
    assert docs[6].spec == S.CalendarSpec(
        "support_hours", "Europe/Berlin", {d: (("09:00", "17:00"),) for d in range(5)}
    )
    assert docs[7].spec.users[1] == S.UserSpec("bob", manager="alice")
    assert docs[7].spec.groups == (S.TeamSpec("leads", ("alice",)),)
    orchestration = docs[8].spec
    assert orchestration.object == "Case"
    assert orchestration.trigger == S.TriggerSpec(
        "record", "Case", "updated", "ISCHANGED(Status)", only_when_changed=True
    )
    assert orchestration.inputs == (
        S.InputSpec("urgent", "checkbox", default=False),
        S.InputSpec("reason", "text", required=True),
    )
    review = orchestration.stage("review")
    assert review.entry == '$Stages.s.Status = "Completed" && $Input.urgent'
    approval, record = review.steps
    assert approval.label == "Approve the case"
    assert approval.sla == {"due": "2d", "calendar": "support_hours",
                            "escalations": [{"after": "1d", "notify": ["assignee"]}]}  # fmt: skip
    assert record.retry == S.RetrySpec(3, 30.0)
    assert record.inputs == {"set": {"Status": "=IF($Input.urgent, 'Working', 'New')"}}
    assert docs[8].position == S.Position("o.yaml", 1, 1)
    assert docs[8].text == text


def test_sla_keys_are_kept_as_written() -> None:
    sla = (
        "{due: PT4H, calendar: support_hours, warn: 30m, restart_on_reassign: true,"
        " escalations: [{after: 0m, notify: [assignee, 'group:leads', '=\"user:bob\"']},"
        " {after: 1h, reassign: 'user:bob', set: {Status: Working, Amount: '=Amount * 2'}}]}"
    )
    docs = load(("base.yaml", BASE.replace("Subjct", "Subject")),
                ("o.yaml", step(f"{SLA_STEP}sla: {sla}}}")))  # fmt: skip
    assert docs[-1].spec.stages[0].steps[0].sla == {
        "due": "PT4H", "calendar": "support_hours", "warn": "30m", "restart_on_reassign": True,
        "escalations": [
            {"after": "0m", "notify": ["assignee", "group:leads", '="user:bob"']},
            {"after": "1h", "reassign": "user:bob",
             "set": {"Status": "Working", "Amount": "=Amount * 2"}},
        ],
    }  # fmt: skip


def test_literal_assignee_becomes_a_text_formula() -> None:
    docs = load(("base.yaml", BASE.replace("Subjct", "Subject")),
                ("o.yaml", step("flow: approve, assignee: 'queue:tier1'}")))  # fmt: skip
    assert docs[-1].spec.stages[0].steps[0].assignee == '"queue:tier1"'


def _active(docs: list[Document]) -> dict:
    active: dict = {}
    for doc in docs:
        active.setdefault(doc.kind, {})[doc.name] = doc.spec
    return active


def test_definitions_may_refer_to_active_ones() -> None:
    active = _active(load(("base.yaml", BASE.replace("Subjct", "Subject"))))
    [doc] = load(("o.yaml", step("flow: touch}")), active=active)
    assert doc.spec.object == "Case"
    directory = "kind: directory\ngroups:\n  - {name: g, members: [carol, alice]}\n"
    [doc] = load(("d.yaml", directory), active=active, known_users={"carol", "alice"})
    assert doc.spec.groups[0].members == ("carol", "alice")


def test_an_active_flow_with_a_bad_formula_is_reported_at_the_step() -> None:
    active = _active(load(("base.yaml", BASE.replace("Subjct", "Subject"))))
    active["flow"]["touch"] = S.FlowSpec("touch", "update_record", params={"set": {"A": "=Nope"}})
    with pytest.raises(DefinitionErrors) as info:
        load(("o.yaml", step("flow: touch}")), active=active)
    assert [str(e) for e in info.value.errors] == [
        "o.yaml:7:25: flow 'touch', parameter set.A: Field Nope does not exist. Check spelling."
    ]


# -- YAML reading ----------------------------------------------------------------------


def test_documents_keep_their_text_and_reformatting_keeps_the_hash() -> None:
    one = "# the account\nkind: object\nname: A\nfields: [{name: N, type: text}]\n---\n# next\n"
    two = "kind: object\nname:   A\nfields:\n  - name: N\n    type: text\n"
    [a], [b] = (load(("x.yaml", text)) for text in (one, two))
    assert a.text == "# the account\nkind: object\nname: A\nfields: [{name: N, type: text}]\n"
    assert a.position == S.Position("x.yaml", 2, 1)
    assert a.hash == b.hash and a.text != b.text
    [c] = load(("x.yaml", two.replace("text", "number")))
    assert c.hash != a.hash


def test_many_documents_in_one_file() -> None:
    text = (
        "kind: object\nname: A\nfields: [{name: N, type: text}]\n---\n---\n"
        "# B\nkind: object\nname: B\nfields: [{name: N, type: text}]\n...\n"
    )
    docs = load(("x.yaml", text))
    assert [(d.name, d.position.line, d.text) for d in docs] == [
        ("A", 1, "kind: object\nname: A\nfields: [{name: N, type: text}]\n"),
        ("B", 7, "# B\nkind: object\nname: B\nfields: [{name: N, type: text}]\n"),
    ]


def test_limits_are_configurable() -> None:
    text = "kind: object\nname: A\nfields: [{name: N, type: text}]\n"
    with pytest.raises(DefinitionErrors) as info:
        load(("x.yaml", text), limits=Limits(max_document_bytes=20))
    assert str(info.value) == "x.yaml:1:1: the document is larger than 20 bytes"
    with pytest.raises(DefinitionErrors) as info:
        load(("x.yaml", text), limits=Limits(max_file_bytes=20))
    assert str(info.value) == "x.yaml:1:1: the file is larger than 20 bytes"
    with pytest.raises(DefinitionErrors) as info:
        load(("x.yaml", text), limits=Limits(max_nodes=5))
    assert "more than 5 values" in str(info.value)


def test_merge_keys_and_anchors_are_read() -> None:
    text = "kind: object\nname: A\nfields:\n  - &f {name: N, type: text}\n  - {<<: *f, name: M}\n"
    [doc] = load(("x.yaml", text))
    assert [f.name for f in doc.spec.fields] == ["N", "M"]


@pytest.mark.parametrize(
    ("value", "line", "column", "expected"),
    [
        ("'Amount >'", 1, 9, (1, 13)),  # end of the formula: just after it
        ('"a \\" b"', 1, 5, (1, 10)),  # an escape in the source
        ("|\n  A\n  B +\n", 2, 3, (3, 5)),
        (">\n  A\n  B +\n", 1, 5, (3, 5)),  # folded: line 1 of the value spans two lines
        ("A and\n  B +", 1, 7, (2, 3)),  # a plain scalar over two lines
    ],
)
def test_positions_inside_formulas(value: str, line: int, column: int,
                                   expected: tuple[int, int]) -> None:  # fmt: skip
    [doc], _ = read_documents("x.yaml", f"f: {value}\n")
    position = doc.formula_position(("f",), line, column)
    assert (position.line, position.column) == expected


# -- durations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("4h", 14400), ("2d", 172800), ("1w", 604800), ("0m", 0),
     ("1.5h", 5400), ("PT4H", 14400), ("P1DT2H30M", 95400), ("pt15m", 900), ("P1W", 604800)],
)  # fmt: skip
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "4", "4 hours", "1y", "P1M", "P", "PT", "P1DT", "-1h", 4])
def test_parse_duration_refuses(text: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


# -- examples --------------------------------------------------------------------------


def test_the_support_example_loads() -> None:
    path = ROOT / "config" / "examples" / "support.yaml"
    docs = load((str(path.name), path.read_text()), known_users=set())
    kinds = {d.kind for d in docs}
    assert kinds == set(S.KINDS)
    [orchestration] = [d.spec for d in docs if d.kind == "orchestration"]
    assert len(orchestration.stages) == 3
    flows = {d.name: d.spec for d in docs if d.kind == "flow"}
    used = {flows[s.flow].type for stage in orchestration.stages for s in stage.steps}
    assert {"update_record", "log", "create_record"} <= used
    assert any(step.entry for stage in orchestration.stages for step in stage.steps)
    assert orchestration.trigger.condition and orchestration.stage("close").exit


def test_every_example_file_loads() -> None:
    sources = [(p.name, p.read_text()) for p in sorted((ROOT / "config/examples").glob("*.yaml"))]
    assert sources
    load(*sources, known_users=set())


def test_the_examples_in_the_docs_load() -> None:
    doc = (ROOT / "docs" / "definitions.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", doc, re.DOTALL)
    assert len(blocks) >= 5
    sources = [(f"definitions.md#{i + 1}", block) for i, block in enumerate(blocks)]
    docs = load(*sources, known_users=set())
    assert {d.kind for d in docs} == set(S.KINDS)


def test_the_docs_describe_every_key() -> None:
    doc = (ROOT / "docs" / "definitions.md").read_text()
    keys = ["kind", "name", "label", "source", "access", "fields", "validations", "type",
            "required", "default", "values", "scale", "object", "condition", "message",
            "trigger", "when", "only_when_changed", "inputs", "stages", "entry", "exit",
            "steps", "flow", "assignee", "retry", "attempts", "backoff", "sla", "due", "warn",
            "restart_on_reassign", "set",
            "calendar", "escalations", "after", "reassign", "notify", "time_zone", "hours",
            "holidays", "yearly", "date", "users", "email", "manager", "admin", "active",
            "groups", "queues", "members"]  # fmt: skip
    missing = [key for key in keys if f"`{key}`" not in doc]
    assert not missing
