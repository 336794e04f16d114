"""Records in a mapped table: reflection, reading, queries, writes and their errors."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from stageflow.clock import FixedClock
from stageflow.records import RecordError, RecordNotFound
from stageflow_sqltable import SqlTableSource

if TYPE_CHECKING:
    from conftest import Crm

ADA = {
    "Id": "1",
    "Owner": "ann",
    "CreatedAt": None,
    "UpdatedAt": "2026-01-01T08:00:00+00:00",
    "CreatedBy": None,
    "UpdatedBy": None,
    "name": "Ada",
    "email": "ada@example.com",
    "balance": 1200.5,
    "visits": 3,
    "rating": 4.5,
    "vip": True,
    "born": "1990-12-10",
    "last_seen": "2026-01-04T18:30:00+00:00",
    "opens": "09:30:00",
}


def ids(source: SqlTableSource, where: dict[str, Any] | None = None, **options: Any) -> list[str]:
    return [record["Id"] for record in source.query("Customer", where, **options).records]


def test_columns_of_every_kind_are_reflected_as_fields(source: SqlTableSource) -> None:
    # The key, the owner and a datetime watermark are Id, Owner and UpdatedAt instead;
    # an integer watermark stays a (read-only) field.
    assert source.objects() == {
        "Customer": {
            "name": "text",
            "email": "text",
            "balance": "number",
            "visits": "number",
            "rating": "number",
            "vip": "checkbox",
            "born": "date",
            "last_seen": "datetime",
            "opens": "time",
        },
        "Ticket": {"title": "text", "status": "text", "version": "number"},
    }


def test_get_gives_the_row_as_a_record(source: SqlTableSource) -> None:
    assert source.get("Customer", "1") == ADA
    assert source.get("Customer", "3") == {
        **dict.fromkeys(ADA),
        "Id": "3",
        "name": "Cy",
        "UpdatedAt": "2026-01-03T08:00:00+00:00",
    }
    assert source.get("Customer", "99") is None
    assert source.get("Customer", "one") is None


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({}, ["1", "2", "3", "4", "5"]),
        ({"vip": True}, ["1", "4"]),
        ({"Owner": "ann"}, ["1", "4"]),
        ({"balance": 80}, ["2", "4"]),
        ({"balance": "80.00"}, ["2", "4"]),
        ({"email": None}, ["3", "5"]),
        ({"born": "1985-02-01"}, ["4"]),
        ({"Id": "3"}, ["3"]),
        ({"Id": "three"}, []),
        ({"UpdatedAt": "2026-01-03T09:00:00+00:00"}, ["4"]),
        ({"CreatedBy": "ann"}, []),  # no such column: blank in every record
        ({"CreatedAt": None}, ["1", "2", "3", "4", "5"]),
        ({"vip": True, "Owner": "ann", "visits": 7}, ["4"]),
    ],
)
def test_query_filters_on_fields_and_system_fields(
    source: SqlTableSource, where: dict[str, Any], expected: list[str]
) -> None:
    assert ids(source, where) == expected


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (None, ["1", "2", "3", "4", "5"]),
        ("-Id", ["5", "4", "3", "2", "1"]),
        ("name", ["1", "2", "3", "4", "5"]),
        ("-name", ["5", "4", "3", "2", "1"]),
        ("balance", ["3", "5", "2", "4", "1"]),  # blanks first; ties by Id
        ("-balance", ["1", "4", "2", "5", "3"]),  # blanks last
        ("-UpdatedAt", ["5", "4", "3", "2", "1"]),
        ("CreatedAt", ["1", "2", "3", "4", "5"]),  # blank in every record: by Id
    ],
)
def test_query_sorts_both_ways(
    source: SqlTableSource, order_by: str | None, expected: list[str]
) -> None:
    assert ids(source, order_by=order_by) == expected


@pytest.mark.parametrize(
    "order_by",
    [
        None,
        "-Id",
        "name",
        "balance",
        "-balance",
        "rating",
        "-born",
        "-opens",
        "-last_seen",
        "UpdatedAt",
    ],
)
def test_query_pages_follow_the_order(source: SqlTableSource, order_by: str | None) -> None:
    pages, cursor = [], None
    while True:
        page = source.query("Customer", order_by=order_by, limit=2, cursor=cursor)
        pages.append([record["Id"] for record in page.records])
        cursor = page.cursor
        if cursor is None:
            break
    assert len(pages) == 3
    assert [i for page in pages for i in page] == ids(source, order_by=order_by)


def test_query_pages_of_a_filtered_query(source: SqlTableSource) -> None:
    first = source.query("Customer", {"Owner": "ann"}, order_by="-name", limit=1)
    assert [r["Id"] for r in first.records] == ["4"]
    second = source.query("Customer", {"Owner": "ann"}, order_by="-name", cursor=first.cursor)
    assert [r["Id"] for r in second.records] == ["1"] and second.cursor is None


def test_query_refuses_unknown_fields_and_bad_values(source: SqlTableSource) -> None:
    with pytest.raises(RecordError) as refused:
        source.query("Customer", {"visits": "many"})
    assert refused.value.errors == {"visits": "must be a number"}
    with pytest.raises(RecordError) as refused:
        source.query("Customer", order_by="-size")
    assert refused.value.errors["sort"].startswith("Customer has no field 'size' (fields: name,")
    with pytest.raises(ValueError, match="Invalid cursor 'page 2'"):
        source.query("Customer", cursor="page 2")


def test_create_stores_a_row_and_gives_it_back(
    source: SqlTableSource, crm: Crm, clock: FixedClock
) -> None:
    created = source.create(
        "Customer",
        {
            "name": "Fay",
            "balance": 10.5,
            "vip": False,
            "born": "2001-02-03",
            "last_seen": "2026-01-05T10:00:00+01:00",
            "opens": "08:15",
        },
        owner="bob",
    )
    assert created == {
        **dict.fromkeys(ADA),
        "Id": "6",
        "Owner": "bob",
        "UpdatedAt": "2026-01-05T09:00:00+00:00",  # the watermark: the clock's time
        "name": "Fay",
        "balance": 10.5,
        "vip": False,
        "born": "2001-02-03",
        "last_seen": "2026-01-05T09:00:00+00:00",
        "opens": "08:15:00",
    }
    assert source.get("Customer", "6") == created
    (stamp,) = crm.run("SELECT updated_at FROM customers WHERE id = 6")[0]
    assert str(stamp) == "2026-01-05 09:00:00"  # in UTC, as the column's other values


def test_create_gives_a_text_key_a_uuid_and_an_integer_watermark_the_next_number(
    source: SqlTableSource,
) -> None:
    first = source.create("Ticket", {"title": "Printer on fire"})
    assert uuid.UUID(first["Id"])
    assert first == {
        **dict.fromkeys(("Owner", "CreatedAt", "UpdatedAt", "CreatedBy", "UpdatedBy")),
        "Id": first["Id"],
        "title": "Printer on fire",
        "status": "open",  # the column's default
        "version": 1,
    }
    second = source.create("Ticket", {"title": "Paper jam", "status": "waiting"})
    assert second["version"] == 2
    assert source.update("Ticket", first["Id"], {"status": "closed"})["version"] == 3


def test_update_sets_some_fields_and_the_watermark(
    source: SqlTableSource, clock: FixedClock
) -> None:
    clock.advance(60)
    updated = source.update("Customer", "1", {"visits": 4, "vip": False, "email": None})
    assert updated == {
        **ADA,
        "UpdatedAt": "2026-01-05T09:01:00+00:00",
        "visits": 4,
        "vip": False,
        "email": None,
    }
    assert source.get("Customer", "1") == updated


def test_delete_removes_the_row(source: SqlTableSource, crm: Crm) -> None:
    source.delete("Customer", "2")
    assert source.get("Customer", "2") is None
    assert crm.run("SELECT COUNT(*) FROM customers") == [(4,)]


@pytest.mark.parametrize("record_id", ["99", "two"])
def test_update_and_delete_of_a_missing_record_raise_key_error(
    source: SqlTableSource, record_id: str
) -> None:
    with pytest.raises(KeyError):
        source.update("Customer", record_id, {"visits": 1})
    with pytest.raises(KeyError):
        source.delete("Customer", record_id)


def test_values_a_column_cannot_take_are_refused_by_field(source: SqlTableSource) -> None:
    with pytest.raises(RecordError) as refused:
        source.create(
            "Customer",
            {
                "name": "x" * 41,
                "visits": 1.5,
                "balance": 123456789,
                "rating": "high",
                "vip": "maybe",
                "born": "soon",
                "last_seen": "later",
                "opens": "noon",
                "size": 3,
                "Id": "7",
            },
        )
    assert refused.value.errors == {
        "name": "must be at most 40 characters long",
        "visits": "must be a whole number",
        "balance": "must have at most 8 digits before the point",
        "rating": "must be a number",
        "vip": "must be true or false",
        "born": "must be a date (YYYY-MM-DD)",
        "last_seen": "must be a date and time (ISO 8601)",
        "opens": "must be a time (HH:MM:SS)",
        "size": "Customer has no field 'size' (fields: name, email, balance, visits, rating, "
        "vip, born, last_seen, opens)",
        "Id": "is set by Stageflow and cannot be written",
    }


def test_required_columns_and_the_watermark(source: SqlTableSource) -> None:
    with pytest.raises(RecordError) as refused:
        source.create("Customer", {"email": "new@example.com"})
    assert refused.value.errors == {"name": "is required"}  # NOT NULL, no default
    with pytest.raises(RecordError) as refused:
        source.update("Customer", "1", {"name": None})
    assert refused.value.errors == {"name": "is required"}
    ticket = source.create("Ticket", {"title": "Printer on fire"})
    with pytest.raises(RecordError) as refused:
        source.update("Ticket", ticket["Id"], {"version": 9})
    assert refused.value.errors == {
        "version": "is the watermark: the record source sets it on every change"
    }


def test_a_write_the_database_refuses_changes_nothing(source: SqlTableSource, crm: Crm) -> None:
    assert list(source.changes("Customer")) == []  # the feed starts here
    with pytest.raises(RecordError) as refused:
        source.create("Customer", {"name": "Ada again", "email": "ada@example.com"})
    assert list(refused.value.errors) == ["_record"]
    assert refused.value.errors["_record"].startswith("the database refused it: ")
    assert "unique" in refused.value.errors["_record"].lower()
    assert crm.run("SELECT COUNT(*) FROM customers") == [(5,)]
    assert list(source.changes("Customer")) == []


def test_an_object_the_source_does_not_map(source: SqlTableSource) -> None:
    with pytest.raises(
        RecordNotFound, match=r"map it to a table in \[plugins.sqltable.objects.Lead"
    ):
        source.get("Lead", "1")
