"""docs/formulas.md is generated from the registry and every documented example holds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from stageflow.grammar import FUNCTIONS, FormulaRuntimeError, compile_formula
from stageflow.grammar.docs import render
from stageflow.grammar.library.text import format_value

DOCS = Path(__file__).parents[1] / "docs" / "formulas.md"
DOCUMENTED = [f for f in FUNCTIONS if not f.unsupported]
#: The clock the reference's examples assume (said in the reference's introduction).
EXAMPLE_CLOCK = dt.datetime(2024, 3, 5, 14, 30, tzinfo=dt.UTC)


def test_reference_is_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == render(), (
        "docs/formulas.md is out of date: run `python -m stageflow.grammar.docs > docs/formulas.md`"
    )


@pytest.mark.parametrize("function", DOCUMENTED, ids=lambda f: f.name)
def test_function_is_documented(function) -> None:
    assert len(function.doc) > 20, f"{function.name} needs a description"
    assert function.examples, f"{function.name} needs examples"
    assert all(function.name in formula.upper() for formula, _ in function.examples)


EXAMPLES = [
    pytest.param(formula, result, id=f"{f.name}:{formula}")
    for f in DOCUMENTED
    for formula, result in f.examples
]


@pytest.mark.parametrize(("formula", "shown"), EXAMPLES)
def test_documented_example_holds(formula: str, shown: str) -> None:
    compiled = compile_formula(formula)
    if shown == "error":
        with pytest.raises(FormulaRuntimeError):
            compiled.evaluate({}, now=EXAMPLE_CLOCK)
    else:
        assert format_value(compiled.evaluate({}, now=EXAMPLE_CLOCK)) == shown


def test_every_category_is_rendered() -> None:
    text = render()
    for function in DOCUMENTED:
        assert f"### {function.name}\n" in text
