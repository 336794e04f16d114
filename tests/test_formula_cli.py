"""`stageflow formula check` and `stageflow formula eval`, with good and bad input."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from stageflow.cli import main


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, ["formula", *args])

    return invoke


def test_check_prints_type_and_fields(run) -> None:
    result = run("check", 'IF(Amount > 10000, "queue:tier2", "queue:tier1")',
                 "--schema", '{"Amount": "Number"}')  # fmt: skip
    assert result.exit_code == 0
    assert result.output.splitlines() == ["Text", "fields: Amount"]


def test_check_reports_errors_with_caret(run) -> None:
    result = run("check", 'IF("yes", 1, 2)')
    assert result.exit_code == 1
    assert "Incorrect parameter type for function 'IF()'. Expected Boolean, received Text" in (
        result.output
    )
    assert "     ^" in result.output


def test_check_expected_type(run) -> None:
    result = run("check", "1 + 1", "--expected", "Checkbox")
    assert result.exit_code == 1
    assert "incompatible with expected data type (Checkbox)" in result.output


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("ADDMONTHS(DATE(2024, 1, 31), 1)",), "2024-02-29"),
        (("Amount * 2", "--values", '{"Amount": 21}'), "42"),
        (("Amount * 2", "--values", '{"Amount": 0.5}'), "1"),
        (('"a" & BR()',), '"a<br>"'),
        (("d + 1", "--schema", '{"d": "Date"}', "--values", '{"d": "2024-02-28"}'), "2024-02-29"),
        (("TODAY()", "--now", "2026-03-05T23:30:00Z"), "2026-03-05"),
        (("ISCHANGED(S)", "--values", '{"S": "b"}', "--prior", '{"S": "a"}'), "TRUE"),
        (("NULL",), "blank"),
    ],
)
def test_eval_prints_value(run, args: tuple[str, ...], shown: str) -> None:
    result = run("eval", *args)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == shown


def test_eval_runtime_error(run) -> None:
    result = run("eval", "Amount / Qty", "--values", '{"Amount": 10, "Qty": 0}')
    assert result.exit_code == 1
    assert "Division by zero (line 1, column 8)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("eval", "x", "--values", "{bad"), "not valid JSON"),
        (("eval", "x", "--values", "[1, 2]"), "must be a JSON object"),
        (("check", "x", "--schema", '{"x": "Money"}'), "Unknown type 'Money'"),
        (("eval", "d", "--schema", '{"d": "Date"}', "--values", '{"d": "2024-13-01"}'),
         "'2024-13-01' is not a valid Date value"),
        (("eval", "NOW()", "--now", "yesterday"), "use ISO 8601"),
    ],
)  # fmt: skip
def test_bad_options_are_usage_errors(run, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
