"""The orchestration admin pages in a real browser (Playwright and Debian's chromium):
deploy a definition with a mistake, see the error at its line, fix it, deploy and
activate, then open the orchestration and its diagram.

The test refreshes the documentation's screenshot of the diagram page
(``docs/screenshots/diagram.png``) on each run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from web_support import PASSWORD, seed, serve

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "diagram.png"

#: DESIGN.md's example, on the test's Case object: a background step and a form in the
#: first stage (the form with an SLA), and a stage that runs only for major cases.
CASE_ESCALATION = """\
kind: flow
name: triage_form
type: form
label: Triage the case
fields:
  - {name: severity, type: picklist, values: [Minor, Major], required: true}
  - {name: notes, type: textarea}
---
kind: flow
name: mark_urgent
type: update_record
set: {Urgent: "=TRUE", Details: "='Escalated'"}
---
kind: orchestration
name: case_escalation
label: Case escalation
trigger:
  type: record
  object: Case
  when: created_or_updated
  condition: ISPICKVAL(Priority, "High")
  only_when_changed: true
stages:
  - name: triage
    steps:
      - {name: mark, flow: mark_urgent}
      - name: triage
        flow: triage_form
        assignee: IF(Amount > 10000, "user:bob", "user:ann")
        sla: {due: 4h}
  - name: fix
    entry: $Steps.triage.severity = "Major"
    exit: ISPICKVAL(Priority, "Low")
    steps:
      - {name: engineer, flow: triage_form, assignee: '"user:bob"',
         entry: $Steps.triage.Status = "Completed"}
      - {name: tell_the_account_manager_about_the_escalation, flow: mark_urgent}
"""
MISTAKE = ("flow: triage_form\n        assignee: IF(", "flow: triage_from\n        assignee: IF(")
MISTAKE_LINE = CASE_ESCALATION[: CASE_ESCALATION.index(MISTAKE[0])].count("\n") + 1


@pytest.fixture(autouse=True)
def seeded(app: Flask) -> None:
    seed(app)


@pytest.fixture
def page(browser: Browser, app: Flask) -> Iterator[Page]:
    with serve(app) as url:
        context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 860})
        context.set_default_timeout(10_000)
        yield context.new_page()
        context.close()


def test_deploy_with_a_mistake_fix_it_activate_and_see_the_diagram(page: Page) -> None:
    page.goto("/admin/deploy")
    expect(page).to_have_url(re.compile(r"/login\?next=/admin/deploy$"))
    page.get_by_label("Name").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deploy definitions")

    yaml = page.get_by_label("YAML", exact=True)
    yaml.fill(CASE_ESCALATION.replace(*MISTAKE))
    page.get_by_role("button", name="Deploy").click()
    # The unknown flow, and the entry formula that reads the output it would have had.
    expect(page.get_by_role("heading", name="Nothing was deployed: 2 errors")).to_be_visible()
    where = page.get_by_role("link", name=re.compile(rf"^pasted\.yaml:{MISTAKE_LINE}:\d+$"))
    expect(where).to_be_visible()
    where.click()
    expect(page).to_have_url(re.compile(rf"#src-1-line-{MISTAKE_LINE}$"))
    line = page.locator(f"#src-1-line-{MISTAKE_LINE}")
    expect(line).to_have_class("source-error")
    expect(line).to_contain_text("flow: triage_from")
    expect(line.locator(".line-messages")).to_contain_text(
        "unknown flow 'triage_from' (did you mean 'triage_form'?)"
    )
    expect(page.locator("tr.source-error")).to_have_count(2)

    expect(yaml).to_have_value(re.compile("triage_from"))  # what was pasted is kept
    yaml.fill(CASE_ESCALATION)
    page.get_by_label("Activate the orchestrations deployed").check()
    page.get_by_role("button", name="Deploy").click()
    expect(page).to_have_url(re.compile(r"/admin/deploy$"))
    expect(page.locator(".flash-success")).to_have_text(
        "Deployed 3 definitions: 3 new versions, 0 unchanged."
    )
    page.get_by_role("link", name="case_escalation").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Case escalation")
    expect(page.locator(".orchestration-state")).to_contain_text("Active: version 1")
    diagram = page.locator("figure.diagram svg")
    expect(diagram).to_be_visible()
    expect(diagram.locator("g[data-stage]")).to_have_count(2)
    expect(diagram.locator("g[data-step]")).to_have_count(4)
    expect(diagram.locator('g[data-step="triage"] .sfd-sla')).to_have_count(1)
    expect(diagram.locator('g[data-step="triage"]')).to_contain_text("triage_form · form")
    box = diagram.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 200

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
