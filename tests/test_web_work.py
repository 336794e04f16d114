"""My Work, the work item page and the Work Guide through Flask's test client."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from flask import Flask
from web_support import (
    Pages,
    Seeded,
    field_html,
    make_app,
    run_jobs,
    seed_work,
    text,
    work_item,
)

from stageflow.clock import FixedClock
from stageflow.core import current
from stageflow.db import database
from stageflow.models import WorkItem
from stageflow.web import work as work_pages

#: A triage form with every field right (the checkbox left unchecked: not sent).
TRIAGE = {"severity": "Minor", "notes": "", "hours": "1.5"}


@pytest.fixture
def app(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Flask]:
    app = make_app(tmp_path, database_url, clock)
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def seeded(app: Flask) -> Seeded:
    return seed_work(app)


@pytest.fixture
def signed_in(app: Flask, seeded: Seeded) -> Callable[[str], Pages]:
    """A test client signed in as a user."""

    return lambda name: Pages.signed_in(app, name)


@pytest.fixture
def ann(signed_in: Callable[[str], Pages]) -> Pages:
    return signed_in("ann")


@pytest.fixture
def bob(signed_in: Callable[[str], Pages]) -> Pages:
    return signed_in("bob")


def set_due(app: Flask, item_id: str, due: dt.datetime | None) -> None:
    with app.app_context(), database.connection_context():
        WorkItem.update(due_at=due).where(WorkItem.id == int(item_id)).execute()


def row_ids(page: str) -> list[str]:
    """The work item ids of a work list, in order."""
    return re.findall(r'<tr id="work-item-(\d+)"', page)


def flashes(pages: Pages, url: str) -> str:
    """The messages shown at the top of the page ``url``."""
    page = text(pages.get(url))
    found = re.search(r'<div class="flashes".*?</div>', page, re.DOTALL)
    return found.group(0) if found else ""


def complete_triage(pages: Pages, seeded: Seeded, **changes: str) -> None:
    response = pages.post(f"/work/{seeded['triage']}/complete", {**TRIAGE, **changes})
    assert response.status_code == 302, text(response)


# -- signing in and the header ---------------------------------------------------------


@pytest.mark.parametrize("url", ["/work", "/work?scope=queues", "/work/1"])
def test_pages_send_anonymous_people_to_login(app: Flask, seeded: Seeded, url: str) -> None:
    response = Pages(app.test_client()).get(url)
    assert response.status_code == 302
    assert unquote(response.location) == f"/login?next={url}"


@pytest.mark.parametrize("action", ["complete", "claim", "release", "reassign"])
def test_actions_send_anonymous_people_to_login(app: Flask, seeded: Seeded, action: str) -> None:
    response = Pages(app.test_client()).post(f"/work/1/{action}", {})
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    assert work_item(app, "1").status == "Assigned"


def test_home_is_my_work_and_the_header_counts_my_items(ann: Pages) -> None:
    assert ann.get("/").location == "/work"
    page = text(ann.get("/records"))
    heading = r'<a class="nav-heading" href="/work">My Work <span class="count"[^>]*>1</span>'
    assert re.search(heading, page)
    assert 'href="/work" aria-current="page"' not in page
    assert 'href="/work" aria-current="page"' in text(ann.get("/work"))


# -- My Work ---------------------------------------------------------------------------


def test_my_work_lists_my_items_with_their_record_run_and_actions(ann: Pages) -> None:
    page = text(ann.get("/work"))
    assert re.search(r'href="/work\?scope=mine" aria-current="page">Mine <span class="count">1<',
                     page)  # fmt: skip
    assert 'My queues and groups <span class="count">0<' in page
    assert 'Completed <span class="count">0<' in page
    assert "scope=all" not in page  # not an admin
    assert row_ids(page) == ["1"]
    row = page[page.index('<tr id="work-item-1"') : page.index("</tr>", page.index("work-item-1"))]
    assert '<a href="/work/1">Triage the ticket</a>' in row
    assert '<a href="/records/Ticket/1">Printer on fire</a>' in row
    assert ">ticket_flow<" in row and ">triage<" in row
    assert "status-Assigned" in row and '<td data-label="Assignee">ann</td>' in row
    assert "/claim" not in row  # assigned to ann: nothing to claim
    assert "1 item, soonest due first" in page


def test_queue_items_wait_for_members_to_claim_them(bob: Pages) -> None:
    assert row_ids(text(bob.get("/work"))) == []
    page = text(bob.get("/work?scope=queues"))
    assert 'My queues and groups <span class="count">1<' in page
    assert row_ids(page) == ["2"]
    assert '<form method="post" action="/work/2/claim"' in page
    assert '<input type="hidden" name="next" value="/work?scope=queues">' in page
    assert "queue tier2" in page


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ("mine", "Nothing is waiting for you."),
        ("queues", "No work is waiting in your queues and groups."),
        ("completed", "You have not completed any work items yet."),
    ],
)
def test_empty_lists_say_what_to_do(
    signed_in: Callable[[str], Pages], scope: str, message: str
) -> None:
    page = text(signed_in("dan").get(f"/work?scope={scope}"))
    assert message in page
    assert "<table" not in page


def test_filter_by_orchestration_and_overdue(app: Flask, bob: Pages, clock: FixedClock) -> None:
    page = text(bob.get("/work?scope=queues&orchestration=quick_review"))
    assert row_ids(page) == ["2"]
    assert '<option value="quick_review" selected>' in page
    page = text(bob.get("/work?scope=queues&orchestration=ticket_flow"))
    assert row_ids(page) == []
    assert "No work items match these filters." in page
    assert '<a href="/work?scope=queues">Clear the filters</a>' in page
    assert row_ids(text(bob.get("/work?scope=queues&overdue=true"))) == []

    set_due(app, "2", clock.now() - dt.timedelta(hours=1))
    page = text(bob.get("/work?scope=queues&overdue=true"))
    assert row_ids(page) == ["2"]
    assert '<tr id="work-item-2" class="is-overdue">' in page
    assert '<strong class="overdue-flag">Overdue</strong>' in page
    assert 'name="overdue" checked' in page or re.search(r'name="overdue"[^>]*checked', page)


def test_lists_are_sorted_by_due_time_then_age(
    app: Flask, signed_in: Callable[[str], Pages], clock: FixedClock
) -> None:
    root = signed_in("root")
    page = text(root.get("/work?scope=all"))
    assert 'href="/work?scope=all" aria-current="page">All</a>' in page
    assert row_ids(page) == ["1", "2"]  # no due times: oldest first
    set_due(app, "2", clock.now() + dt.timedelta(hours=2))
    assert row_ids(text(root.get("/work?scope=all"))) == ["2", "1"]  # without a due time: last
    set_due(app, "1", clock.now() + dt.timedelta(hours=1))
    page = text(root.get("/work?scope=all"))
    assert row_ids(page) == ["1", "2"]
    assert "2026-01-05 10:00 UTC" in page  # the due time, in the server's time zone


def test_the_all_list_is_for_admins(ann: Pages) -> None:
    response = ann.get("/work?scope=all")
    assert response.status_code == 403
    assert "Only an admin may list everyone&#39;s work." in text(response)


def test_an_unknown_list_is_a_404(ann: Pages) -> None:
    response = ann.get("/work?scope=everything")
    assert response.status_code == 404
    assert "There is no such work list" in text(response)


def test_pages_follow_the_next_link(
    signed_in: Callable[[str], Pages], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(work_pages, "PAGE_SIZE", 1)
    root = signed_in("root")
    first = text(root.get("/work?scope=all&orchestration="))
    assert row_ids(first) == ["1"]
    found = re.search(r'<a href="([^"]+)" rel="next">Next page', first)
    assert found, "no next link"
    following = found.group(1).replace("&amp;", "&")
    assert "scope=all" in following and "cursor=" in following
    second = text(root.get(following))
    assert row_ids(second) == ["2"]
    assert 'rel="next"' not in second


def test_a_stale_page_link_is_explained(ann: Pages) -> None:
    response = ann.get("/work?cursor=nonsense")
    assert response.status_code == 400
    assert "This page link is out of date: start again from the first page." in text(response)


# -- a work item -----------------------------------------------------------------------


def test_the_item_page_shows_the_record_the_run_and_the_form(ann: Pages) -> None:
    page = text(ann.get("/work/1"))
    assert "<h1>Triage the ticket</h1>" in page
    assert '<a class="record-title" href="/records/Ticket/1">Printer on fire</a>' in page
    assert '<span class="record-kind">Ticket 1</span>' in page
    assert "<dd>ticket_flow <span" in page and "<dd>triage</dd>" in page
    assert '<p class="instructions">Read the ticket, then say how bad it is.</p>' in page
    assert '<form method="post" action="/work/1/complete"' in page
    severity = field_html(page, "severity", prefix="item-1")
    assert 'aria-required="true"' in severity and '<option value="Major">Major</option>' in severity
    notes = field_html(page, "notes", prefix="item-1")
    assert "aria-required" not in notes  # required only when the formula holds:
    assert "Optional; required when severity = &#39;Major&#39;." in notes
    assert 'step="0.1"' in field_html(page, "hours", prefix="item-1")
    assert 'type="checkbox"' in field_html(page, "followup", prefix="item-1")
    assert '<button type="submit">Complete</button>' in page
    assert 'action="/work/1/reassign"' in page and '<option value="user:bob">' in page
    assert "/claim" not in page and "/release" not in page


def test_a_missing_field_is_shown_at_it_and_nothing_is_completed(ann: Pages, app: Flask) -> None:
    response = ann.post("/work/1/complete", {**TRIAGE, "severity": "", "followup": "true"})
    assert response.status_code == 400
    page = text(response)
    severity = field_html(page, "severity", prefix="item-1")
    assert 'aria-invalid="true"' in severity
    assert '<p class="field-error" id="item-1-severity-error">Severity: is required</p>' in severity
    assert 'value="1.5"' in field_html(page, "hours", prefix="item-1")  # what was typed
    assert "checked" in field_html(page, "followup", prefix="item-1")
    assert work_item(app, "1").status == "Assigned"


def test_a_field_required_by_a_formula_is_checked(ann: Pages, app: Flask) -> None:
    response = ann.post("/work/1/complete", {**TRIAGE, "severity": "Major"})
    assert response.status_code == 400
    notes = field_html(text(response), "notes", prefix="item-1")
    assert "Notes: is required" in notes
    assert '<option value="Major" selected>' in field_html(text(response), "severity", "item-1")
    assert work_item(app, "1").status == "Assigned"


def test_a_bad_number_is_shown_at_its_field(ann: Pages) -> None:
    response = ann.post("/work/1/complete", {**TRIAGE, "hours": "lots"})
    assert response.status_code == 400
    hours = field_html(text(response), "hours", prefix="item-1")
    assert 'aria-invalid="true"' in hours and 'value="lots"' in hours


def test_complete_stores_the_values_and_moves_the_run_on(
    ann: Pages, bob: Pages, app: Flask
) -> None:
    response = ann.post("/work/1/complete", {**TRIAGE, "notes": "Paper jam"})
    assert response.status_code == 302 and response.location == "/work"
    assert "Completed: Triage the ticket." in flashes(ann, "/work")
    item = work_item(app, "1")
    assert item.status == "Completed"
    assert item.outputs is not None
    assert (item.outputs["severity"], item.outputs["notes"], item.outputs["hours"]) == (
        "Minor", "Paper jam", 1.5)  # fmt: skip
    run_jobs(app)
    queues = text(bob.get("/work?scope=queues"))
    assert "Approve the triage" in queues and "Printer on fire" in queues


def test_a_checked_box_is_completed_as_true(ann: Pages, app: Flask) -> None:
    response = ann.post("/work/1/complete", {**TRIAGE, "followup": "true"})
    assert response.status_code == 302, text(response)
    assert work_item(app, "1").outputs["followup"] is True


def test_a_completed_item_is_read_only_with_what_was_submitted(ann: Pages) -> None:
    complete_triage(ann, Seeded({"triage": "1"}), notes="Paper jam")
    page = text(ann.get("/work/1"))
    assert "status-Completed" in page
    assert "Completed by ann on 2026-01-05 09:00 UTC." in page
    # (by the field's label when the service describes a finished item's form; else its name)
    assert re.search(r'<dt>severity</dt><dd><span class="long-text">Minor</span>', page, re.I)
    assert "Paper jam" in page
    assert "/complete" not in page and "/reassign" not in page
    listed = text(ann.get("/work?scope=completed"))
    assert row_ids(listed) == ["1"] and 'Completed <span class="count">1<' in listed


def test_a_second_completion_is_refused_with_a_message(ann: Pages, app: Flask) -> None:
    complete_triage(ann, Seeded({"triage": "1"}))
    response = ann.post("/work/1/complete", {**TRIAGE, "severity": "Major", "notes": "x"})
    assert response.status_code == 302 and response.location == "/work/1"
    assert "is already Completed" in flashes(ann, "/work/1")
    assert work_item(app, "1").outputs["severity"] == "Minor"


def test_a_form_without_the_csrf_token_is_refused(ann: Pages, app: Flask) -> None:
    response = ann.post("/work/1/complete", TRIAGE, token=False)
    assert response.status_code == 400
    assert "Form refused" in text(response)
    assert work_item(app, "1").status == "Assigned"
    assert ann.post("/work/2/claim", {}, token=False).status_code == 400


def test_another_users_item_is_a_403(signed_in: Callable[[str], Pages], app: Flask) -> None:
    dan = signed_in("dan")
    response = dan.get("/work/1")
    assert response.status_code == 403
    assert "Not allowed" in text(response) and "Printer on fire" not in text(response)
    assert dan.post("/work/1/complete", TRIAGE).status_code == 403
    assert work_item(app, "1").status == "Assigned"


def test_an_unknown_item_is_a_404(ann: Pages) -> None:
    response = ann.get("/work/999")
    assert response.status_code == 404
    assert "No work item with id 999." in text(response)


def test_only_a_local_next_page_is_followed(ann: Pages) -> None:
    response = ann.post("/work/1/complete", {**TRIAGE, "next": "https://evil.example/"})
    assert response.location == "/work"


# -- claim and release -----------------------------------------------------------------


def test_a_member_claims_a_queue_item_and_the_other_member_cannot(
    bob: Pages, signed_in: Callable[[str], Pages], app: Flask
) -> None:
    page = text(bob.get("/work/2"))
    assert '<form method="post" action="/work/2/claim"' in page
    response = bob.post("/work/2/claim", {})
    assert response.status_code == 302 and response.location == "/work/2"
    assert "You claimed “review”" in flashes(bob, "/work/2")
    assert row_ids(text(bob.get("/work"))) == ["2"]
    assert work_item(app, "2").claimed_by.name == "bob"

    cat = signed_in("cat")
    assert row_ids(text(cat.get("/work?scope=queues"))) == []
    response = cat.post("/work/2/claim", {"next": "/work?scope=queues"})
    assert response.status_code == 302 and response.location == "/work?scope=queues"
    assert "already claimed by bob" in flashes(cat, "/work?scope=queues")
    assert work_item(app, "2").claimed_by.name == "bob"


def test_claim_by_someone_not_in_the_queue_is_refused(
    signed_in: Callable[[str], Pages], app: Flask
) -> None:
    response = signed_in("dan").post("/work/2/claim", {})
    assert response.status_code == 403
    assert "Not allowed" in text(response)
    assert work_item(app, "2").claimed_by is None


def test_release_gives_the_item_back_to_the_queue(bob: Pages, app: Flask) -> None:
    bob.post("/work/2/claim", {})
    assert '<form method="post" action="/work/2/release"' in text(bob.get("/work/2"))
    response = bob.post("/work/2/release", {})
    assert response.status_code == 302
    assert "You released “review”: it is back with queue tier2." in flashes(bob, "/work/2")
    assert work_item(app, "2").claimed_by is None
    assert row_ids(text(bob.get("/work?scope=queues"))) == ["2"]


def test_an_approval_asks_for_a_decision_and_a_reason_to_reject(bob: Pages, app: Flask) -> None:
    bob.post("/work/2/claim", {})
    page = text(bob.get("/work/2"))
    assert '<h2 id="form-heading">Approve or reject</h2>' in page
    decision = field_html(page, "decision", prefix="item-2")
    assert '<option value="Approved">Approved</option>' in decision
    assert "Required when you reject: say why." in field_html(page, "comment", prefix="item-2")
    response = bob.post("/work/2/complete", {"decision": "Rejected", "comment": ""})
    assert response.status_code == 400
    comment = field_html(text(response), "comment", prefix="item-2")
    assert "Comment: say why the request is rejected" in comment
    response = bob.post("/work/2/complete", {"decision": "Approved", "comment": "Fine"})
    assert response.status_code == 302
    assert work_item(app, "2").outputs == {"decision": "Approved", "comment": "Fine"}


# -- reassign --------------------------------------------------------------------------


def test_reassign_to_a_queue(ann: Pages, bob: Pages, app: Flask) -> None:
    response = ann.post("/work/1/reassign", {"to": "queue:tier2", "reason": "On leave"})
    assert response.status_code == 302 and response.location == "/work"
    assert "“Triage the ticket” is now with queue tier2." in flashes(ann, "/work")
    assert work_item(app, "1").assignee_name == "tier2"
    assert "1" in row_ids(text(bob.get("/work?scope=queues")))


def test_reassign_to_someone_who_cannot_open_the_record_is_refused(ann: Pages, app: Flask) -> None:
    response = ann.post("/work/1/reassign", {"to": "user:dan", "reason": "Busy"})
    assert response.status_code == 409
    page = text(response)
    assert "user:dan cannot open Ticket 1 (dan may not read it)" in page
    assert '<details class="reassign" id="reassign" open>' in page
    assert 'value="user:dan"' in page and ">Busy</textarea>" in page
    assert 'name="force"' not in page  # only admins may force it
    assert work_item(app, "1").assignee_name == "ann"


def test_an_admin_may_reassign_anyway_after_the_refusal(
    signed_in: Callable[[str], Pages], app: Flask
) -> None:
    root = signed_in("root")
    response = root.post("/work/1/reassign", {"to": "user:dan"})
    assert response.status_code == 409
    assert "Reassign even if they cannot open the record" in text(response)
    response = root.post("/work/1/reassign", {"to": "user:dan", "force": "true"})
    assert response.status_code == 302
    assert work_item(app, "1").assignee_name == "dan"


@pytest.mark.parametrize(("to", "message"), [("", "Say whom to give the item to"),
                                             ("user:nobody", "nobody")])  # fmt: skip
def test_a_bad_reassign_target_is_refused(ann: Pages, app: Flask, to: str, message: str) -> None:
    response = ann.post("/work/1/reassign", {"to": to})
    assert response.status_code == 400
    assert message in text(response)
    assert work_item(app, "1").assignee_name == "ann"


def test_only_the_assignee_may_reassign(bob: Pages, app: Flask) -> None:
    assert 'action="/work/2/reassign"' not in text(bob.get("/work/2"))  # not claimed yet
    assert bob.post("/work/2/reassign", {"to": "user:cat"}).status_code == 403
    assert work_item(app, "2").assignee_name == "tier2"


# -- the Work Guide --------------------------------------------------------------------


def guide_html(page: str) -> str:
    """The Work Guide of a record page."""
    start = page.index('<section id="work-guide"')
    return page[start : page.index("</section>", start)]


def test_the_work_guide_is_a_checklist_with_my_items_to_complete(ann: Pages) -> None:
    guide = guide_html(text(ann.get("/records/Ticket/1")))
    assert "<strong>1 item for you</strong> on this record." in guide
    assert re.search(r'<details class="guide-run" id="guide-run-1" open>', guide)
    assert re.search(r'check-InProgress">\s*<span class="mark" aria-hidden="true">▸</span>\s*'
                     r'<span class="check-name">triage</span>', guide)  # fmt: skip
    assert re.search(r'check-NotStarted">\s*<span class="mark" aria-hidden="true">○</span>\s*'
                     r'<span class="check-name">approve</span>', guide)  # fmt: skip
    assert '<form method="post" action="/work/1/complete"' in guide
    assert '<input type="hidden" name="next" value="/records/Ticket/1">' in guide
    assert '<input type="hidden" name="from" value="guide">' in guide
    assert 'href="/work/1?next=/records/Ticket/1"' in guide


def test_complete_in_the_work_guide_returns_to_the_record(ann: Pages, app: Flask) -> None:
    response = ann.post("/work/1/complete", {**TRIAGE, "next": "/records/Ticket/1"})
    assert response.status_code == 302 and response.location == "/records/Ticket/1"
    run_jobs(app)
    page = text(ann.get("/records/Ticket/1"))
    assert "Completed: Triage the ticket." in page
    guide = guide_html(page)
    assert "Nothing on this record is waiting for you." in guide
    assert re.search(r'check-Completed">\s*<span class="mark" aria-hidden="true">✓</span>', guide)
    assert "/complete" not in guide


def test_a_mistake_in_the_work_guide_is_shown_there(ann: Pages, app: Flask) -> None:
    sent = {**TRIAGE, "severity": "", "next": "/records/Ticket/1", "from": "guide"}
    response = ann.post("/work/1/complete", sent)
    assert response.status_code == 400
    page = text(response)
    assert "<h1>Ticket 1</h1>" in page  # the record's page, not the item's
    guide = guide_html(page)
    assert "Severity: is required" in field_html(guide, "severity", prefix="item-1")
    assert 'value="1.5"' in field_html(guide, "hours", prefix="item-1")
    assert work_item(app, "1").status == "Assigned"


def test_the_item_page_opened_from_the_work_guide_leads_back_to_the_record(
    ann: Pages, app: Flask
) -> None:
    page = text(ann.get("/work/1?next=/records/Ticket/1"))
    assert '<input type="hidden" name="next" value="/records/Ticket/1">' in page
    response = ann.post("/work/1/complete", {**TRIAGE, "severity": "", "next": "/records/Ticket/1"})
    assert response.status_code == 400
    assert "<h1>Triage the ticket</h1>" in text(response)  # a mistake: still the item's page
    assert '<input type="hidden" name="next" value="/records/Ticket/1">' in text(response)
    response = ann.post("/work/1/complete", {**TRIAGE, "next": "/records/Ticket/1"})
    assert response.location == "/records/Ticket/1"


def test_queue_items_in_the_work_guide_can_be_claimed(bob: Pages) -> None:
    guide = guide_html(text(bob.get("/records/Ticket/2")))
    assert '<form method="post" action="/work/2/claim"' in guide
    assert "Waiting for a member of queue tier2" in guide
    response = bob.post("/work/2/claim", {"next": "/records/Ticket/2"})
    assert response.location == "/records/Ticket/2"
    guide = guide_html(text(bob.get("/records/Ticket/2")))
    assert "/claim" not in guide and "/complete" in guide


def test_the_next_stages_item_reaches_the_queue_and_its_work_guide(
    ann: Pages, bob: Pages, app: Flask
) -> None:
    complete_triage(ann, Seeded({"triage": "1"}))
    run_jobs(app)
    guide = guide_html(text(bob.get("/records/Ticket/1")))
    assert "<strong>1 item for you</strong>" in guide
    assert re.search(r'check-Completed">\s*<span class="mark" aria-hidden="true">✓</span>\s*'
                     r'<span class="check-name">triage</span>', guide)  # fmt: skip
    assert "Approve the triage" in guide and "/claim" in guide


def test_a_record_without_runs_has_an_empty_work_guide(ann: Pages, app: Flask) -> None:
    with app.app_context(), database.connection_context():
        record_id = current().records.create("Ticket", {"Subject": "Quiet"}, owner="ann")["Id"]
    guide = guide_html(text(ann.get(f"/records/Ticket/{record_id}")))
    assert "No orchestration has run on this record" in guide
