"""The formula playground in a real browser (Debian's chromium, driven by Playwright).

The test also refreshes ``docs/screenshots/playground.png``, the picture the docs show.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from web_support import PASSWORD, Seeded, seed, serve

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "playground.png"

#: The horizontal position of a character of an element's text, from the page's layout.
CHARACTER_X = """(element, index) => {
  const range = document.createRange();
  range.setStart(element.firstChild, index);
  range.setEnd(element.firstChild, index + 1);
  return range.getBoundingClientRect().left;
}"""


@pytest.fixture
def seeded(app: Flask) -> Seeded:
    return seed(app)


@pytest.fixture
def page(browser: Browser, app: Flask, seeded: Seeded) -> Iterator[Page]:
    with serve(app) as site:
        context = browser.new_context(base_url=site, viewport={"width": 1100, "height": 820})
        context.set_default_timeout(10_000)
        yield context.new_page()
        context.close()


def test_the_playground_shows_a_caret_then_a_value(page: Page, seeded: Seeded) -> None:
    page.goto("/admin/formulas")
    expect(page).to_have_url(re.compile(r"/login\?next=/admin/formulas$"))
    page.get_by_label("Name").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Formula playground")

    page.get_by_label("Formula").fill("Amount & 1")
    page.get_by_label("Object").select_option("Case")
    page.get_by_label("Record id").fill(seeded["first"])
    page.get_by_role("button", name="Check").click()

    # A shareable address, the message at the formula, the caret under the '&'.
    expect(page).to_have_url(re.compile(r"\?formula=Amount\+%26\+1&object=Case&record="))
    expect(page.locator("#playground-formula-error")).to_contain_text(
        "Incorrect parameter type for operator '&'. Expected Text, received Number."
    )
    expect(page.locator("#playground-formula")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#playground-error")).to_contain_text("Type error at line 1, column 8")
    caret = page.locator(".formula-caret")
    assert caret.inner_text() == "  Amount & 1\n         ^"
    assert caret.evaluate(CHARACTER_X, 9) == pytest.approx(caret.evaluate(CHARACTER_X, 22), abs=1)
    expect(page.get_by_label("Formula")).to_have_value("Amount & 1")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.get_by_label("Formula").fill('TEXT(Amount + 1) & " EUR"')
    page.get_by_role("button", name="Check").click()
    expect(page.locator(".formula-caret")).to_have_count(0)
    expect(page.locator("#result-type")).to_have_text("Text")
    expect(page.locator("#result-fields")).to_have_text("Amount")
    expect(page.locator("#result-value")).to_have_text(f'"121 EUR" on Case {seeded["first"]}')
    page.locator("#result-value").get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/records/Case/{seeded['first']}$"))
