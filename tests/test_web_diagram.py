"""The orchestration diagram: SVG text that is valid XML, shows every stage and step with
what they say, escapes every text from a definition, and cuts long texts with a tooltip."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from stageflow.definitions.spec import OrchestrationSpec, StageSpec, StepSpec, TriggerSpec
from stageflow.web.diagram import FlowInfo, fit, orchestration_svg

SVG = "{http://www.w3.org/2000/svg}"

FLOWS = {
    "triage_form": FlowInfo("form", True),
    "mark_working": FlowInfo("update_record", False),
    "fix_form": FlowInfo("form", True),
}

#: DESIGN.md's example orchestration.
CASE_ESCALATION = OrchestrationSpec(
    name="case_escalation",
    label="Case escalation",
    trigger=TriggerSpec(type="record", object="Case", when="created_or_updated",
                        condition='ISPICKVAL(Priority, "High")', only_when_changed=True),
    stages=(
        StageSpec(name="triage", steps=(
            StepSpec(name="mark", flow="mark_working"),
            StepSpec(name="triage", flow="triage_form",
                     assignee='IF(Amount > 10000, "queue:tier2", "queue:tier1")',
                     sla={"due": "4h", "calendar": "support_hours",
                          "escalations": [{"after": "0m"}, {"after": "2h"}]}),
        )),
        StageSpec(name="fix", entry='$Steps.triage.severity = "Major"',
                  exit='ISPICKVAL(Status, "Closed")', steps=(
            StepSpec(name="engineer", flow="fix_form", assignee='"group:engineers"',
                     entry='$Steps.triage.Status = "Completed"'),
        )),
    ),
)  # fmt: skip


def parse(svg: str) -> ET.Element:
    """The SVG as an XML tree (fails the test if it is not well-formed)."""
    root = ET.fromstring(svg)  # noqa: S314 (our own output, not untrusted input)
    assert root.tag == f"{SVG}svg"
    return root


def groups(root: ET.Element, attribute: str) -> list[ET.Element]:
    """The ``<g>`` elements carrying ``attribute`` (``data-stage``, ``data-step``), in order."""
    return [g for g in root.iter(f"{SVG}g") if attribute in g.attrib]


def all_text(element: ET.Element) -> str:
    """Every text drawn inside ``element`` (tooltips excluded), line by line."""
    return "\n".join("".join(t.itertext()) for t in element.iter(f"{SVG}text"))


def tooltips(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}title")]


def step_group(root: ET.Element, name: str) -> ET.Element:
    (found,) = [g for g in groups(root, "data-step") if g.get("data-step") == name]
    return found


def test_the_diagram_is_valid_svg_with_every_stage_and_step_in_order() -> None:
    root = parse(orchestration_svg(CASE_ESCALATION, FLOWS))
    assert [g.get("data-stage") for g in groups(root, "data-stage")] == ["triage", "fix"]
    assert [g.get("data-step") for g in groups(root, "data-step")] == ["mark", "triage", "engineer"]
    stage = groups(root, "data-stage")[0]
    assert [g.get("data-step") for g in groups(stage, "data-step")] == ["mark", "triage"]
    assert root.find(f"{SVG}title").text == "Diagram of Case escalation"  # type: ignore[union-attr]
    assert "stage 2 fix: engineer" in root.find(f"{SVG}desc").text  # type: ignore[union-attr]
    assert float(root.get("width", 0)) > 0 and root.get("viewBox", "").startswith("0 0 ")


def test_stages_are_columns_left_to_right_joined_by_arrows() -> None:
    root = parse(orchestration_svg(CASE_ESCALATION, FLOWS))
    xs = [float(g.find(f"{SVG}rect").get("x", 0)) for g in groups(root, "data-stage")]  # type: ignore[union-attr]
    assert xs == sorted(xs) and xs[0] < xs[1]
    arrows = [line for line in root.iter(f"{SVG}line") if line.get("class") == "sfd-arrow"]
    assert len(arrows) == 2  # start → triage → fix
    assert all(line.get("marker-end") == "url(#sfd-arrowhead)" for line in arrows)
    five = OrchestrationSpec(
        name="o", stages=CASE_ESCALATION.stages * 2 + CASE_ESCALATION.stages[:1]
    )
    wide = parse(orchestration_svg(five, FLOWS))
    assert float(wide.get("width", 0)) > float(root.get("width", 0))  # the page scrolls it
    assert len([line for line in wide.iter(f"{SVG}line") if line.get("class") == "sfd-arrow"]) == 5


def test_a_step_shows_its_flow_type_assignee_and_conditions() -> None:
    root = parse(orchestration_svg(CASE_ESCALATION, FLOWS))
    mark = all_text(step_group(root, "mark"))
    assert "mark" in mark and "mark_working" in mark and "update_record" in mark
    assert "assignee" not in mark  # a background step
    triage = all_text(step_group(root, "triage"))
    assert "triage_form · form" in triage
    assert "assignee IF(Amount > 10000," in triage
    engineer = all_text(step_group(root, "engineer"))
    assert 'assignee "group:engineers"' in engineer
    assert "entry $Steps.triage.Status =" in engineer
    assert 'entry: $Steps.triage.Status = "Completed"' in tooltips(step_group(root, "engineer"))
    assert step_group(root, "triage").get("class") == "sfd-step sfd-interactive"
    assert step_group(root, "mark").get("class") == "sfd-step sfd-background"


def test_only_steps_with_an_sla_have_the_badge_with_its_terms() -> None:
    root = parse(orchestration_svg(CASE_ESCALATION, FLOWS))
    badges = {
        name: [g for g in step_group(root, name).iter(f"{SVG}g") if g.get("class") == "sfd-sla"]
        for name in ("mark", "triage", "engineer")
    }
    assert [len(found) for found in badges.values()] == [0, 1, 0]
    (badge,) = badges["triage"]
    assert all_text(badge) == "SLA"
    assert tooltips(badge) == ["SLA: due 4h, in the working hours of support_hours, 2 escalations"]


def test_a_stage_shows_its_entry_and_exit_and_is_dashed_when_it_may_be_skipped() -> None:
    root = parse(orchestration_svg(CASE_ESCALATION, FLOWS))
    triage, fix = groups(root, "data-stage")
    header = all_text(fix).split("engineer")[0]
    assert "fix" in header and "1 step" in header
    assert "entry $Steps.triage.severity =" in header
    assert 'exit ISPICKVAL(Status, "Closed")' in header
    assert "2 steps, in parallel" in all_text(triage)
    assert "stroke-dasharray" in fix.find(f"{SVG}rect").attrib  # type: ignore[union-attr]
    assert "stroke-dasharray" not in triage.find(f"{SVG}rect").attrib  # type: ignore[union-attr]


def test_the_start_box_says_what_starts_a_run() -> None:
    root = parse(orchestration_svg(CASE_ESCALATION, FLOWS))
    (start,) = [g for g in root.iter(f"{SVG}g") if g.get("class") == "sfd-start"]
    said = " ".join(all_text(start).split())
    assert said.startswith("Start a Case is created or updated")
    assert 'if ISPICKVAL(Priority, "High")' in said
    launched = OrchestrationSpec(name="o", stages=CASE_ESCALATION.stages, object="Case")
    assert "launched on a Case" in all_text(parse(orchestration_svg(launched, FLOWS)))


TRICKY = "a<b&c>\"'</text><script>alert(1)</script>"


def test_every_text_from_the_definition_is_escaped() -> None:
    spec = OrchestrationSpec(
        name="o",
        label=TRICKY,
        stages=(StageSpec(name="s&t", entry=f'"{TRICKY}" = ""', steps=(
            StepSpec(name="x<y", flow="f&g", assignee=f'"{TRICKY}"', label=TRICKY),
        )),),
    )  # fmt: skip
    svg = orchestration_svg(spec, {"f&g": FlowInfo("form<x>", True)})
    root = parse(svg)
    assert "<script" not in svg and "<b&c" not in svg
    assert not list(root.iter(f"{SVG}script"))
    assert [g.get("data-step") for g in groups(root, "data-step")] == ["x<y"]
    assert [g.get("data-stage") for g in groups(root, "data-stage")] == ["s&t"]
    drawn = all_text(root)
    assert "x<y" in drawn and "f&g · form<x>" in drawn
    assert f"x<y: {TRICKY}" in tooltips(root)  # the step's label, whole
    assert root.find(f"{SVG}title").text == f"Diagram of {TRICKY}"  # type: ignore[union-attr]


def test_characters_xml_cannot_hold_are_left_out() -> None:
    spec = OrchestrationSpec(name="o", stages=(
        StageSpec(name="s", steps=(StepSpec(name="a\x00b\x1bc", flow="f"),)),
    ))  # fmt: skip
    root = parse(orchestration_svg(spec, {}))
    assert [g.get("data-step") for g in groups(root, "data-step")] == ["abc"]


def test_long_texts_are_wrapped_then_cut_with_the_whole_text_as_tooltip() -> None:
    long_name = "review_" + "very_" * 30 + "long"
    formula = "AND(" + ", ".join(f"ISPICKVAL(Field{i}, 'x')" for i in range(20)) + ")"
    spec = OrchestrationSpec(name="o", stages=(StageSpec(name=long_name, steps=(
        StepSpec(name=long_name, flow="triage_form", assignee='"user:ann"', entry=formula),
    )),))  # fmt: skip
    root = parse(orchestration_svg(spec, FLOWS))
    step = step_group(root, long_name)
    lines = [("".join(t.itertext())) for t in step.iter(f"{SVG}text")]
    assert lines[0].startswith("review_very_") and lines[1].endswith("…")  # two lines, cut
    assert all(len(line) < 45 for line in lines)
    assert f"entry: {formula}" in tooltips(step)
    assert any(line.endswith("…") and "ISPICKVAL" in line for line in lines)
    stage = groups(root, "data-stage")[0]
    assert long_name in tooltips(stage)
    # Every box stays inside its column: the stage is as wide for long names as short.
    widths = {r.get("width") for g in groups(root, "data-stage") for r in g.iter(f"{SVG}rect")
              if r.get("rx") == "8"}  # fmt: skip
    assert widths == {"252"}


def test_a_flow_without_an_active_version_is_said_so() -> None:
    spec = OrchestrationSpec(name="o", stages=(StageSpec(name="s", steps=(
        StepSpec(name="asks", flow="gone", assignee='"user:ann"'),
        StepSpec(name="runs", flow="gone_too"),
    )),))  # fmt: skip
    root = parse(orchestration_svg(spec, {}))
    assert "gone · not deployed" in all_text(step_group(root, "asks"))
    # Without the flow, a step with an assignee is taken as a person's.
    assert step_group(root, "asks").get("class") == "sfd-step sfd-interactive"
    assert step_group(root, "runs").get("class") == "sfd-step sfd-background"


@pytest.mark.parametrize(
    ("text", "widths", "lines", "cut"),
    [
        ("short", [10], ["short"], False),
        ("two words here", [9, 9], ["two words", "here"], False),
        ("  spaced \n out  ", [20], ["spaced out"], False),
        ("abcdefghijkl", [5, 5], ["abcde", "fghi…"], True),
        ("tell_the_account", [10, 10], ["tell_the_", "account"], False),
        ("a.b(c,d)", [4, 4], ["a.b(", "c,d)"], False),
        ("one two three four", [8, 8], ["one two", "three f…"], True),
        ("", [5], [""], False),
    ],
)
def test_fit_wraps_at_spaces_and_cuts_the_last_line(
    text: str, widths: list[int], lines: list[str], cut: bool
) -> None:
    assert fit(text, widths) == (lines, cut)
