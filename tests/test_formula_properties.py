"""Property tests: the compiler never crashes, well-typed formulas evaluate or fail cleanly."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stageflow.grammar import FormulaError, FormulaRuntimeError, compile_formula

TOKENS = [
    "(", ")", ",", "+", "-", "*", "/", "^", "&", "=", "==", "<>", "!=", "<", "<=", ">", ">=",
    "&&", "||", "!", "NOT", "TRUE", "false", "NULL", "1", "0", "2.5", "007", '"a"', "'b'",
    '""', "x", "n", "t", "d", "IF", "CASE", "AND", "OR", "LEFT", "TEXT", "DATE", "VALUE",
    "ISBLANK", "BLANKVALUE", "MID", "ROUND", "ADDMONTHS", "REGEX", "/*", "*/", " ", "\n",
    "$Steps.a.b", "Account.Name", ".", "\\", '"', "'",
]  # fmt: skip
SCHEMA = {"x": "Number", "n": "Number", "t": "Text", "d": "Date", "Account.Name": "Text"}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join))
def test_token_soup_compiles_or_raises_formula_error(source: str) -> None:
    for schema in (None, SCHEMA):
        with contextlib.suppress(FormulaError):
            compile_formula(source, schema)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_compiles_or_raises_formula_error(source: str) -> None:
    with contextlib.suppress(FormulaError):
        compile_formula(source)


# -- well-typed formulas -------------------------------------------------------------------

numbers = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12),
                      max_value=10**12, places=3)  # fmt: skip
texts = st.text(alphabet="abcXYZ 019-;€", max_size=8)
dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))


def number_literal(d: Decimal) -> str:
    text = format(abs(d), "f")
    return f"-{text}" if d < 0 else text


def text_literal(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


@functools.cache
def leaves(kind: str) -> st.SearchStrategy[str]:
    if kind == "Number":
        return st.one_of(st.sampled_from(["n", "x", "NULL"]), numbers.map(number_literal))
    if kind == "Text":
        return st.one_of(st.sampled_from(["t", "NULL"]), texts.map(text_literal))
    if kind == "Date":
        return st.one_of(st.just("d"), dates.map(lambda v: f"DATE({v.year}, {v.month}, {v.day})"))
    return st.sampled_from(["TRUE", "FALSE", "NULL", "b"])


@functools.cache  # strategies are built once, not per example
def expressions(kind: str, depth: int = 3) -> st.SearchStrategy[str]:
    if depth == 0:
        return leaves(kind)
    sub = lambda k: expressions(k, depth - 1)  # noqa: E731
    options = [leaves(kind)]
    if kind == "Number":
        options += [
            st.tuples(sub("Number"), st.sampled_from("+-*/^"), sub("Number")).map(
                lambda p: f"({p[0]} {p[1]} {p[2]})"
            ),
            st.tuples(sub("Number"), sub("Number")).map(lambda p: f"MOD({p[0]}, {p[1]})"),
            st.tuples(sub("Number"), sub("Number")).map(lambda p: f"ROUND({p[0]}, {p[1]})"),
            st.tuples(sub("Text")).map(lambda p: f"LEN({p[0]})"),
            st.tuples(sub("Date"), sub("Date")).map(lambda p: f"({p[0]} - {p[1]})"),
            st.tuples(sub("Text")).map(lambda p: f"VALUE({p[0]})"),
            st.tuples(sub("Number")).map(lambda p: f"SQRT({p[0]})"),
        ]
    elif kind == "Text":
        options += [
            st.tuples(sub("Text"), sub("Text")).map(lambda p: f"({p[0]} & {p[1]})"),
            st.tuples(sub("Text"), sub("Number")).map(lambda p: f"LEFT({p[0]}, {p[1]})"),
            st.tuples(sub("Text"), sub("Number"), sub("Text")).map(
                lambda p: f"LPAD({p[0]}, MOD({p[1]}, 50), {p[2]})"
            ),
            st.tuples(sub("Number")).map(lambda p: f"TEXT({p[0]})"),
            st.tuples(sub("Date")).map(lambda p: f"TEXT({p[0]})"),
            st.tuples(sub("Text"), sub("Text"), sub("Text")).map(
                lambda p: f"SUBSTITUTE({p[0]}, {p[1]}, {p[2]})"
            ),
            st.tuples(sub("Checkbox"), sub("Text"), sub("Text")).map(
                lambda p: f"IF({p[0]}, {p[1]}, {p[2]})"
            ),
        ]
    elif kind == "Date":
        options += [
            st.tuples(sub("Date"), sub("Number")).map(lambda p: f"({p[0]} + {p[1]})"),
            st.tuples(sub("Date"), sub("Number")).map(lambda p: f"ADDMONTHS({p[0]}, {p[1]})"),
            st.tuples(sub("Text")).map(lambda p: f"DATEVALUE({p[0]})"),
        ]
    else:
        options += [
            st.tuples(sub("Number"), st.sampled_from(["<", "<=", "=", "<>"]), sub("Number")).map(
                lambda p: f"({p[0]} {p[1]} {p[2]})"
            ),
            st.tuples(sub("Text"), sub("Text")).map(lambda p: f"CONTAINS({p[0]}, {p[1]})"),
            st.tuples(sub("Checkbox"), sub("Checkbox")).map(lambda p: f"AND({p[0]}, {p[1]})"),
            st.tuples(sub("Checkbox"), sub("Checkbox")).map(lambda p: f"({p[0]} || {p[1]})"),
            st.tuples(sub("Checkbox")).map(lambda p: f"NOT({p[0]})"),
            st.tuples(sub("Text")).map(lambda p: f"ISBLANK({p[0]})"),
        ]
    return st.one_of(options)


TYPED_SCHEMA = {"n": "Number", "x": "Number", "t": "Text", "d": "Date", "b": "Checkbox"}
values = st.fixed_dictionaries(
    {
        "n": st.one_of(st.none(), numbers),
        "x": st.one_of(st.none(), numbers),
        "t": st.one_of(st.none(), texts),
        "d": st.one_of(st.none(), dates),
        "b": st.one_of(st.none(), st.booleans()),
    }
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["Number", "Text", "Date", "Checkbox"]).flatmap(expressions), values)
def test_well_typed_formulas_evaluate_or_raise_runtime_errors(source: str, row: dict) -> None:
    formula = compile_formula(source, TYPED_SCHEMA)
    try:
        result = formula.evaluate(row, now=dt.datetime(2024, 3, 5, tzinfo=dt.UTC))
    except FormulaRuntimeError:
        return
    assert result is None or isinstance(result, (Decimal, str, bool, dt.date))
    assert result != ""
