"""Browser tests: Debian's chromium, driven by Playwright, on the app served on a real port.

They skip, with the reason, only where chromium is missing (``.ci/run`` installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from web_support import CHROMIUM, CHROMIUM_ARGS, make_app

from stageflow.clock import FixedClock
from stageflow.db import database

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip this folder's tests where there is no chromium."""
    if CHROMIUM.exists():
        return
    reason = f"the browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One chromium for all the browser tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def app(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Flask]:
    """The app on a new database, with the tests' clock."""
    app = make_app(tmp_path, database_url, clock)
    yield app
    if not database.is_closed():
        database.close()
