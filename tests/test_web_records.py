"""The record pages through Flask's test client: lists, forms, record pages, access."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from web_support import Pages, Seeded, count, field_html, make_app, record, seed, text

from stageflow.clock import FixedClock
from stageflow.db import database
from stageflow.definitions.deploy import deploy_sources
from stageflow.models import Run

#: A new case with a value for every field type, as a browser sends it.
NEW_CASE = {
    "Subject": "Cannot log in",
    "Details": "Since Monday\nevery time",
    "Priority": "High",
    "Tags": ["web", "mobile"],
    "Amount": "12.50",
    "Urgent": "true",
    "DueDate": "2026-02-01",
    "FollowUpAt": "2026-01-06T10:30",
    "CallAt": "14:15",
    "Email": "ann@example.com",
    "Site": "https://example.com",
    "Account": "5",
    "Agent": "bob",
}


@pytest.fixture
def app(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Flask]:
    app = make_app(tmp_path, database_url, clock, timezone="Europe/Berlin")
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def seeded(app: Flask) -> Seeded:
    return seed(app)


@pytest.fixture
def ann(app: Flask, seeded: Seeded) -> Pages:
    return Pages.signed_in(app, "ann")


@pytest.fixture
def bob(app: Flask, seeded: Seeded) -> Pages:
    return Pages.signed_in(app, "bob")


def row_ids(page: str) -> list[str]:
    """The record ids of a list page, in order."""
    return re.findall(r'<td><a href="/records/\w+/(\w+)">', page)


# -- the index and lists ---------------------------------------------------------------


def test_index_links_every_object(ann: Pages) -> None:
    page = text(ann.get("/records"))
    assert '<a href="/records/Account">Account</a>' in page
    assert '<a href="/records/Case">Support case</a>' in page


def test_list_holds_only_the_records_the_user_may_read(
    ann: Pages, bob: Pages, seeded: Seeded
) -> None:
    anns = text(ann.get("/records/Case"))
    assert row_ids(anns) == [seeded["first"], seeded["second"], seeded["third"]]
    assert "Bob&#39;s secret case" not in anns
    bobs = text(bob.get("/records/Case"))
    assert row_ids(bobs) == [seeded["bobs"]]
    assert "Printer on fire" not in bobs
    admin = Pages(ann.client.application.test_client())
    admin.login("root")
    assert len(row_ids(text(admin.get("/records/Case")))) == 4


def test_list_shows_values_as_people_read_them(ann: Pages, seeded: Seeded) -> None:
    page = text(ann.get("/records/Case"))
    assert "<td>120.00</td>" in page  # scale 2
    assert "<td>Yes</td>" in page  # the checkbox
    assert "<td>Smoke</td>" not in page  # long text stays on the record's page
    assert 'href="/records/Case/new">New Support case</a>' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Priority=High", ["first", "third"]),
        ("Priority=High&Amount=5", ["third"]),
        ("Urgent=true", ["first"]),
        ("Urgent=", ["first", "second", "third"]),  # blank: no filter
        ("Subject=Bad+invoice&Priority=", ["second"]),
        ("Tags=billing", ["second"]),
        ("Owner=ann", ["first", "second", "third"]),
        ("Owner=bob", []),
    ],
)
def test_list_filters(ann: Pages, seeded: Seeded, query: str, expected: list[str]) -> None:
    page = text(ann.get(f"/records/Case?{query}"))
    assert row_ids(page) == [seeded[key] for key in expected]
    if not expected:
        assert "No records match these filters." in page


def test_list_filters_keep_their_values(ann: Pages) -> None:
    page = text(ann.get("/records/Case?Priority=High&Subject=App"))
    assert '<option value="High" selected>High</option>' in field_html(page, "Priority")
    assert 'value="App"' in field_html(page, "Subject")


def test_a_bad_filter_is_shown_at_its_input(ann: Pages) -> None:
    response = ann.get("/records/Case?Amount=lots")
    assert response.status_code == 400
    amount = field_html(text(response), "Amount")
    assert "&#39;lots&#39; is not a valid Number value" in amount
    assert 'aria-invalid="true"' in amount


def test_list_sorts_by_a_column_and_reverses_on_a_second_click(ann: Pages, seeded: Seeded) -> None:
    page = text(ann.get("/records/Case?sort=Subject"))
    assert row_ids(page) == [seeded["third"], seeded["second"], seeded["first"]]
    assert 'href="/records/Case?sort=-Subject"' in page  # the header link reverses it
    assert 'aria-sort="ascending"' in page
    page = text(ann.get("/records/Case?sort=-Subject&Priority=High"))
    assert row_ids(page) == [seeded["first"], seeded["third"]]
    assert 'href="/records/Case?Priority=High&amp;sort=Subject"' in page  # filters stay
    assert 'name="sort" value="-Subject"' in page  # and filtering keeps the order
    page = text(ann.get("/records/Case?sort=-Amount"))
    assert row_ids(page) == [seeded["first"], seeded["third"], seeded["second"]]


def test_an_unknown_sort_field_is_refused(ann: Pages) -> None:
    response = ann.get("/records/Case?sort=Colour")
    assert response.status_code == 400
    assert "Case has no field &#39;Colour&#39;" in text(response)


def test_list_pages_follow_the_next_link(ann: Pages, app: Flask, seeded: Seeded) -> None:
    seen: list[str] = []
    url: str | None = "/records/Case?limit=2&sort=Subject"
    while url:
        page = text(ann.get(url))
        seen += row_ids(page)
        found = re.search(r'<a href="([^"]+)" rel="next">', page)
        url = found.group(1).replace("&amp;", "&") if found else None
        assert url is None or ("sort=Subject" in url and "limit=2" in url)
    assert seen == [seeded["third"], seeded["second"], seeded["first"]]


def test_a_stale_page_link_is_explained(ann: Pages) -> None:
    response = ann.get("/records/Case?cursor=nonsense")
    assert response.status_code == 400
    assert "This page link is out of date" in text(response)


@pytest.mark.parametrize("url", ["/records/Nope", "/records/Nope/new", "/records/Nope/1",
                                 "/records/Case/999", "/records/Case/abc"])  # fmt: skip
def test_unknown_objects_and_records_are_404_pages(ann: Pages, url: str) -> None:
    response = ann.get(url)
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in text(response)


# -- the new record form ---------------------------------------------------------------


def test_new_form_has_an_input_for_each_field_type(ann: Pages) -> None:
    page = text(ann.get("/records/Case/new"))
    assert "novalidate" in page and 'name="csrf_token"' in page
    expected = {
        "Subject": '<input type="text"',
        "Details": "<textarea",
        "Priority": '<select id="field-Priority"',
        "Tags": '<select multiple size="3" id="field-Tags"',
        "Amount": '<input type="number" value="" step="0.01"',
        "Urgent": '<input type="checkbox" value="true"',
        "DueDate": '<input type="date"',
        "FollowUpAt": '<input type="datetime-local"',
        "CallAt": '<input type="time"',
        "Email": '<input type="email"',
        "Site": '<input type="url"',
        "Account": '<input type="text"',
        "Agent": '<input type="text"',
    }
    for name, markup in expected.items():
        assert markup in field_html(page, name), name
    subject = field_html(page, "Subject")
    assert 'aria-required="true"' in subject and 'title="required"' in subject
    assert "Left blank: Low" in field_html(page, "Priority")
    assert '<option value="mobile">mobile</option>' in field_html(page, "Tags")


def test_create_a_record(ann: Pages, app: Flask, clock: FixedClock) -> None:
    response = ann.post("/records/Case/new", NEW_CASE)
    assert response.status_code == 302
    new_id = response.location.rsplit("/", 1)[1]
    assert response.location == f"/records/Case/{new_id}"
    stored = record(app, "Case", new_id)
    assert {k: stored.get(k) for k in NEW_CASE} == {
        **NEW_CASE,
        "Tags": "web;mobile",
        "Amount": 12.5,
        "Urgent": True,
        "FollowUpAt": "2026-01-06T09:30:00+00:00",  # 10:30 in Berlin
        "CallAt": "14:15:00",
    }
    assert stored["Owner"] == "ann" and stored["CreatedAt"] == clock.now().isoformat()
    page = text(ann.get(response.location))
    assert "Support case " + new_id + " created." in page


def test_values_are_escaped(ann: Pages) -> None:
    url = ann.post("/records/Case/new", {"Subject": '<b>"bold"</b>'}).location
    for page in (text(ann.get(url)), text(ann.get("/records/Case"))):
        assert "<b>" not in page
        assert "&lt;b&gt;&#34;bold&#34;&lt;/b&gt;" in page


def test_a_new_record_takes_its_defaults(ann: Pages, app: Flask) -> None:
    response = ann.post("/records/Case/new", {"Subject": "Only a subject", "Priority": ""})
    stored = record(app, "Case", response.location.rsplit("/", 1)[1])
    assert stored["Priority"] == "Low" and stored["Urgent"] is False


def test_bad_values_are_shown_at_their_fields_and_nothing_is_saved(ann: Pages, app: Flask) -> None:
    before = count(app, "Case")
    bad = {**NEW_CASE, "Subject": "", "Amount": "lots", "Priority": "Urgent", "DueDate": "soon"}
    response = ann.post("/records/Case/new", bad)
    assert response.status_code == 400
    page = text(response)
    assert "Subject: is required" in field_html(page, "Subject")
    assert "&#39;lots&#39; is not a valid Number value" in field_html(page, "Amount")
    assert "&#39;Urgent&#39; is not one of Low, High" in field_html(page, "Priority")
    assert "&#39;soon&#39; is not a valid Date value" in field_html(page, "DueDate")
    assert "is not" not in field_html(page, "Email")
    # what was typed is kept
    assert 'value="lots"' in field_html(page, "Amount")
    assert 'value="ann@example.com"' in field_html(page, "Email")
    assert "Since Monday\nevery time</textarea>" in field_html(page, "Details")
    assert '<option value="web" selected>' in field_html(page, "Tags")
    assert " checked" in field_html(page, "Urgent")
    assert 'value="2026-01-06T10:30"' in field_html(page, "FollowUpAt")
    assert count(app, "Case") == before


def test_a_broken_validation_rule_is_shown_above_the_form(ann: Pages, app: Flask) -> None:
    before = count(app, "Case")
    response = ann.post("/records/Case/new", {"Subject": "Urgent", "Urgent": "true"})
    assert response.status_code == 400
    assert '<p class="form-error" role="alert">An urgent case needs details</p>' in text(response)
    assert count(app, "Case") == before


def test_a_new_record_without_the_csrf_token_is_refused(ann: Pages, app: Flask) -> None:
    before = count(app, "Case")
    response = ann.post("/records/Case/new", NEW_CASE, token=False)
    assert response.status_code == 400
    assert "Form refused" in text(response)
    assert count(app, "Case") == before


# -- a record's page -------------------------------------------------------------------


def test_record_page_shows_values_runs_and_the_work_guide(ann: Pages, seeded: Seeded) -> None:
    page = text(ann.get(f"/records/Case/{seeded['first']}"))
    assert f"<h1>Support case {seeded['first']}</h1>" in page
    assert re.search(r"<dt>Subject</dt>\s*<dd>Printer on fire</dd>", page)
    assert re.search(r"<dt>Amount</dt>\s*<dd>120.00</dd>", page)
    assert re.search(r"<dt>Urgent</dt>\s*<dd>Yes</dd>", page)
    assert re.search(r"<dt>Owner</dt><dd>ann</dd>", page)
    assert re.search(r"<dt>Created</dt><dd>2026-01-05 10:00 CET</dd>", page)  # Berlin time
    runs = page[page.index('id="runs"') : page.index('id="work-guide"')]
    assert re.search(r'<a href="/api/runs/1">1</a>', runs)
    assert "triage <span" in runs and "InProgress" in runs
    assert re.search(r"<td>review</td>", runs)  # the current stage
    assert 'review <span class="muted">InProgress</span>' in runs
    assert 'wrap_up <span class="muted">NotStarted</span>' in runs
    assert '<section id="work-guide"' in page
    assert '<details class="edit" id="edit">' in page  # ann may edit her case


def test_a_record_without_runs_says_so(ann: Pages, seeded: Seeded) -> None:
    page = text(ann.get(f"/records/Case/{seeded['second']}"))
    assert "No orchestration has run on this record." in page


def test_lookups_link_to_their_record(ann: Pages, app: Flask, seeded: Seeded) -> None:
    created = ann.post("/records/Case/new", {"Subject": "Linked", "Account": seeded["account"]})
    page = text(ann.get(created.location))
    assert f'<a href="/records/Account/{seeded["account"]}">{seeded["account"]}</a>' in page


def test_edit_form_is_prefilled(ann: Pages, app: Flask) -> None:
    created = ann.post("/records/Case/new", NEW_CASE)
    page = text(ann.get(created.location))
    assert 'value="Cannot log in"' in field_html(page, "Subject")
    assert 'value="12.5"' in field_html(page, "Amount")
    assert " checked" in field_html(page, "Urgent")
    assert '<option value="mobile" selected>' in field_html(page, "Tags")
    assert '<option value="billing">' in field_html(page, "Tags")
    assert 'value="2026-01-06T10:30:00"' in field_html(page, "FollowUpAt")  # Berlin time
    assert 'value="14:15:00"' in field_html(page, "CallAt")


def test_edit_saves_what_changed(ann: Pages, app: Flask, clock: FixedClock) -> None:
    url = ann.post("/records/Case/new", NEW_CASE).location
    created = record(app, "Case", url.rsplit("/", 1)[1])
    clock.advance(60)
    changed = {**NEW_CASE, "Priority": "Low", "Urgent": "", "Tags": ["billing"], "Amount": "7"}
    del changed["Urgent"]  # an unchecked box is not sent
    response = ann.post(url, changed)
    assert response.status_code == 302 and response.location == url
    stored = record(app, "Case", url.rsplit("/", 1)[1])
    assert (stored["Priority"], stored["Urgent"], stored["Tags"], stored["Amount"]) == (
        "Low", False, "billing", 7)  # fmt: skip
    assert stored["FollowUpAt"] == created["FollowUpAt"]  # unchanged, not shifted
    assert stored["UpdatedAt"] == clock.now().isoformat()
    assert "saved." in text(ann.get(url))


def test_saving_an_unchanged_form_changes_nothing(
    ann: Pages, app: Flask, clock: FixedClock
) -> None:
    url = ann.post("/records/Case/new", NEW_CASE).location
    clock.advance(60)
    unchanged = {**NEW_CASE, "FollowUpAt": "2026-01-06T10:30:00", "CallAt": "14:15:00"}
    assert ann.post(url, unchanged).status_code == 302
    assert "Nothing was changed." in text(ann.get(url))
    stored = record(app, "Case", url.rsplit("/", 1)[1])
    assert stored["UpdatedAt"] == stored["CreatedAt"]


def test_edit_errors_are_shown_and_nothing_is_saved(ann: Pages, app: Flask, seeded: Seeded) -> None:
    url = f"/records/Case/{seeded['third']}"
    before = record(app, "Case", seeded["third"])
    response = ann.post(url, {"Subject": "App crashes", "Priority": "High", "Amount": "x"})
    assert response.status_code == 400
    page = text(response)
    assert '<details class="edit" id="edit" open>' in page
    assert "&#39;x&#39; is not a valid Number value" in field_html(page, "Amount")
    assert 'value="x"' in field_html(page, "Amount")
    assert record(app, "Case", seeded["third"]) == before


def test_an_edit_without_the_csrf_token_is_refused(ann: Pages, app: Flask, seeded: Seeded) -> None:
    before = record(app, "Case", seeded["third"])
    response = ann.post(f"/records/Case/{seeded['third']}", {"Subject": "Hijacked"}, token=False)
    assert response.status_code == 400
    assert record(app, "Case", seeded["third"]) == before


# -- access ----------------------------------------------------------------------------


def test_a_record_the_user_may_not_read_is_a_403_without_its_data(
    bob: Pages, app: Flask, seeded: Seeded
) -> None:
    url = f"/records/Case/{seeded['first']}"
    response = bob.get(url)
    assert response.status_code == 403
    page = text(response)
    assert "<h1>Not allowed</h1>" in page
    assert "Printer on fire" not in page and "Smoke" not in page and "/api/runs/" not in page
    before = record(app, "Case", seeded["first"])
    assert bob.post(url, {"Subject": "Mine now"}).status_code == 403
    assert record(app, "Case", seeded["first"]) == before


def test_a_record_the_user_may_only_read_has_no_edit_form(
    bob: Pages, app: Flask, seeded: Seeded
) -> None:
    url = f"/records/Account/{seeded['account']}"
    page = text(bob.get(url))
    assert re.search(r"<dt>Name</dt>\s*<dd>Acme</dd>", page)
    assert 'id="edit"' not in page and 'name="Name"' not in page
    assert bob.post(url, {"Name": "Acme"}).status_code == 403  # even changing nothing
    response = bob.post(url, {"Name": "Bob's now"})
    assert response.status_code == 403
    assert "You may not change Account" in text(response)
    assert record(app, "Account", seeded["account"])["Name"] == "Acme"


def test_an_admin_may_edit_any_record(app: Flask, seeded: Seeded) -> None:
    root = Pages(app.test_client())
    root.login("root")
    url = f"/records/Case/{seeded['bobs']}"
    assert 'id="edit"' in text(root.get(url))
    assert root.post(url, {"Subject": "Seen by root", "Priority": "High"}).status_code == 302
    assert record(app, "Case", seeded["bobs"])["Subject"] == "Seen by root"


TRIGGERED = """
kind: orchestration
name: on_high
trigger:
  type: record
  object: Case
  when: created_or_updated
  condition: ISPICKVAL(Priority, "High")
  only_when_changed: true
stages:
  - name: note
    steps:
      - {name: say, flow: say_done}
"""


def test_creating_and_editing_through_the_pages_fire_triggers(ann: Pages, app: Flask) -> None:
    with app.app_context(), database.connection_context():
        sf = app.extensions["stageflow"]
        deploy_sources([("t.yaml", TRIGGERED)], step_types=sf.registry.step_types, activate=True)
    created = ann.post("/records/Case/new", {"Subject": "Login fails", "Priority": "Low"})
    case_url = created.location
    assert "on_high" not in text(ann.get(case_url))
    edited = ann.post(case_url, {"Subject": "Login fails", "Priority": "High"})
    assert edited.status_code == 302
    page = text(ann.get(case_url))
    assert "on_high" in page  # the run the change started, listed on the record's page
    ann.post(case_url, {"Subject": "Login still fails", "Priority": "High"})  # true → true
    with app.app_context(), database.connection_context():
        assert Run.select().where(Run.record_id == case_url.rsplit("/", 1)[1]).count() == 1
