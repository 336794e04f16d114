"""Record fields as form inputs and back (``stageflow.web.fields``), without a server."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from werkzeug.datastructures import MultiDict

from stageflow.definitions.spec import FieldSpec, ObjectSpec
from stageflow.web.fields import (
    changed_values,
    default_hint,
    display,
    filter_values,
    form_values,
    number_step,
    posted_values,
    record_values,
)

BERLIN = ZoneInfo("Europe/Berlin")
SPEC = ObjectSpec(
    "Thing",
    (
        FieldSpec("Name", "text"),
        FieldSpec("Size", "number", scale=2),
        FieldSpec("Done", "checkbox"),
        FieldSpec("Tags", "multipicklist", values=("a", "b", "c")),
        FieldSpec("At", "datetime"),
    ),
)


@pytest.mark.parametrize(("scale", "step"), [(None, "any"), (0, "1"), (1, "0.1"), (3, "0.001")])
def test_number_step_follows_the_scale(scale: int | None, step: str) -> None:
    assert number_step(FieldSpec("n", "number", scale=scale)) == step


@pytest.mark.parametrize(
    ("default", "hint"),
    [
        ('"Low"', "Left blank: Low"),
        ("'x'", "Left blank: x"),
        ("TODAY() + 3", "Left blank: =TODAY() + 3"),
        ('"a" & "b"', 'Left blank: ="a" & "b"'),
    ],
)
def test_default_hint(default: str, hint: str) -> None:
    assert default_hint(default) == hint


def test_a_record_round_trips_through_its_form() -> None:
    record = {
        "Name": "x",
        "Size": 2.5,
        "Done": True,
        "Tags": "a;c",
        "At": "2026-07-01T08:00:00+00:00",
    }
    shown = form_values(SPEC, record, BERLIN)
    assert shown == {
        "Name": "x",
        "Size": "2.5",
        "Done": True,
        "Tags": ["a", "c"],
        "At": "2026-07-01T10:00:00",
    }
    assert record_values(SPEC, shown, BERLIN) == {
        "Name": "x",
        "Size": "2.5",
        "Done": True,
        "Tags": "a;c",
        "At": "2026-07-01T10:00:00+02:00",
    }
    assert changed_values(SPEC, shown, shown, BERLIN) == {}


def test_posted_values_read_what_a_browser_sends() -> None:
    form = MultiDict([("Name", " y "), ("Tags", "b"), ("Tags", "c"), ("At", "2026-01-05T09:00")])
    shown = posted_values(SPEC, form)
    assert shown == {
        "Name": "y",
        "Size": "",
        "Done": False,
        "Tags": ["b", "c"],
        "At": "2026-01-05T09:00",
    }
    assert record_values(SPEC, shown, BERLIN)["At"] == "2026-01-05T09:00:00+01:00"


def test_changed_values_compare_numbers_by_value_and_text_exactly() -> None:
    before = {
        "Name": "1000",
        "Size": "12.5",
        "Done": False,
        "Tags": [],
        "At": "2026-01-05T09:00:00",
    }
    after = {**before, "Name": "1e3", "Size": "12.50", "At": "2026-01-05T09:00"}
    assert changed_values(SPEC, after, before, BERLIN) == {"Name": "1e3"}


def test_filter_values_take_only_what_was_given() -> None:
    args = MultiDict({"Name": "", "Done": "false", "Tags": "a;b", "Owner": "ann", "Other": "x"})
    assert filter_values(SPEC, args, BERLIN) == {"Done": False, "Tags": "a;b", "Owner": "ann"}


def test_display() -> None:
    fields = {f.name: f for f in SPEC.fields}
    assert display(fields["Size"], 3, BERLIN) == "3.00"
    assert display(fields["Done"], None, BERLIN) == ""
    assert display(fields["Tags"], "a;b", BERLIN) == "a, b"
    assert display(fields["At"], "2026-07-01T08:00:00+00:00", BERLIN) == "2026-07-01 10:00 CEST"
    assert display(fields["Name"], None, BERLIN) == ""
