"""The pages in a real browser: Playwright drives Debian's chromium against the app
served on a real port, on a real database file.

The browser is started once per module; each test gets a new app, server and browser
context (cookies of their own).  Playwright waits for pages and elements by itself:
nothing here sleeps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from web_support import PASSWORD, Seeded, record, seed, serve


@pytest.fixture
def seeded(app: Flask) -> Seeded:
    return seed(app)


@pytest.fixture
def site(app: Flask, seeded: Seeded) -> Iterator[str]:
    """The app served on a free port of 127.0.0.1, in a thread: its base URL."""
    with serve(app) as url:
        yield url


@pytest.fixture
def page(browser: Browser, site: str) -> Iterator[Page]:
    context = browser.new_context(base_url=site)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Page, name: str = "ann") -> None:
    """Open a records page, get sent to the login form, and sign in."""
    page.goto("/records/Case")
    expect(page).to_have_url(re.compile(r"/login\?next=/records/Case$"))
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/records/Case$"))
    expect(page.locator(".user-name")).to_have_text(name)


def list_subjects(page: Page) -> list[str]:
    """The Subject column of a record list, top to bottom."""
    return page.locator("table.records tbody tr td:nth-child(2)").all_inner_texts()


def test_sign_in_list_filter_and_sort(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Name").fill("ann")
    page.get_by_label("Password").fill("not it")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Wrong name or password, or the user is deactivated."
    )
    sign_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Support case")
    assert list_subjects(page) == ["Printer on fire", "Bad invoice", "App crashes"]

    page.locator("details.filters summary").click()
    page.locator("#field-Priority").select_option("High")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"Priority=High"))
    assert list_subjects(page) == ["Printer on fire", "App crashes"]

    page.get_by_role("link", name="Subject", exact=True).click()
    expect(page).to_have_url(re.compile(r"sort=Subject"))
    assert list_subjects(page) == ["App crashes", "Printer on fire"]
    page.get_by_role("link", name=re.compile(r"^Subject")).click()
    expect(page).to_have_url(re.compile(r"sort=-Subject"))
    assert list_subjects(page) == ["Printer on fire", "App crashes"]
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Subject")

    page.get_by_role("link", name="Clear").click()
    assert list_subjects(page) == ["Printer on fire", "Bad invoice", "App crashes"]

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator(".flash")).to_have_text("You are signed out.")


def test_create_with_a_mistake_then_fix_it_then_edit(page: Page, app: Flask) -> None:
    sign_in(page)
    page.get_by_role("link", name="New Support case").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New Support case")
    page.get_by_label("Amount").fill("42.5")
    page.get_by_label("Urgent").check()
    page.get_by_label("Details").fill("It is all broken")
    page.get_by_label("Tags").select_option(["web", "mobile"])
    page.get_by_label("Due date").fill("2026-03-01")
    page.get_by_role("button", name="Create").click()

    # The server's message is at the field; what was typed is still there.
    expect(page.locator("#field-Subject-error")).to_have_text("Subject: is required")
    expect(page.locator("#field-Subject")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Amount")).to_have_value("42.5")
    expect(page.get_by_label("Urgent")).to_be_checked()
    expect(page.get_by_label("Due date")).to_have_value("2026-03-01")

    page.get_by_label("Subject").fill("Printer jammed")
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/records/Case/\d+$"))
    expect(page.locator(".flash")).to_contain_text("created.")
    expect(page.locator("#value-Subject dd")).to_have_text("Printer jammed")
    expect(page.locator("#value-Amount dd")).to_have_text("42.50")
    expect(page.locator("#value-Tags dd")).to_have_text("web, mobile")
    record_id = page.url.rsplit("/", 1)[1]

    page.locator("details.edit summary").click()
    page.get_by_label("Priority").select_option("High")
    page.get_by_label("Urgent").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_text(f"Support case {record_id} saved.")
    expect(page.locator("#value-Priority dd")).to_have_text("High")
    expect(page.locator("#value-Urgent dd")).to_have_text("No")
    stored = record(app, "Case", record_id)
    assert (stored["Subject"], stored["Priority"], stored["Urgent"], stored["Tags"]) == (
        "Printer jammed", "High", False, "web;mobile")  # fmt: skip


def test_the_record_page_shows_its_runs(page: Page, seeded: Seeded) -> None:
    sign_in(page)
    page.get_by_role("link", name=seeded["first"], exact=True).click()
    runs = page.locator("#runs")
    expect(runs.get_by_role("heading")).to_have_text("Runs")
    row = runs.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_contain_text("triage")
    expect(row.locator(".status")).to_have_text("InProgress")
    expect(row.locator("td").nth(3)).to_have_text("review")
    expect(row.get_by_role("link", name="1")).to_have_attribute("href", "/api/runs/1")
    expect(page.locator("#work-guide")).to_contain_text("Work Guide")


def test_a_record_of_someone_else_is_refused(page: Page, seeded: Seeded) -> None:
    sign_in(page, "bob")
    expect(page.locator("table.records tbody tr")).to_have_count(1)
    response = page.goto(f"/records/Case/{seeded['first']}")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.locator("body")).not_to_contain_text("Printer on fire")
