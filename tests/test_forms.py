"""The built-in interactive step types check what people submit."""

from __future__ import annotations

import pytest

from stageflow.default_forms import APPROVAL, FORM
from stageflow.extension import StepContext, StepError

TRIAGE = {
    "fields": [
        {"name": "severity", "type": "picklist", "values": ["Minor", "Major"], "required": True},
        {"name": "notes", "type": "textarea", "required": "=severity = 'Major'"},
        {"name": "hours", "type": "number"},
    ],
    "validations": [
        {"condition": "NOT(AND(severity = 'Minor', LEN(notes) > 10))",
         "message": "Keep minor notes short"},
    ],
}  # fmt: skip


def context(parameters: dict) -> StepContext:
    return StepContext(step="triage", parameters=parameters)


def test_form_outputs_typed_values() -> None:
    outputs = FORM.finish(context(TRIAGE), {"severity": "Major", "notes": "Down", "hours": "2.5"})
    assert outputs == {"severity": "Major", "notes": "Down", "hours": 2.5}
    assert FORM.output_schema(TRIAGE) == {
        "severity": "Picklist",
        "notes": "Text",
        "hours": "Number",
    }


@pytest.mark.parametrize(
    ("submitted", "message"),
    [
        ({}, "severity: is required"),
        ({"severity": "Major"}, "notes: is required"),
        ({"severity": "Huge"}, "severity: 'Huge' is not one of Minor, Major"),
        ({"severity": "Minor", "hours": "lots"}, "hours: 'lots' is not a valid Number value"),
        ({"severity": "Minor", "colour": "red"}, "colour: is not a field of this form"),
        ({"severity": "Minor", "notes": "a very long note"}, "_form: Keep minor notes short"),
    ],
)
def test_form_refuses_bad_submissions(submitted: dict, message: str) -> None:
    with pytest.raises(StepError) as caught:
        FORM.finish(context(TRIAGE), submitted)
    assert message in caught.value.message
    assert caught.value.retry is False


def test_form_renders_its_fields() -> None:
    shown = FORM.render(context({**TRIAGE, "instructions": "Look at it"}))
    assert shown["instructions"] == "Look at it"
    assert [f["name"] for f in shown["fields"]] == ["severity", "notes", "hours"]


def test_approval() -> None:
    assert APPROVAL.finish(context({}), {"decision": "Approved"}) == {
        "decision": "Approved", "comment": None,
    }  # fmt: skip
    assert APPROVAL.finish(context({}), {"decision": "Rejected", "comment": " too dear "}) == {
        "decision": "Rejected", "comment": "too dear",
    }  # fmt: skip
    with pytest.raises(StepError, match="choose Approved or Rejected"):
        APPROVAL.finish(context({}), {"decision": "Maybe"})
    with pytest.raises(StepError, match="say why"):
        APPROVAL.finish(context({}), {"decision": "Rejected"})
