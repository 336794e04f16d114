"""An orchestration as a picture: an SVG of its stages and steps, drawn on the server.

Stages are columns from left to right, in the order they run, joined by arrows; the
steps of a stage (which run in parallel) are boxes stacked inside its column.  A step's
box shows its name, its flow and the flow's step type, the assignee formula of an
interactive step, its entry and exit conditions, and an *SLA* badge when it has one.
A stage shows its own entry and exit; a stage with an entry condition (it may be
skipped) has a dashed border.  A box on the left says what starts a run.

The SVG is plain text built here: no JavaScript, no library, nothing fetched.  Every
text from a definition is escaped, and long texts are wrapped or cut with ``…``, the
whole text then being the element's tooltip (an SVG ``<title>``).  Text widths are
estimated from a character count (the server has no fonts to measure with), with
room to spare.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..definitions.spec import OrchestrationSpec, StageSpec, StepSpec, TriggerSpec

# -- sizes, in pixels ------------------------------------------------------------------

MARGIN = 16
GAP = 44  # between columns, where the arrows are
START_WIDTH = 184
STAGE_WIDTH = 252
STAGE_PADDING = 12
STEP_WIDTH = STAGE_WIDTH - 2 * STAGE_PADDING
STEP_PADDING = 10
STEP_GAP = 10
LINE = 16  # the height of a line of text
LEGEND_HEIGHT = 30
SLA_BADGE = (30, 15)

#: Estimated width of a character, by kind of text (a little more than the average,
#: so that estimated lines are rarely wider than drawn ones).
CHAR_WIDTH = {"title": 7.6, "text": 6.5, "code": 6.7, "key": 6.2}

#: At most this many lines for a name, and for a formula.
NAME_LINES = 2
FORMULA_LINES = 2

#: Where a long word (``notify_the_account_manager``) may be broken, after the mark.
WORD_BREAKS = "_.,(-"

#: Characters XML 1.0 cannot hold at all (a YAML string may).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

STYLE = """
.sfd text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  font-size: 12px; fill: #1f2328; }
.sfd .sfd-title { font-size: 13px; font-weight: 600; }
.sfd .sfd-code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 11px; }
.sfd .sfd-key { fill: #59636e; font-size: 11px; }
.sfd .sfd-muted { fill: #59636e; }
.sfd .sfd-badge-text { font-size: 10px; font-weight: 700; fill: #9a4d00; }
.sfd .sfd-index { font-size: 11px; font-weight: 700; fill: #ffffff; }
"""


@dataclass(frozen=True)
class FlowInfo:
    """What the diagram says about a flow: its step type, and whether a person does it."""

    type: str
    interactive: bool


@dataclass(frozen=True)
class Line:
    """A line of text in a box: an optional ``key`` (``entry``) before the ``text``;
    ``kind`` is a :data:`CHAR_WIDTH` key."""

    text: str
    kind: str = "text"
    key: str = ""


@dataclass(frozen=True)
class Block:
    """Lines that belong together, and their tooltip ('' for none)."""

    lines: tuple[Line, ...]
    tooltip: str = ""

    @property
    def height(self) -> int:
        return LINE * len(self.lines)


# -- text ------------------------------------------------------------------------------


def clean(text: str) -> str:
    """``text`` without the characters XML cannot hold."""
    return NOT_XML.sub("", text)


def escape_text(text: str) -> str:
    """``text`` as XML character data."""
    return html.escape(clean(text), quote=False)


def escape_attribute(value: object) -> str:
    """``value`` as the text of a double-quoted XML attribute."""
    return html.escape(clean(str(value)), quote=True)


def fit(text: str, widths: Sequence[int]) -> tuple[list[str], bool]:
    """``text`` word-wrapped into at most ``len(widths)`` lines, line ``i`` at most
    ``widths[i]`` characters; the last line is cut with ``…`` when it all does not fit.
    Returns the lines and whether anything was cut.  Runs of white space become one."""
    rest = " ".join(text.split())
    lines: list[str] = []
    for number, width in enumerate(widths, start=1):
        if len(rest) <= width:
            lines.append(rest)
            return lines, False
        if number == len(widths):
            lines.append(rest[: max(width - 1, 0)].rstrip() + "…")
            return lines, True
        cut = rest.rfind(" ", 0, width + 1)
        if cut <= 0:  # one long word: break it after a mark in it, or anywhere
            cut = max(rest.rfind(mark, 0, width) for mark in WORD_BREAKS) + 1 or width
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return lines, bool(rest)


def chars(width: float, kind: str) -> int:
    """How many characters of a kind fit in ``width`` pixels."""
    return max(int(width // CHAR_WIDTH[kind]), 1)


def block(text: str, width: float, *, kind: str = "text", key: str = "",
          max_lines: int = 1, tooltip: str = "") -> Block:  # fmt: skip
    """``text`` (after ``key``) fitted into ``width`` pixels and ``max_lines`` lines; the
    whole text becomes the tooltip when it was cut (or ``tooltip`` is given)."""
    key_width = (len(key) + 1) * CHAR_WIDTH["key"] if key else 0.0
    widths = [chars(width - key_width, kind)] + [chars(width - key_width, kind)] * (max_lines - 1)
    lines, cut = fit(text, widths)
    shown = tuple(Line(line, kind, key if i == 0 else "") for i, line in enumerate(lines))
    whole = f"{key}: {text}" if key else text
    return Block(shown, tooltip or (whole if cut else ""))


def formula_block(key: str, formula: str | None, width: float) -> list[Block]:
    """A formula after its name (``entry``), or nothing when there is none."""
    if formula is None or not str(formula).strip():
        return []
    text = str(formula)
    return [block(text, width, kind="code", key=key, max_lines=FORMULA_LINES,
                  tooltip=f"{key}: {text}")]  # fmt: skip


# -- what each box says ----------------------------------------------------------------


def trigger_blocks(trigger: TriggerSpec, object_name: str | None) -> list[Block]:
    """What starts a run, for the start box."""
    width = START_WIDTH - 2 * STEP_PADDING
    if trigger.type == "record":
        when = trigger.when.replace("_", " ")
        what = f"a {trigger.object or object_name or 'record'} is {when}"
        if trigger.only_when_changed:
            what += " (the condition just became true)"
        return [block(what, width, max_lines=4), *formula_block("if", trigger.condition, width)]
    on = f" on a {object_name}" if object_name else ""
    return [block(f"launched{on}: by a person, a program or another run", width, max_lines=3)]


def step_blocks(step: StepSpec, flow: FlowInfo | None, interactive: bool) -> list[Block]:
    """The lines of a step's box: name, flow and type, assignee, entry, exit."""
    width = STEP_WIDTH - 2 * STEP_PADDING - 6  # the accent bar on the left
    tooltip = f"{step.name}: {step.label}" if step.label else ""
    name = block(step.name, width - SLA_BADGE[0] - 4, kind="title", max_lines=NAME_LINES,
                 tooltip=tooltip)  # fmt: skip
    kind = "person" if interactive else "background"
    if flow is None:
        flow_line = block(f"{step.flow} · not deployed", width, key="flow", max_lines=2,
                          tooltip=f"flow: {step.flow}, which has no active version")  # fmt: skip
    else:
        flow_line = block(f"{step.flow} · {flow.type}", width, key="flow", max_lines=2,
                          tooltip=f"flow: {step.flow} (step type {flow.type}, {kind})")  # fmt: skip
    blocks = [name, flow_line]
    if interactive:
        blocks += formula_block("assignee", step.assignee, width)
    blocks += formula_block("entry", step.entry, width)
    blocks += formula_block("exit", step.exit, width)
    return blocks


def stage_blocks(stage: StageSpec) -> list[Block]:
    """The lines at the top of a stage's column: name, how its steps run, entry, exit."""
    width = STAGE_WIDTH - 2 * STAGE_PADDING
    tooltip = f"{stage.name}: {stage.label}" if stage.label else ""
    steps = len(stage.steps)
    how = f"{steps} step{'' if steps == 1 else 's'}" + (", in parallel" if steps > 1 else "")
    return [
        block(stage.name, width - 26, kind="title", max_lines=NAME_LINES, tooltip=tooltip),
        block(how, width),
        *formula_block("entry", stage.entry, width),
        *formula_block("exit", stage.exit, width),
    ]


def sla_summary(sla: Mapping[str, Any] | Any) -> str:
    """A step's ``sla`` in words, for the badge's tooltip."""
    if not isinstance(sla, Mapping):
        return f"SLA: {sla}"
    parts = [f"due {sla.get('due')}"] if sla.get("due") else []
    if sla.get("calendar"):
        parts.append(f"in the working hours of {sla['calendar']}")
    if sla.get("warn"):
        parts.append(f"warning {sla['warn']} before")
    rungs = len(sla.get("escalations") or [])
    if rungs:
        parts.append(f"{rungs} escalation{'' if rungs == 1 else 's'}")
    return "SLA: " + (", ".join(parts) or "set")


# -- drawing ---------------------------------------------------------------------------


def draw_blocks(blocks: Iterable[Block], x: float, y: float) -> tuple[list[str], float]:
    """SVG text elements for ``blocks`` from ``(x, y)`` (the top of the first line);
    returns them and the y below the last line."""
    out: list[str] = []
    for item in blocks:
        # The lines after a keyed first line (``entry …``) start under its text.
        key = item.lines[0].key if item.lines else ""
        indent = (len(key) + 1) * CHAR_WIDTH["key"] if key else 0.0
        texts = []
        for line in item.lines:
            y += LINE
            texts.append(draw_line(line, x if line.key or not key else x + indent, y - 4))
        if item.tooltip:
            out.append(f"<g><title>{escape_text(item.tooltip)}</title>{''.join(texts)}</g>")
        else:
            out.extend(texts)
    return out, y


def draw_line(line: Line, x: float, baseline: float) -> str:
    """One ``<text>``: the key (muted), then the text styled by its kind."""
    key = f'<tspan class="sfd-key">{escape_text(line.key)} </tspan>' if line.key else ""
    css = {"title": "sfd-title", "code": "sfd-code"}.get(line.kind)
    body = escape_text(line.text)
    if css:
        body = f'<tspan class="{css}">{body}</tspan>'
    return f'<text x="{x:.0f}" y="{baseline:.0f}">{key}{body}</text>'


def height_of(blocks: Iterable[Block]) -> int:
    return sum(item.height for item in blocks)


@dataclass(frozen=True)
class StepBox:
    """A step ready to draw: its lines, and whether a person does it."""

    step: StepSpec
    blocks: list[Block]
    interactive: bool

    @property
    def height(self) -> int:
        return height_of(self.blocks) + 2 * STEP_PADDING - 2


def step_box(step: StepSpec, flows: Mapping[str, FlowInfo]) -> StepBox:
    """A step's box; a step whose flow is unknown counts as interactive if it has an
    assignee."""
    flow = flows.get(step.flow)
    interactive = flow.interactive if flow is not None else step.assignee is not None
    return StepBox(step, step_blocks(step, flow, interactive), interactive)


def draw_step(box: StepBox, x: float, y: float) -> list[str]:
    """A step's box at ``(x, y)``."""
    fill, accent = ("#e8f1fb", "#0b5cad") if box.interactive else ("#ffffff", "#8c959f")
    kind = "interactive" if box.interactive else "background"
    out = [
        f'<g class="sfd-step sfd-{kind}" data-step="{escape_attribute(box.step.name)}">',
        f'<rect x="{x}" y="{y}" width="{STEP_WIDTH}" height="{box.height}" rx="5" '
        f'fill="{fill}" stroke="#d1d9e0"/>',
        f'<rect x="{x}" y="{y}" width="5" height="{box.height}" rx="2" fill="{accent}"/>',
    ]
    texts, _ = draw_blocks(box.blocks, x + STEP_PADDING + 4, y + STEP_PADDING - 2)
    out += texts
    if box.step.sla:
        bx, by = x + STEP_WIDTH - SLA_BADGE[0] - 6, y + 6
        out.append(
            f'<g class="sfd-sla"><title>{escape_text(sla_summary(box.step.sla))}</title>'
            f'<rect x="{bx}" y="{by}" width="{SLA_BADGE[0]}" height="{SLA_BADGE[1]}" rx="7" '
            f'fill="#fff4e5" stroke="#9a4d00"/>'
            f'<text x="{bx + SLA_BADGE[0] / 2:.0f}" y="{by + 11}" text-anchor="middle" '
            f'class="sfd-badge-text">SLA</text></g>'
        )
    out.append("</g>")
    return out


@dataclass(frozen=True)
class Column:
    """A stage ready to draw: its header lines and its steps' boxes."""

    stage: StageSpec
    number: int
    header: list[Block]
    steps: list[StepBox]

    @property
    def height(self) -> int:
        steps = sum(box.height for box in self.steps) + STEP_GAP * max(len(self.steps) - 1, 0)
        return STAGE_PADDING + height_of(self.header) + STAGE_PADDING + steps + STAGE_PADDING


def draw_stage(column: Column, x: float, y: float, height: float) -> list[str]:
    """A stage's column at ``(x, y)``, ``height`` tall, with its steps."""
    dashed = ' stroke-dasharray="6 4"' if column.stage.entry else ""
    out = [
        f'<g class="sfd-stage" data-stage="{escape_attribute(column.stage.name)}">',
        f'<rect x="{x}" y="{y}" width="{STAGE_WIDTH}" height="{height}" rx="8" '
        f'fill="#f6f8fa" stroke="#8c959f"{dashed}/>',
        f'<circle cx="{x + STAGE_WIDTH - STAGE_PADDING - 9}" cy="{y + STAGE_PADDING + 9}" r="9" '
        f'fill="#24292f"/>',
        f'<text x="{x + STAGE_WIDTH - STAGE_PADDING - 9}" y="{y + STAGE_PADDING + 13}" '
        f'text-anchor="middle" class="sfd-index">{column.number}</text>',
    ]
    texts, bottom = draw_blocks(column.header, x + STAGE_PADDING, y + STAGE_PADDING - 2)
    out += texts
    rule = bottom + STAGE_PADDING / 2
    out.append(f'<line x1="{x}" y1="{rule}" x2="{x + STAGE_WIDTH}" y2="{rule}" stroke="#d1d9e0"/>')
    top = y + STAGE_PADDING + height_of(column.header) + STAGE_PADDING
    for box in column.steps:
        out += draw_step(box, x + STAGE_PADDING, top)
        top += box.height + STEP_GAP
    out.append("</g>")
    return out


def arrow(x1: float, x2: float, y: float) -> str:
    """An arrow from ``x1`` to ``x2`` at height ``y``."""
    return (f'<line class="sfd-arrow" x1="{x1}" y1="{y}" x2="{x2 - 2}" y2="{y}" stroke="#57606a" '
            f'stroke-width="2" marker-end="url(#sfd-arrowhead)"/>')  # fmt: skip


#: The legend's entries: a swatch (a ``<rect>``'s attributes) and what it means.
LEGEND = (
    ('fill="#e8f1fb" stroke="#0b5cad"', "a person does it (interactive)"),
    ('fill="#ffffff" stroke="#8c959f"', "runs by itself (background)"),
    ('fill="#fff4e5" stroke="#9a4d00"', "SLA: due time and escalations"),
    ('fill="none" stroke="#8c959f" stroke-dasharray="4 3"',
     "stage with an entry condition (may be skipped)"),
)  # fmt: skip


def legend_entry_width(words: str) -> float:
    """How wide a legend entry is drawn: swatch, words, space after."""
    return 20 + len(words) * CHAR_WIDTH["text"] + 18


def legend(y: float) -> list[str]:
    """What the colours, the badge and the dashes mean."""
    x: float = MARGIN
    out = ['<g class="sfd-legend">']
    for swatch, words in LEGEND:
        out.append(f'<rect x="{x:.0f}" y="{y}" width="14" height="14" rx="3" {swatch}/>')
        out.append(
            f'<text x="{x + 20:.0f}" y="{y + 11}" class="sfd-muted">{escape_text(words)}</text>'
        )
        x += legend_entry_width(words)
    out.append("</g>")
    return out


def orchestration_svg(spec: OrchestrationSpec, flows: Mapping[str, FlowInfo]) -> str:
    """The diagram of an orchestration version as SVG text (an ``<svg>`` element that
    stands alone or inside an HTML page).

    ``flows`` describes the flows the steps call, by name (those missing are shown as
    not deployed).
    """
    columns = [
        Column(stage, number, stage_blocks(stage), [step_box(step, flows) for step in stage.steps])
        for number, stage in enumerate(spec.stages, start=1)
    ]
    start = trigger_blocks(spec.trigger, spec.object)
    start_height = height_of(start) + LINE + 2 * STEP_PADDING
    body = max([start_height, *(column.height for column in columns)])
    stages_width = len(columns) * STAGE_WIDTH + len(columns) * GAP
    legend_width = sum(legend_entry_width(words) for _, words in LEGEND)
    width = max(MARGIN + START_WIDTH + stages_width + MARGIN, 2 * MARGIN + legend_width)
    height = MARGIN + body + MARGIN + LEGEND_HEIGHT
    middle = MARGIN + body / 2
    title = spec.label or spec.name
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sfd" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'aria-labelledby="sfd-title sfd-desc">',
        f'<title id="sfd-title">{escape_text(f"Diagram of {title}")}</title>',
        f'<desc id="sfd-desc">{escape_text(describe(spec))}</desc>',
        f"<style>{STYLE}</style>",
        '<defs><marker id="sfd-arrowhead" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>',
    ]
    out += draw_start(start, MARGIN, middle - start_height / 2, start_height)
    x = MARGIN + START_WIDTH
    for column in columns:
        out.append(arrow(x, x + GAP, middle))
        out += draw_stage(column, x + GAP, MARGIN, body)
        x += GAP + STAGE_WIDTH
    if not columns:
        out.append(f'<text x="{x + GAP}" y="{middle}" class="sfd-muted">No stages.</text>')
    out += legend(MARGIN + body + MARGIN)
    out.append("</svg>")
    return "\n".join(out)


def draw_start(blocks: list[Block], x: float, y: float, height: float) -> list[str]:
    """The box on the left that says what starts a run."""
    out = [
        '<g class="sfd-start">',
        f'<rect x="{x}" y="{y}" width="{START_WIDTH}" height="{height}" rx="{min(height / 2, 18)}" '
        f'fill="#e6f4ea" stroke="#1a7f37"/>',
    ]
    texts, _ = draw_blocks([block("Start", START_WIDTH, kind="title"), *blocks],
                           x + STEP_PADDING, y + STEP_PADDING - 2)  # fmt: skip
    out += texts
    out.append("</g>")
    return out


def describe(spec: OrchestrationSpec) -> str:
    """The diagram in words (its ``<desc>``, for screen readers)."""
    stages = "; ".join(
        f"stage {number} {stage.name}: " + ", ".join(step.name for step in stage.steps)
        for number, stage in enumerate(spec.stages, start=1)
    )
    return f"{len(spec.stages)} stages in sequence, each with steps that run in parallel. {stages}"
