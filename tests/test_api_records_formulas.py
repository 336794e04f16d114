"""Records and the formula tools through the REST API."""

from __future__ import annotations

import pytest
from support import Api
from test_api_definitions import assert_error

OBJECT = """
kind: object
name: Case
fields:
  - {name: Subject, type: text, required: true}
  - {name: Priority, type: picklist, values: [Low, High]}
  - {name: Amount, type: number}
"""


@pytest.fixture
def deployed(admin_api: Api) -> None:
    assert admin_api.deploy(OBJECT).status_code == 201


def test_record_crud(user_api: Api, deployed: None) -> None:
    created = user_api.post("/api/records/Case", {"Subject": "Fire", "Amount": 12.5})
    assert created.status_code == 201
    record = created.get_json()
    assert record["Subject"] == "Fire" and record["Amount"] == 12.5 and record["Owner"] == "ann"
    url = f"/api/records/Case/{record['Id']}"
    assert user_api.get(url).get_json() == record
    changed = user_api.patch(url, {"Priority": "High"}).get_json()
    assert changed["Priority"] == "High" and changed["Subject"] == "Fire"
    assert user_api.delete(url).status_code == 204
    assert_error(user_api.get(url), 404, "not_found")
    assert_error(user_api.delete(url), 404, "not_found")
    assert_error(user_api.patch(url, {"Priority": "Low"}), 404, "not_found")


def test_record_values_are_checked(user_api: Api, deployed: None) -> None:
    error = assert_error(user_api.post("/api/records/Case", {"Priority": "Urgent", "Color": 1}),
                         400, "invalid_record")  # fmt: skip
    assert set(error["details"]) == {"Priority", "Color", "Subject"}
    assert "not one of Low, High" in error["details"]["Priority"]
    assert error["details"]["Subject"] == "is required"
    assert_error(user_api.post("/api/records/Case", ["x"]), 400, "invalid_body")
    assert_error(user_api.post("/api/records/Nope", {"Subject": "x"}), 404, "not_found")
    assert user_api.get("/api/records/Case").get_json() == {"items": [], "next": None}
    record = user_api.post("/api/records/Case", {"Subject": "ok"}).get_json()
    error = assert_error(user_api.patch(f"/api/records/Case/{record['Id']}", {"Amount": "lots"}),
                         400, "invalid_record")  # fmt: skip
    assert "Amount" in error["details"]
    assert_error(user_api.patch(f"/api/records/Case/{record['Id']}", {"Id": "7"}), 400,
                 "invalid_record")  # fmt: skip


def test_record_query_filters_and_pages(user_api: Api, deployed: None) -> None:
    for number in range(5):
        user_api.post(
            "/api/records/Case",
            {"Subject": f"case {number}", "Priority": "High" if number % 2 else "Low"},
        )
    ids, cursor = [], None
    while True:
        args = {"Priority": "Low", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = user_api.get("/api/records/Case", query_string=args).get_json()
        ids += [r["Subject"] for r in page["items"]]
        if not (cursor := page["next"]):
            break
    assert ids == ["case 0", "case 2", "case 4"]
    assert_error(user_api.get("/api/records/Case?Priority=Urgent"), 400, "invalid_record")
    assert_error(user_api.get("/api/records/Case?cursor=bm9wZQ"), 400, "invalid_query")
    assert_error(user_api.get("/api/records/Case?limit=-1"), 400, "invalid_query")


def test_formula_check(user_api: Api, deployed: None) -> None:
    ok = user_api.post("/api/formulas/check", {"formula": 'IF(Amount > 100, "big", "small")',
                                               "object": "Case"})  # fmt: skip
    assert ok.get_json() == {"type": "Text", "fields": ["Amount"]}
    schema = user_api.post("/api/formulas/check",
                           {"formula": "Qty * 2", "schema": {"Qty": "Number"}})  # fmt: skip
    assert schema.get_json()["type"] == "Number"
    error = assert_error(user_api.post("/api/formulas/check", {"formula": "Nope + 1",
                                                               "object": "Case"}),
                         400, "invalid_formula")  # fmt: skip
    assert (error["details"]["line"], error["details"]["column"]) == (1, 1)
    syntax = assert_error(user_api.post("/api/formulas/check", {"formula": "1 +\n  (2"}),
                          400, "invalid_formula")  # fmt: skip
    assert syntax["details"]["kind"] == "syntax" and syntax["details"]["line"] == 2
    expected = user_api.post("/api/formulas/check", {"formula": "1", "expected": "Checkbox"})
    assert_error(expected, 400, "invalid_formula")
    assert_error(user_api.post("/api/formulas/check", {}), 400, "invalid_body")
    assert_error(user_api.post("/api/formulas/check", {"formula": 1}), 400, "invalid_body")
    bad_type = user_api.post("/api/formulas/check", {"formula": "1", "schema": {"A": "Money"}})
    assert "schema.A" in assert_error(bad_type, 400, "invalid_body")["details"]
    assert_error(user_api.post("/api/formulas/check", {"formula": "1", "object": "Nope"}), 404,
                 "not_found")  # fmt: skip


def test_formula_evaluate(user_api: Api, deployed: None) -> None:
    def evaluate(**body):  # type: ignore[no-untyped-def]
        return user_api.post("/api/formulas/evaluate", body)

    big = evaluate(formula='IF(Amount > 100, "big", "small")', values={"Amount": 150},
                   object="Case").get_json()  # fmt: skip
    assert big == {"type": "Text", "value": "big", "display": '"big"'}
    assert (
        evaluate(formula="A / 4", values={"A": "10"}, schema={"A": "Number"}).get_json()["value"]
        == 2.5
    )
    assert evaluate(formula="ISCHANGED(A)", values={"A": 1}, prior={"A": 2},
                    schema={"A": "Number"}).get_json()["value"] is True  # fmt: skip
    assert evaluate(formula="ADDMONTHS(DATE(2024, 1, 31), 1)").get_json()["value"] == "2024-02-29"
    error = assert_error(evaluate(formula="A / 0", values={"A": 1}), 400, "invalid_formula")
    assert error["details"]["kind"] == "runtime" or "zero" in error["message"].lower()
    bad = evaluate(formula="A", values={"A": "x"}, schema={"A": "Number"})
    assert "values.A" in assert_error(bad, 400, "invalid_body")["details"]
