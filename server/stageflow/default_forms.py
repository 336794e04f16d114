"""The built-in interactive step types: ``form`` and ``approval``.

A form shows the fields its flow declares and, when a person submits it, checks every
value against its field (type, required — a flag or a formula over the form's values —,
picklist values) and the flow's validation rules, Salesforce-style: a rule's condition
must hold, or its message is shown.  The values become the step's outputs
(``$Steps.NAME.FIELD``).  An approval asks for a decision and a comment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .definitions.spec import FIELD_TYPES
from .extension import InteractiveStepType, Parameter, StepContext, StepError, StepType
from .grammar import FormulaError, compile_formula
from .grammar import types as T
from .hookspecs import hookimpl
from .records import to_json_value

DECISIONS = ("Approved", "Rejected")


_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0", ""}


def _field_value(field: Mapping[str, Any], raw: Any) -> Any:
    if field.get("type") == "checkbox":  # a form posts "true" when ticked, nothing when not
        if raw is None or isinstance(raw, bool):
            return bool(raw)
        word = str(raw).strip().lower()
        if word not in _TRUE | _FALSE:
            raise ValueError(f"{raw!r} is not true or false")
        return word in _TRUE
    value = T.coerce(raw, FIELD_TYPES[field.get("type", "text")])
    values = field.get("values") or ()
    if field.get("type") == "picklist" and value is not None and value not in values:
        raise ValueError(f"{value!r} is not one of {', '.join(values)}")
    return value


def _holds(condition: str, values: Mapping[str, Any]) -> bool:
    try:
        return compile_formula(condition).test(values)
    except FormulaError as error:
        raise StepError(f"formula failed: {error.message}", retry=False) from None


class FormStep(InteractiveStepType):
    """A form: fields to fill in, checked on submit."""

    def output_schema(self, parameters: Mapping[str, Any]) -> Mapping[str, str]:
        """Every field of the form is an output, typed by its field type."""
        fields = parameters.get("fields") or ()
        return {f["name"]: FIELD_TYPES[f.get("type", "text")] for f in fields}

    def render(self, context: StepContext) -> Mapping[str, Any]:
        """The fields to show, the instructions, and the fields' defaults: formulas over
        the run's record (``TODAY() + 7``, ``Subject``; a literal default is a formula too)."""
        fields = list(context.parameters.get("fields") or ())
        values = {}
        for field in fields:
            default = field.get("default")
            if isinstance(default, str):
                try:
                    formula = compile_formula(default.removeprefix("="))
                    default = formula.evaluate(context.record or {})
                except FormulaError:
                    default = None  # a default that cannot be worked out: left blank
            if default is not None:
                values[field["name"]] = to_json_value(default)
        return {"instructions": context.parameters.get("instructions"), "fields": fields,
                "values": values}  # fmt: skip

    def complete(self, context: StepContext, submitted: Mapping[str, Any]) -> Mapping[str, Any]:
        """Check the submitted values; every problem is reported at once, by field."""
        fields = {f["name"]: f for f in context.parameters.get("fields") or ()}
        problems: dict[str, str] = {
            name: "is not a field of this form" for name in submitted if name not in fields
        }
        values: dict[str, Any] = {}
        for name, field in fields.items():
            try:
                values[name] = _field_value(field, submitted.get(name))
            except ValueError as error:
                problems[name] = str(error)
        for name, field in fields.items():
            required = field.get("required", False)
            if isinstance(required, str):  # a formula over the form's values
                required = _holds(required.removeprefix("="), values)
            if required and values.get(name) is None and name not in problems:
                problems[name] = "is required"
        if not problems:
            for rule in context.parameters.get("validations") or ():
                if not _holds(rule["condition"], values):
                    problems["_form"] = rule["message"]
                    break
        if problems:
            message = "; ".join(f"{k}: {v}" for k, v in problems.items())
            raise StepError(message, retry=False, errors=problems)
        return {name: to_json_value(value) for name, value in values.items()}


class ApprovalStep(InteractiveStepType):
    """Approve or reject, with a comment (required to reject)."""

    def render(self, context: StepContext) -> Mapping[str, Any]:
        """The instructions and the two choices."""
        return {"instructions": context.parameters.get("instructions"), "decisions": DECISIONS}

    def complete(self, context: StepContext, submitted: Mapping[str, Any]) -> Mapping[str, Any]:
        """Output ``decision`` (Approved or Rejected) and ``comment``."""
        decision = submitted.get("decision")
        comment = (submitted.get("comment") or "").strip() or None
        if decision not in DECISIONS:
            problem = f"choose {' or '.join(DECISIONS)}"
            raise StepError(f"decision: {problem}", retry=False, errors={"decision": problem})
        if decision == "Rejected" and comment is None:
            problem = "say why the request is rejected"
            raise StepError(f"comment: {problem}", retry=False, errors={"comment": problem})
        return {"decision": decision, "comment": comment}


FORM = FormStep(
    name="form",
    label="Fill in a form",
    parameters={
        "fields": Parameter("List", required=True, description="The form's fields.", raw=True),
        "validations": Parameter("List", description="Rules: {condition, message}.", raw=True),
        "instructions": Parameter("Text", description="Shown above the form."),
        "update_record": Parameter(
            "Map",
            raw=True,
            description="On submit, set fields of the run's record: {RecordField: form field}.",
        ),
    },
)

APPROVAL = ApprovalStep(
    name="approval",
    label="Approve or reject",
    parameters={"instructions": Parameter("Text", description="What is to be approved.")},
    outputs={"decision": "Text", "comment": "Text"},
)


@hookimpl
def register_step_types() -> list[StepType]:
    """The built-in interactive step types."""
    return [FORM, APPROVAL]
