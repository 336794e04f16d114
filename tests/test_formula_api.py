"""The Python API of stageflow.grammar: compile, evaluate, errors, limits, extension."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest

from stageflow.grammar import (
    FUNCTIONS,
    FormulaError,
    FormulaRuntimeError,
    FormulaSyntaxError,
    FormulaTypeError,
    FunctionRegistry,
    Limits,
    compile_formula,
    register_function,
)


def test_design_example() -> None:
    f = compile_formula('IF(Amount > 100, "big", "small")', schema={"Amount": "Number"})
    assert f.type == "Text"
    assert f.evaluate({"Amount": Decimal("150")}) == "big"
    assert f.evaluate({"Amount": 5}) == "small"  # ints are taken as Numbers
    assert f.fields == ("Amount",)


def test_compile_is_cached_by_source_and_schema() -> None:
    a = compile_formula("Amount + 1", {"Amount": "Number"})
    assert compile_formula("Amount + 1", {"Amount": "Number"}) is a
    assert compile_formula("Amount + 1", {"Amount": "Currency"}) is not a
    assert compile_formula("Amount + 1") is not a


def test_values_through_nested_mappings_and_resolvers() -> None:
    f = compile_formula('Account.Owner.Name & "!"', {"Account.Owner.Name": "Text"})
    assert f.evaluate({"Account": {"Owner": {"Name": "Ana"}}}) == "Ana!"
    assert f.evaluate({"Account.Owner.Name": "Bo"}) == "Bo!"
    assert f.evaluate({"Account": None}) == "!"

    class Record:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def resolve(self, path: str) -> str:
            self.asked.append(path)
            return "Cy"

    record = Record()
    assert f.evaluate(record) == "Cy!"
    assert record.asked == ["Account.Owner.Name"]
    # a resolver met half-way down a path gets the rest of the path
    assert f.evaluate({"Account": record}) == "Cy!"
    assert record.asked[-1] == "Owner.Name"


def test_lookups_are_lazy() -> None:
    class Exploding:
        def resolve(self, path: str) -> None:
            raise AssertionError(f"{path} should not be read")

    f = compile_formula("AND(FALSE, Account.Name = 'x')")
    assert f.evaluate({"Account": Exploding()}) is False


def test_condition_helper_treats_blank_as_false() -> None:
    f = compile_formula("Amount > 5", {"Amount": "Number"}, expected="Checkbox")
    assert f.test({"Amount": 6}) is True
    assert f.test({"Amount": None}) is False
    assert f.evaluate({"Amount": None}) is None


def test_expected_type_is_checked() -> None:
    with pytest.raises(FormulaTypeError) as caught:
        compile_formula('"yes"', expected="Checkbox")
    assert caught.value.message == (
        "Formula result is data type (Text), incompatible with expected data type (Checkbox)."
    )
    assert compile_formula("1 + 1", expected="Currency").type == "Number"


def test_error_has_position_and_caret() -> None:
    with pytest.raises(FormulaTypeError) as caught:
        compile_formula('IF(TRUE,\n   1,\n   "a")')
    error = caught.value
    assert (error.line, error.column) == (3, 4)
    assert str(error).splitlines() == [
        "Incorrect parameter type for function 'IF()'. Expected Number, received Text"
        " (line 3, column 4)",
        '     "a")',
        "     ^",
    ]
    assert error.to_dict() == {"kind": "type", "message": error.message, "line": 3, "column": 4}


def test_runtime_error_points_at_the_failing_operation() -> None:
    f = compile_formula("1/Amount + 10/0", {"Amount": "Number"})
    with pytest.raises(FormulaRuntimeError) as caught:
        f.evaluate({"Amount": 0})
    assert (caught.value.line, caught.value.column) == (1, 2)
    with pytest.raises(FormulaRuntimeError) as caught:
        f.evaluate({"Amount": 1})
    assert (caught.value.line, caught.value.column) == (1, 14)


def test_run_time_type_errors_without_schema() -> None:
    f = compile_formula("x + 1")
    assert f.type == "Any"
    assert f.evaluate({"x": 2}) == Decimal(3)
    assert f.evaluate({"x": dt.date(2024, 1, 1)}) == dt.date(2024, 1, 2)
    with pytest.raises(FormulaRuntimeError, match=r"operator '\+'"):
        f.evaluate({"x": True})


def test_inputs_are_normalised() -> None:
    f = compile_formula("x")
    assert f.evaluate({"x": 1.5}) == Decimal("1.5")
    assert f.evaluate({"x": ""}) is None
    naive = dt.datetime(2024, 3, 5, 12, 0)
    assert f.evaluate({"x": naive}) == naive.replace(tzinfo=dt.UTC)
    berlin = dt.timezone(dt.timedelta(hours=1))
    assert f.evaluate({"x": dt.datetime(2024, 3, 5, 13, 0, tzinfo=berlin)}).hour == 12


def test_clock_is_captured_once_and_injectable() -> None:
    f = compile_formula("NOW() - NOW()")
    assert f.evaluate() == 0
    at = dt.datetime(2024, 3, 5, 23, 30, tzinfo=dt.UTC)
    assert compile_formula("TODAY()").evaluate(now=at) == dt.date(2024, 3, 5)
    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert compile_formula("TODAY()").evaluate(now=at, tz=tokyo) == dt.date(2024, 3, 6)


def test_prior_values_drive_change_functions() -> None:
    f = compile_formula("ISCHANGED(Status) && PRIORVALUE(Status) = 'New'", {"Status": "Picklist"})
    assert f.evaluate({"Status": "Working"}, prior={"Status": "New"}) is True
    assert f.evaluate({"Status": "New"}, prior={"Status": "New"}) is False
    assert f.evaluate({"Status": "Working"}) is False  # new record: nothing changed
    assert compile_formula("ISNEW()").evaluate({}, prior={}) is False


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "1" + " + 1" * 1000,
            "Formula is too long (4,001 characters). Maximum length is 3,900 characters",
        ),
        ("-" * 150 + "1", "Formula is nested too deeply (151 levels). Maximum depth is 100 levels"),
        ("(" * 150 + "1" + ")" * 150, None),  # parentheses alone do not nest the tree
    ],
)
def test_source_limits(source: str, message: str | None) -> None:
    if message is None:
        assert compile_formula(source).evaluate() == 1
        return
    with pytest.raises(FormulaSyntaxError) as caught:
        compile_formula(source)
    assert caught.value.message == message


def test_limits_are_configurable() -> None:
    roomy = Limits(max_length=10_000, max_depth=400)
    assert compile_formula("1" + " + 1" * 1500, limits=roomy).evaluate() == 1501
    with pytest.raises(FormulaSyntaxError):
        compile_formula("1 + 1", limits=Limits(max_length=3))


def test_long_chains_compile_without_recursion_trouble() -> None:
    source = " & ".join(f'"{i}"' for i in range(95))
    assert compile_formula(source, limits=Limits(max_depth=200)).evaluate().startswith("0123")
    deep_if = "IF(TRUE, " * 90 + "1" + ", 0)" * 90
    assert compile_formula(deep_if).evaluate() == 1


def test_text_length_limit() -> None:
    f = compile_formula("LPAD('x', n, 'ab')", {"n": "Number"}, limits=Limits(max_text=1000))
    assert len(f.evaluate({"n": 1000})) == 1000
    with pytest.raises(FormulaRuntimeError, match="too long"):
        f.evaluate({"n": 1001})
    g = compile_formula("t & t", {"t": "Text"}, limits=Limits(max_text=10))
    with pytest.raises(FormulaRuntimeError, match="too long"):
        g.evaluate({"t": "abcdef"})


def test_hostile_regex_times_out() -> None:
    f = compile_formula("REGEX(t, '(a|aa)+b')", {"t": "Text"}, limits=Limits(regex_timeout=0.05))
    with pytest.raises(FormulaRuntimeError, match="Regular expression runtime exceeded"):
        f.evaluate({"t": "a" * 60 + "c"})


def test_generated_code_never_contains_formula_text() -> None:
    f = compile_formula("IF(x = \"__import__('os').system('echo hi')\", 1, 2) + y")
    assert "__import__" not in f.python
    assert "os" not in f.python.replace("_FormulaError", "").replace("_lookup", "")
    assert f.evaluate({"x": "__import__('os').system('echo hi')", "y": 1}) == 2


def test_no_python_objects_reachable() -> None:
    for source in ("x.__class__", "__import__('os')", "x._secret"):
        with pytest.raises(FormulaError):
            compile_formula(source, {"x": "Text"}).evaluate({"x": "a"})


def test_plugin_function_is_type_checked() -> None:
    registry = FUNCTIONS.copy()

    def days_between(a: dt.date, b: dt.date) -> Decimal:
        """Whole days from `a` to `b`."""
        return Decimal((b - a).days)

    register_function("DAYSBETWEEN", "(Date, Date) -> Number", days_between, registry=registry)
    f = compile_formula("DAYSBETWEEN(DATE(2024,1,1), DATE(2024,3,1))", functions=registry)
    assert f.type == "Number" and f.evaluate() == 60
    with pytest.raises(FormulaTypeError) as caught:
        compile_formula("DAYSBETWEEN(1, DATE(2024,3,1))", functions=registry)
    assert caught.value.message == (
        "Incorrect parameter type for function 'DAYSBETWEEN()'. Expected Date, received Number"
    )
    assert "DAYSBETWEEN" not in FUNCTIONS
    with pytest.raises(FormulaTypeError, match="Unknown function DAYSBETWEEN"):
        compile_formula("DAYSBETWEEN(DATE(2024,1,1), DATE(2024,3,1))")
    with pytest.raises(ValueError, match="registered twice"):
        register_function("DAYSBETWEEN", "(Date) -> Number", days_between, registry=registry)


def test_plugin_function_failures_become_runtime_errors() -> None:
    registry = FunctionRegistry()

    def broken(x: Decimal) -> Decimal:
        raise ZeroDivisionError("boom")

    register_function("BROKEN", "(Number) -> Number", broken, registry=registry)
    with pytest.raises(FormulaRuntimeError, match="boom") as caught:
        compile_formula("1 + BROKEN(2)", functions=registry).evaluate()
    assert caught.value.column == 5


@pytest.mark.parametrize(
    ("signature", "problem"),
    [
        ("Text -> Text", "must look like"),
        ("(Text, ...) -> Nope", "Unknown type"),
        ("([Text], Number) -> Text", "required parameter follows an optional one"),
        ("(..., Text) -> Text", "needs a parameter before it"),
    ],
)
def test_bad_signatures_are_refused(signature: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        register_function("X", signature, lambda *a: None, registry=FunctionRegistry())


def test_evaluation_is_thread_safe() -> None:
    f = compile_formula("IF(n > 50, TEXT(n * 2), LPAD(TEXT(n), 4, '0'))", {"n": "Number"})
    failures: list[str] = []

    def work(offset: int) -> None:
        for i in range(offset, offset + 300):
            expected = str(i * 2) if i > 50 else str(i).rjust(4, "0")
            if f.evaluate({"n": i}) != expected:
                failures.append(f"{i}")

    threads = [threading.Thread(target=work, args=(k * 7,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
