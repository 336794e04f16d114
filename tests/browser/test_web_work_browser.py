"""My Work, the work item page and the Work Guide in a real browser: Playwright drives
Debian's chromium against the app served on a real port, on a real database file.

Time stands still (a FixedClock); background jobs run when a test says so
(``run_until_idle``).  Playwright waits for pages and elements by itself: nothing here
sleeps.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Locator, Page, expect
from web_support import (
    PASSWORD,
    Seeded,
    run_jobs,
    seed_work,
    serve,
    work_item,
)


@pytest.fixture
def seeded(app: Flask) -> Seeded:
    return seed_work(app)


@pytest.fixture
def site(app: Flask, seeded: Seeded) -> Iterator[str]:
    with serve(app) as url:
        yield url


@pytest.fixture
def new_page(browser: Browser, site: str) -> Iterator[Callable[..., Page]]:
    """Opens a page in a browser context of its own (its own cookies: another person)."""
    contexts = []

    def open_page(**options: object) -> Page:
        context = browser.new_context(base_url=site, **options)  # type: ignore[arg-type]
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()


def sign_in(page: Page, name: str) -> None:
    """Open My Work, get sent to the login form, sign in and land on My Work."""
    page.goto("/work")
    expect(page).to_have_url(re.compile(r"/login\?next=/work$"))
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/work$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My Work")
    expect(page.locator(".user-name")).to_have_text(name)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def tab(page: Page, label: str) -> Locator:
    """The tab of a work list, by the start of its label (its count follows)."""
    tabs = page.get_by_role("navigation", name="Work lists")
    return tabs.get_by_role("link", name=re.compile(rf"^{re.escape(label)}"))


def rows(page: Page) -> Locator:
    """The rows of a work list."""
    return page.locator("table.work-table tbody tr")


def test_fill_in_a_form_then_the_next_stage_reaches_the_queue(
    page: Page, app: Flask, seeded: Seeded
) -> None:
    sign_in(page, "ann")
    expect(page.locator("#nav-work .count")).to_have_text("1")
    expect(rows(page)).to_have_count(1)
    page.get_by_role("link", name="Triage the ticket", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Triage the ticket")
    expect(page.locator(".record-title")).to_have_text("Printer on fire")
    expect(page.locator(".instructions")).to_have_text("Read the ticket, then say how bad it is.")

    # Send it with the required field missing: the error is at the field, typing kept.
    page.get_by_label("Hours spent").fill("2.5")
    page.get_by_role("button", name="Complete").click()
    expect(page.locator("#item-1-severity-error")).to_have_text("Severity: is required")
    expect(page.get_by_label("Severity")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Hours spent")).to_have_value("2.5")
    assert work_item(app, seeded["triage"]).status == "Assigned"

    page.get_by_label("Severity").select_option("Minor")
    page.get_by_role("button", name="Complete").click()
    expect(page).to_have_url(re.compile(r"/work$"))
    expect(page.locator(".flash")).to_have_text("Completed: Triage the ticket.")
    expect(page.locator(".empty-state")).to_contain_text("Nothing is waiting for you.")
    expect(page.locator("#nav-work .count")).to_have_text("0")
    run_jobs(app)
    sign_out(page)

    # The approval is the queue's now: bob finds it in his list and in the Work Guide.
    sign_in(page, "bob")
    tab(page, "My queues and groups").click()
    row = rows(page).filter(has_text="Approve the triage")
    expect(row).to_have_count(1)
    expect(row.locator("td[data-label=Stage]")).to_have_text("approve")
    row.get_by_role("link", name="Printer on fire").click()
    expect(page).to_have_url(re.compile(rf"/records/Ticket/{seeded['first']}$"))
    guide = page.locator("#work-guide")
    expect(guide.locator(".guide-summary")).to_have_text("1 item for you on this record.")
    triage = guide.locator(".check", has=page.locator(".check-name", has_text="triage")).first
    expect(triage).to_have_class(re.compile(r"check-Completed"))
    expect(triage.locator(".mark").first).to_have_text("✓")
    item = guide.locator(".guide-item")
    expect(item.get_by_role("button", name=re.compile(r"^Claim"))).to_be_visible()

    # Complete it in place: back on the record, the checklist is done.
    item.get_by_label("Decision").select_option("Approved")
    item.get_by_role("button", name="Complete").click()
    expect(page).to_have_url(re.compile(rf"/records/Ticket/{seeded['first']}$"))
    expect(page.locator(".flash")).to_have_text("Completed: Approve the triage.")
    expect(guide.locator(".guide-summary")).to_have_text(
        "Nothing on this record is waiting for you."
    )
    expect(guide.locator("summary .status")).to_have_text("Completed")


def test_a_queue_member_claims_an_item_and_the_other_member_cannot(
    new_page: Callable[..., Page], app: Flask, seeded: Seeded
) -> None:
    bob, cat = new_page(), new_page()
    for page, name in ((bob, "bob"), (cat, "cat")):
        sign_in(page, name)
        tab(page, "My queues and groups").click()
        expect(rows(page).filter(has_text="review")).to_have_count(1)

    rows(bob).get_by_role("button", name=re.compile(r"^Claim")).click()
    expect(bob.locator(".flash")).to_contain_text("You claimed “review”")
    expect(rows(bob)).to_have_count(0)
    tab(bob, "Mine").click()
    expect(rows(bob).filter(has_text="review")).to_have_count(1)

    # cat's page still shows the item; her claim comes second and is refused.
    rows(cat).get_by_role("button", name=re.compile(r"^Claim")).click()
    expect(cat.locator(".flash-error")).to_have_text(
        f"Work item {seeded['review']} is already claimed by bob."
    )
    expect(rows(cat)).to_have_count(0)
    expect(cat.locator(".empty-state")).to_contain_text("No work is waiting")
    assert work_item(app, seeded["review"]).claimed_by.name == "bob"


def test_reassigning_to_someone_who_cannot_open_the_record_is_refused(
    page: Page, app: Flask, seeded: Seeded
) -> None:
    sign_in(page, "ann")
    rows(page).get_by_role("link", name=re.compile(r"^Open")).click()
    page.locator("details.reassign summary").click()
    page.get_by_label("To").fill("user:dan")
    page.get_by_label("Reason").fill("On holiday")
    page.get_by_role("button", name="Reassign").click()
    expect(page.locator("#reassign-error")).to_have_text(
        f"user:dan cannot open Ticket {seeded['first']} (dan may not read it): share the "
        "record with them first, or choose someone else."
    )
    expect(page.get_by_label("To")).to_have_value("user:dan")
    expect(page.get_by_label("Reason")).to_have_value("On holiday")
    assert work_item(app, seeded["triage"]).assignee_name == "ann"

    page.get_by_label("To").fill("queue:tier2")
    page.get_by_role("button", name="Reassign").click()
    expect(page).to_have_url(re.compile(r"/work$"))
    expect(page.locator(".flash")).to_have_text("“Triage the ticket” is now with queue tier2.")
    expect(rows(page)).to_have_count(0)


def test_my_work_fits_a_phone(new_page: Callable[..., Page]) -> None:
    page = new_page(viewport={"width": 375, "height": 740}, is_mobile=True)
    sign_in(page, "bob")
    tab(page, "My queues and groups").click()
    row = rows(page).first
    expect(row).to_be_visible()
    # Each item is a card whose cells are labelled; nothing is wider than the screen.
    assert (
        row.locator("td[data-label=Record]").evaluate(
            "cell => getComputedStyle(cell, '::before').content"
        )
        == '"Record"'
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    row.get_by_role("link", name=re.compile(r"^Open")).click()
    expect(page.get_by_label("Decision")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
