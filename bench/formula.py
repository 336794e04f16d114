"""Formula benchmark: cold compile time, and evaluations per second against hand-written
Python doing the same work in the same process.

    python bench/formula.py [--rows 2000] [--repeat 5]

For each formula it prints the median cold compile time (parse, type-check, generate
code; the cache cleared before each), compiled evaluations per second, the hand-written
equivalent's evaluations per second, and the ratio (hand-written speed / compiled speed,
so 2.0× means the formula is half as fast as hand-written Python).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import random
import statistics
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from stageflow.grammar import compile_formula
from stageflow.grammar.compiler import _compile_cached

NOW = dt.datetime(2026, 3, 5, 14, 30, tzinfo=dt.UTC)
TODAY = NOW.date()  # for generating test data

SCHEMA = {
    "Amount": "Number",
    "Discount": "Percent",
    "Priority": "Picklist",
    "Status": "Picklist",
    "Region": "Text",
    "Subject": "Text",
    "CaseNumber": "Text",
    "Owner": "Text",
    "IsEscalated": "Checkbox",
    "DueDate": "Date",
    "StartDate": "Date",
    "Account.Name": "Text",
    "$Steps.triage.severity": "Picklist",
    "$Steps.triage.Status": "Text",
}


def _text_eq(a: str | None, b: str) -> bool:
    return (a or "") == b


def _add_months(d: dt.date, n: int) -> dt.date:
    month = d.month - 1 + n
    year, month = d.year + month // 12, month % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(d.day, last))


def _weekday(d: dt.date) -> int:
    return (d.isoweekday() % 7) + 1


def _round2(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# (name, formula, hand-written equivalent with the same blank handling)
CASES: list[tuple[str, str, Callable[[dict[str, Any]], Any]]] = [
    (
        "condition: amount threshold",
        "Amount > 10000",
        lambda v: None if v["Amount"] is None else v["Amount"] > 10000,
    ),
    (
        "condition: picklist and lookup",
        'AND(ISPICKVAL(Priority, "High"), NOT(ISBLANK(Account.Name)))',
        lambda v: (v["Priority"] or "").casefold() == "high" and v["Account.Name"] is not None,
    ),
    (
        "assignee: by amount",
        'IF(Amount > 10000, "queue:tier2", "queue:tier1")',
        lambda v: (
            "queue:tier2" if v["Amount"] is not None and v["Amount"] > 10000 else "queue:tier1"
        ),
    ),
    (
        "assignee: group by region",
        '"group:" & LOWER(Region)',
        lambda v: "group:" + (v["Region"].lower() if v["Region"] else ""),
    ),
    (
        "assignee: CASE on region",
        'CASE(Region, "EMEA", "queue:emea", "APAC", "queue:apac", "queue:amer")',
        lambda v: {"EMEA": "queue:emea", "APAC": "queue:apac"}.get(v["Region"], "queue:amer"),
    ),
    (
        "date: due within two days",
        "DueDate - TODAY() <= 2",
        lambda v, now: None if v["DueDate"] is None else (v["DueDate"] - now.date()).days <= 2,
    ),
    (
        "date: three months on",
        "ADDMONTHS(StartDate, 3)",
        lambda v: None if v["StartDate"] is None else _add_months(v["StartDate"], 3),
    ),
    (
        "steps: triage outcome",
        '$Steps.triage.severity = "Major" && $Steps.triage.Status = "Completed"',
        lambda v: (
            _text_eq(v["$Steps.triage.severity"], "Major")
            and _text_eq(v["$Steps.triage.Status"], "Completed")
        ),
    ),
    (
        "text: case summary",
        '"Case " & CaseNumber & ": " & Subject & " (" & TEXT(Amount) & ")"',
        lambda v: (
            "Case "
            + (v["CaseNumber"] or "")
            + ": "
            + (v["Subject"] or "")
            + " ("
            + ("" if v["Amount"] is None else format(v["Amount"].normalize(), "f"))
            + ")"
        ),
    ),
    (
        "number: discounted amount",
        "ROUND(Amount * (1 + Discount), 2)",
        lambda v: (
            None
            if v["Amount"] is None or v["Discount"] is None
            else _round2(v["Amount"] * (1 + v["Discount"]))
        ),
    ),
    (
        "condition: closed or small",
        'OR(Status = "Closed", AND(Amount < 500, NOT(IsEscalated)))',
        lambda v: (
            _text_eq(v["Status"], "Closed")
            or (v["Amount"] is not None and v["Amount"] < 500 and v["IsEscalated"] is False)
        ),
    ),
    (
        "text: short subject",
        'LEFT(Subject, 20) & IF(LEN(Subject) > 20, "...", "")',
        lambda v: (
            None
            if v["Subject"] is None
            else v["Subject"][:20] + ("..." if len(v["Subject"]) > 20 else "")
        ),
    ),
    (
        "date: due on a weekend",
        "WEEKDAY(DueDate) = 1 || WEEKDAY(DueDate) = 7",
        lambda v: v["DueDate"] is not None and _weekday(v["DueDate"]) in (1, 7),
    ),
    (
        "assignee: owner or queue",
        'BLANKVALUE(Owner, "queue:unassigned")',
        lambda v: v["Owner"] or "queue:unassigned",
    ),
]


def make_rows(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Realistic records, with some blanks, as the engine would pass them."""
    rng = random.Random(seed)

    def maybe(value: Any) -> Any:
        return None if rng.random() < 0.1 else value

    rows = []
    for i in range(count):
        rows.append(
            {
                "Amount": maybe(Decimal(rng.randint(0, 30000)) / 4),
                "Discount": maybe(Decimal(rng.randint(0, 30)) / 100),
                "Priority": maybe(rng.choice(["Low", "Medium", "High"])),
                "Status": maybe(rng.choice(["New", "Working", "Closed"])),
                "Region": maybe(rng.choice(["EMEA", "APAC", "AMER"])),
                "Subject": maybe(rng.choice(["Printer on fire", "Cannot log in to the portal"])),
                "CaseNumber": f"{i:08d}",
                "Owner": maybe(rng.choice(["user:ana", "user:bo"])),
                "IsEscalated": rng.random() < 0.3,
                "DueDate": maybe(TODAY + dt.timedelta(days=rng.randint(-5, 20))),
                "StartDate": maybe(dt.date(2026, rng.randint(1, 12), rng.randint(1, 28))),
                "Account.Name": maybe("Acme"),
                "$Steps.triage.severity": maybe(rng.choice(["Minor", "Major"])),
                "$Steps.triage.Status": rng.choice(["Completed", "InProgress"]),
            }
        )
    return rows


def rate(fn: Callable[[dict[str, Any]], Any], rows: list[dict[str, Any]], repeat: int) -> float:
    """Best evaluations per second over ``repeat`` passes through ``rows``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for row in rows:
            fn(row)
        best = min(best, time.perf_counter() - start)
    return len(rows) / best


def cold_compile_ms(source: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        _compile_cached.cache_clear()
        start = time.perf_counter()
        compile_formula(source, SCHEMA)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = make_rows(args.rows)

    print(f"{'formula':34} {'chars':>5} {'compile ms':>10} {'compiled/s':>12} "
          f"{'python/s':>12} {'ratio':>6}")  # fmt: skip
    ratios, compiles = [], []
    for name, source, hand in CASES:
        formula = compile_formula(source, SCHEMA)
        for row in rows[:200]:  # both must agree before we time them
            clock = {"now": NOW} if formula.reads_clock else {}
            got, want = formula.evaluate(row, **clock), hand(row, **clock)
            want = None if want == "" else want
            if formula.type == "Checkbox":
                got, want = got is True, want is True
            assert got == want, (name, row, got, want)
        compile_ms = cold_compile_ms(source, args.repeat)
        # Both sides are called the same way; formulas that read the clock get it given.
        if formula.reads_clock:
            compiled = rate(functools.partial(formula.evaluate, now=NOW), rows, args.repeat)
            python = rate(functools.partial(hand, now=NOW), rows, args.repeat)
        else:
            compiled = rate(formula.evaluate, rows, args.repeat)
            python = rate(hand, rows, args.repeat)
        ratio = python / compiled
        ratios.append(ratio)
        compiles.append(compile_ms)
        print(f"{name:34} {len(source):5} {compile_ms:10.3f} {compiled:12,.0f} "
              f"{python:12,.0f} {ratio:5.2f}x")  # fmt: skip
    print()
    print(f"median cold compile: {statistics.median(compiles):.3f} ms; "
          f"worst: {max(compiles):.3f} ms")  # fmt: skip
    print(f"compiled vs hand-written Python: median {statistics.median(ratios):.2f}x slower, "
          f"worst {max(ratios):.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
