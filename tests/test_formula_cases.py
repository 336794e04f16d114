"""The formula conformance corpus: every case in tests/formulas/*.yaml.

Each case gives a formula, optionally a schema, values, prior values and a clock, and
either the expected result (with its type) or the expected error (kind and message).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from stageflow.grammar import FormulaError, compile_formula
from stageflow.grammar import types as T

CASES_DIR = Path(__file__).parent / "formulas"
KEYS = {"formula", "schema", "values", "prior", "now", "result", "type", "error", "message",
        "line", "column", "expected", "tz"}  # fmt: skip


def load_cases() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        cases = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        for index, case in enumerate(cases, 1):
            case_id = f"{path.stem}-{index}:{case.get('formula', '?')[:60]}"
            params.append(pytest.param(case, id=case_id))
    return params


def convert(value: Any, type_: str) -> Any:
    """A YAML value as the language's Python value of ``type_``."""
    return T.coerce(value, type_)


def convert_values(values: dict | None, schema: dict | None) -> dict | None:
    if values is None:
        return None
    types = {name: T.type_name(t) for name, t in (schema or {}).items()}
    return {name: convert(v, types.get(name, T.ANY)) for name, v in values.items()}


@pytest.mark.parametrize("case", load_cases())
def test_case(case: dict) -> None:
    unknown = set(case) - KEYS
    assert not unknown, f"unknown keys in case: {unknown}"
    schema = case.get("schema")
    formula_text = case["formula"]
    if "error" in case:
        with pytest.raises(FormulaError) as caught:
            formula = compile_formula(formula_text, schema, expected=case.get("expected"))
            formula.evaluate(
                convert_values(case.get("values"), schema),
                convert_values(case.get("prior"), schema),
                now=T.parse_datetime(case["now"]) if "now" in case else None,
                tz=ZoneInfo(case["tz"]) if "tz" in case else None,
            )
        error = caught.value
        assert error.kind == case["error"], f"{error.kind}: {error}"
        if "message" in case:
            assert error.message == case["message"]
        for key in ("line", "column"):
            if key in case:
                assert getattr(error, key) == case[key], str(error)
        return
    formula = compile_formula(formula_text, schema, expected=case.get("expected"))
    if "type" in case:
        assert formula.type == case["type"]
    result = formula.evaluate(
        convert_values(case.get("values"), schema),
        convert_values(case.get("prior"), schema),
        now=T.parse_datetime(case["now"]) if "now" in case else None,
        tz=ZoneInfo(case["tz"]) if "tz" in case else None,
    )
    assert "result" in case, f"case needs 'result' or 'error'; got {result!r}"
    expected = convert(case["result"], formula.type if formula.type != T.ANY else T.type_of(result))
    assert result == expected and type(result) is type(expected), f"{result!r} != {expected!r}"
