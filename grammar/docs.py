"""The formula reference, generated from the function registry.

``python -m stageflow.grammar.docs > docs/formulas.md`` rewrites the reference; a test
compares the file with :func:`render` so the documentation cannot drift from the code.
"""

from __future__ import annotations

from importlib import resources

from .functions import FUNCTIONS, Function, FunctionRegistry

#: The order of the sections; other categories (plugins') follow alphabetically.
CATEGORIES = ("Logical", "Record change", "Text", "Math", "Location", "Date and time")


def _anchor(name: str) -> str:
    return name.lower()


def _entry(function: Function) -> list[str]:
    lines = [f"### {function.name}", ""]
    lines += [f"`{text}`  " for text in function.describe_signatures()]
    lines[-1] = lines[-1].rstrip()
    lines += ["", function.doc or "(no description)"]
    if function.examples:
        lines += ["", "| formula | result |", "|---|---|"]
        for formula, result in function.examples:
            cell = formula.replace("|", "\\|")
            lines.append(f"| `{cell}` | `{result.replace('|', chr(92) + '|')}` |")
    lines.append("")
    return lines


def render(registry: FunctionRegistry = FUNCTIONS) -> str:
    """The whole reference as Markdown: the language, then every function by category."""
    intro = resources.files(__package__).joinpath("reference_intro.md").read_text("utf-8")
    usable = [f for f in registry if not f.unsupported]
    present = {f.category for f in usable}
    order = [c for c in CATEGORIES if c in present] + sorted(present - set(CATEGORIES))
    lines = [intro.rstrip(), ""]
    for category in order:
        names = [f"[{f.name}](#{_anchor(f.name)})" for f in usable if f.category == category]
        lines.append(f"- **{category}**: {', '.join(names)}")
    refused = [f.name for f in registry if f.unsupported]
    if refused:
        lines.append(f"- **Not available** (refused when used): {', '.join(refused)}")
    lines.append("")
    for category in order:
        lines += [f"## {category}", ""]
        for function in usable:
            if function.category == category:
                lines += _entry(function)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    from . import library  # noqa: F401  (registers the built-ins)

    print(render(), end="")
