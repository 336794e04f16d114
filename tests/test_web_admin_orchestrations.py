"""The admin pages for orchestrations: the list, one orchestration (versions, changes,
diagram, activation) and the deploy page, with who may see them and every form."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from web_support import DEFINITIONS, Pages, make_app, seed, text

from stageflow.clock import FixedClock
from stageflow.core import current
from stageflow.db import database
from stageflow.definitions.deploy import deploy_sources
from stageflow.definitions.errors import DefinitionError
from stageflow.definitions.spec import Position
from stageflow.models import Definition, DefinitionVersion, User
from stageflow.web.deploy_listing import MAX_WHOLE_LINES, listing
from stageflow.web.version_diff import ADDED, GAP, REMOVED, SAME, diff_lines

#: ``triage`` (of :data:`web_support.DEFINITIONS`) with a label and a third stage: its
#: version 2, deployed by root and not activated.
TRIAGE_V2 = """
kind: orchestration
name: triage
label: Triage a case
stages:
  - name: review
    steps:
      - {name: look, flow: look_form, assignee: '"user:ann"'}
  - name: wrap_up
    steps:
      - {name: say, flow: say_done}
  - name: follow_up
    entry: $Steps.look.Status = "Completed"
    steps:
      - {name: again, flow: say_done}
"""

#: A new orchestration for the deploy page; line 9 holds an unknown flow in BAD_PASTE.
GOOD_PASTE = """\
kind: flow
name: check_form
type: form
fields:
  - {name: ok, type: checkbox}
---
kind: orchestration
name: check_case
stages:
  - name: check
    steps:
      - {name: check, flow: check_form, assignee: '"user:bob"', sla: {due: 4h}}
"""
BAD_PASTE = GOOD_PASTE.replace("flow: check_form, assignee", "flow: chek_form, assignee")
BAD_LINE = 12  # the line of chek_form
BAD_COLUMN = GOOD_PASTE.splitlines()[BAD_LINE - 1].index("check_form") + 1


@pytest.fixture
def app(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Flask]:
    app = make_app(tmp_path, database_url, clock)
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def seeded(app: Flask) -> None:
    """:func:`web_support.seed` (``triage`` v1 active, with a run), then ``triage`` v2."""
    seed(app)
    with app.app_context(), database.connection_context():
        root = User.get(User.name == "root")
        deploy_sources([("triage.yaml", TRIAGE_V2)], step_types=current().registry.step_types,
                       actor=root)  # fmt: skip


@pytest.fixture
def signed_in(app: Flask, seeded: None) -> Callable[[str], Pages]:
    return lambda name: Pages.signed_in(app, name)


@pytest.fixture
def admin(signed_in: Callable[[str], Pages]) -> Pages:
    return signed_in("root")


def versions(app: Flask, name: str, kind: str = "orchestration") -> dict[int, bool]:
    """A definition's versions as stored: number → active."""
    with app.app_context(), database.connection_context():
        query = (
            DefinitionVersion.select(DefinitionVersion.version, DefinitionVersion.active)
            .join(Definition)
            .where((Definition.kind == kind) & (Definition.name == name))
        )
        return {row.version: bool(row.active) for row in query}


def stored_versions(app: Flask) -> int:
    """How many definition versions are stored in all."""
    with app.app_context(), database.connection_context():
        return DefinitionVersion.select().count()


def row_of(page: str, start: str) -> str:
    """The table row of a page that holds ``start``."""
    at = page.index(start)
    return page[page.rindex("<tr", 0, at) : page.index("</tr>", at)]


def cells(row: str) -> dict[str, str]:
    """A row's cells by their label, as text."""
    found = re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', row, re.DOTALL)
    return {label: " ".join(re.sub(r"<[^>]+>", " ", html).split()) for label, html in found}


# -- who may see them ------------------------------------------------------------------

PAGES = [
    "/admin/orchestrations",
    "/admin/orchestrations/triage",
    "/admin/orchestrations/triage?a=1&b=2",
    "/admin/orchestrations/triage/diagram.svg",
    "/admin/deploy",
]
FORMS = [
    ("/admin/orchestrations/triage/activate", {"version": "2"}),
    ("/admin/orchestrations/triage/deactivate", {}),
    ("/admin/deploy", {"definitions": GOOD_PASTE, "activate": "true"}),
]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_people_are_sent_to_login(app: Flask, seeded: None, url: str) -> None:
    response = Pages(app.test_client()).get(url)
    assert response.status_code == 302
    location = urlsplit(response.location)
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [url]  # and back here after signing in


@pytest.mark.parametrize(("url", "data"), FORMS)
def test_anonymous_forms_change_nothing(
    app: Flask, seeded: None, url: str, data: dict[str, str]
) -> None:
    response = Pages(app.test_client()).post(url, data)
    assert response.status_code == 302 and response.location.startswith("/login")
    assert versions(app, "triage") == {1: True, 2: False}
    assert versions(app, "check_case") == {}


@pytest.mark.parametrize("url", PAGES)
def test_other_users_get_the_403_page(signed_in: Callable[[str], Pages], url: str) -> None:
    response = signed_in("ann").get(url)
    assert response.status_code == 403
    assert "Not allowed" in text(response)
    assert "<svg" not in text(response)


@pytest.mark.parametrize(("url", "data"), FORMS)
def test_other_users_forms_are_refused(
    app: Flask, signed_in: Callable[[str], Pages], url: str, data: dict[str, str]
) -> None:
    response = signed_in("ann").post(url, data)
    assert response.status_code == 403
    assert versions(app, "triage") == {1: True, 2: False}
    assert versions(app, "check_case") == {}


@pytest.mark.parametrize(("url", "data"), FORMS)
def test_forms_without_the_csrf_token_are_refused(
    app: Flask, admin: Pages, url: str, data: dict[str, str]
) -> None:
    response = admin.post(url, data, token=False)
    assert response.status_code == 400
    assert "Form refused" in text(response)
    forged = admin.client.post(url, data={**data, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert versions(app, "triage") == {1: True, 2: False}
    assert versions(app, "check_case") == {}


# -- the list --------------------------------------------------------------------------


def test_the_list_shows_each_orchestration_with_its_versions_and_runs(admin: Pages) -> None:
    page = text(admin.get("/admin/orchestrations"))
    row = cells(row_of(page, '<a href="/admin/orchestrations/triage">triage</a>'))
    assert row["Active"] == "v1" and row["Latest"].startswith("v2 not active")
    assert (row["In progress"], row["Halted"], row["Runs"]) == ("1", "0", "1")
    assert '<a href="/admin/orchestrations/triage?version=2">v2</a>' in page
    assert '<a href="/api/runs?orchestration=triage"' in page
    assert '<a class="button" href="/admin/deploy">Deploy definitions</a>' in page


def test_the_list_has_flows_objects_and_calendars_in_their_sections(admin: Pages) -> None:
    page = text(admin.get("/admin/orchestrations"))
    flows = page[page.index('id="flows"') : page.index('id="objects"')]
    assert cells(row_of(flows, "look_form"))["Step type"] == "form"
    assert cells(row_of(flows, "say_done"))["Step type"] == "log"
    objects = page[page.index('id="objects"') : page.index('id="calendars"')]
    assert '<a href="/records/Case">Case</a>' in objects and "Support case" in objects
    assert cells(row_of(objects, "/records/Account"))["Record source"] == "builtin"
    assert "No calendars deployed yet." in page


def test_the_list_reads_run_counts_in_one_query_however_many_orchestrations(
    app: Flask, admin: Pages, caplog: pytest.LogCaptureFixture
) -> None:
    def queries() -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            assert admin.get("/admin/orchestrations").status_code == 200
        return sum(1 for r in caplog.records if r.name == "peewee")

    before = queries()
    assert before > 0  # the queries are seen
    more = "\n---\n".join(
        f"kind: orchestration\nname: extra_{i}\nstages:\n  - name: s\n    steps:\n"
        "      - {name: say, flow: say_done}"
        for i in range(5)
    )
    with app.app_context(), database.connection_context():
        sf = current()
        deploy_sources([("more.yaml", more)], step_types=sf.registry.step_types, activate=True)
        for i in range(5):
            sf.engine.launch(f"extra_{i}", actor="root")
    assert queries() == before
    page = text(admin.get("/admin/orchestrations"))
    assert cells(row_of(page, ">extra_3</a>"))["Runs"] == "1"


# -- one orchestration -----------------------------------------------------------------


def test_the_page_shows_the_active_versions_diagram_and_the_history(admin: Pages) -> None:
    page = text(admin.get("/admin/orchestrations/triage"))
    assert "Active: <strong>version 1</strong>" in page and "Latest: version 2." in page
    assert re.search(r"<h2 id=\"diagram-heading\">Version 1 <span[^>]*>active</span>", page)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="sfd"' in page
    assert 'data-stage="review"' in page and 'data-stage="wrap_up"' in page
    assert 'data-step="look"' in page and 'data-stage="follow_up"' not in page
    assert "look_form · form" in page and "assignee" in page
    assert "name: triage" in page  # the YAML of version 1
    v2 = cells(row_of(page, 'href="/admin/orchestrations/triage?version=2">v2</a>'))
    assert v2["By"] == "root" and v2["From"] == "triage.yaml" and v2["Active"] == "No"
    assert re.fullmatch(r"[0-9a-f]{12}", v2["Content hash"])
    assert (v2["In progress"], v2["Runs"]) == ("0", "0")
    v1 = cells(row_of(page, 'href="/admin/orchestrations/triage?version=1">v1</a>'))
    assert v1["By"] == "—" and v1["Active"] == "active" and v1["Runs"] == "1"
    assert 'action="/admin/orchestrations/triage/deactivate"' in page
    assert '<input type="hidden" name="version" value="2">' in page  # activate v2
    assert 'href="/admin/orchestrations/triage?a=1&amp;b=2#compare"' in page


def test_another_version_is_shown_when_asked_for(admin: Pages) -> None:
    page = text(admin.get("/admin/orchestrations/triage?version=2"))
    assert '<h2 id="diagram-heading">Version 2</h2>' in page
    assert 'data-stage="follow_up"' in page and "Triage a case" in page
    assert 'entry </tspan><tspan class="sfd-code">$Steps.look.Status =' in page


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/admin/orchestrations/nothing", "No orchestration named &#39;nothing&#39; is deployed."),
        ("/admin/orchestrations/look_form", "No orchestration named &#39;look_form&#39;"),
        ("/admin/orchestrations/triage?version=3", "Orchestration triage has no version 3."),
        ("/admin/orchestrations/triage?version=two", "Orchestration triage has no version two."),
        ("/admin/orchestrations/triage?a=1&b=9", "Orchestration triage has no version 9."),
        ("/admin/orchestrations/triage/diagram.svg?version=0", "has no version 0."),
    ],
)
def test_unknown_orchestrations_and_versions_are_not_found(
    admin: Pages, url: str, message: str
) -> None:
    response = admin.get(url)
    assert response.status_code == 404
    assert message in text(response)


def test_the_changes_between_two_versions(admin: Pages) -> None:
    page = text(admin.get("/admin/orchestrations/triage?a=1&b=2"))
    assert "From version 1 to version 2" in page
    diff = page[page.index('<table class="diff"') : page.index("</table>", page.index("diff"))]
    assert re.search(r'<tr class="diff-added">.*?<code>label: Triage a case</code>', diff, re.S)
    assert re.search(r'<tr class="diff-added">.*?<code>  - name: follow_up</code>', diff, re.S)
    assert '<tr class="diff-same">' in diff
    assert '<option value="1" selected>' in page and '<option value="2" selected>' in page
    backwards = text(admin.get("/admin/orchestrations/triage?a=2&b=1"))
    assert re.search(r'<tr class="diff-removed">.*?<code>label: Triage a case</code>', backwards,
                     re.S)  # fmt: skip
    same = text(admin.get("/admin/orchestrations/triage?a=2&b=2"))
    assert "The two versions have the same YAML." in same


def test_the_diagram_alone_is_an_svg_file(admin: Pages) -> None:
    response = admin.get("/admin/orchestrations/triage/diagram.svg?version=2")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert 'filename="triage-v2.svg"' in response.headers["Content-Disposition"]
    body = text(response)
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg')
    assert 'data-stage="follow_up"' in body


# -- activating ------------------------------------------------------------------------


def test_an_admin_activates_another_version(app: Flask, admin: Pages) -> None:
    response = admin.post("/admin/orchestrations/triage/activate", {"version": "2"})
    assert response.status_code == 302
    assert response.location == "/admin/orchestrations/triage#versions"
    assert versions(app, "triage") == {1: False, 2: True}
    page = text(admin.get(response.location))
    assert "Version 2 of triage is active: new runs use it" in page
    assert "Active: <strong>version 2</strong>" in page
    again = admin.post("/admin/orchestrations/triage/activate", {"version": "2"})
    assert "Version 2 of triage is already the active one." in text(admin.get(again.location))
    admin.post("/admin/orchestrations/triage/activate", {"version": "1"})
    assert versions(app, "triage") == {1: True, 2: False}


@pytest.mark.parametrize(
    ("version", "message"),
    [("9", "Orchestration triage has no version 9: nothing changed."),
     ("", "Choose a version of triage to activate."),
     ("-1", "Choose a version of triage to activate.")],
)  # fmt: skip
def test_activating_a_version_that_is_not_there_changes_nothing(
    app: Flask, admin: Pages, version: str, message: str
) -> None:
    response = admin.post("/admin/orchestrations/triage/activate", {"version": version})
    assert response.status_code == 302
    page = text(admin.get(response.location))
    assert f'<p class="flash flash-error">{message}</p>' in page
    assert versions(app, "triage") == {1: True, 2: False}


def test_an_admin_deactivates_and_no_new_runs_start(app: Flask, admin: Pages) -> None:
    response = admin.post("/admin/orchestrations/triage/deactivate", {})
    assert response.status_code == 302
    assert response.location == "/admin/orchestrations/triage#versions"
    assert versions(app, "triage") == {1: False, 2: False}
    page = text(admin.get(response.location))
    assert "triage is deactivated: no new runs start" in page
    assert "No active version" in page
    assert '<h2 id="diagram-heading">Version 2</h2>' in page  # the latest, then
    listed = text(admin.get("/admin/orchestrations"))
    assert cells(row_of(listed, ">triage</a>"))["Active"] == "none"
    again = admin.post("/admin/orchestrations/triage/deactivate", {})
    assert "triage has no active version: nothing changed." in text(admin.get(again.location))
    admin.post("/admin/orchestrations/triage/activate", {"version": "1"})
    assert versions(app, "triage") == {1: True, 2: False}


def test_activating_an_unknown_orchestration_is_not_found(app: Flask, admin: Pages) -> None:
    assert admin.post("/admin/orchestrations/nothing/activate", {"version": "1"}).status_code == 404
    assert admin.post("/admin/orchestrations/nothing/deactivate", {}).status_code == 404


# -- deploying -------------------------------------------------------------------------


def test_the_deploy_form(admin: Pages) -> None:
    page = text(admin.get("/admin/deploy"))
    assert 'enctype="multipart/form-data"' in page
    assert '<textarea id="deploy-definitions" name="definitions"' in page
    assert '<input type="file" id="deploy-files" name="files" multiple' in page
    assert re.search(r'<input type="checkbox" id="deploy-activate" name="activate" value="true"'
                     r'[^>]*>', page)  # fmt: skip
    assert "Deployed</h2>" not in page


def test_a_definition_with_an_error_is_shown_at_its_line_and_nothing_changes(
    app: Flask, admin: Pages
) -> None:
    before = stored_versions(app)
    response = admin.post("/admin/deploy", {"definitions": BAD_PASTE, "activate": "true"})
    assert response.status_code == 400
    page = text(response)
    where = f"pasted.yaml:{BAD_LINE}:{BAD_COLUMN}"
    assert "Nothing was deployed: 1 error" in page
    assert (f'<a href="#src-1-line-{BAD_LINE}"><code>{where}</code></a>: '
            "unknown flow &#39;chek_form&#39;") in page  # fmt: skip
    line = row_of(page, f'id="src-1-line-{BAD_LINE}"')
    assert 'class="source-error"' in line
    assert f'<th scope="row" class="line-number">{BAD_LINE}</th>' in line
    assert "flow: chek_form" in line
    assert f"<p>column {BAD_COLUMN}: unknown flow &#39;chek_form&#39;" in line
    assert 'class="source-error"' not in row_of(page, f'id="src-1-line-{BAD_LINE - 1}"')
    # What was pasted is still in the form, escaped; the checkbox still checked.
    assert "flow: chek_form, assignee: &#39;&#34;user:bob&#34;&#39;" in page
    assert re.search(r'name="activate" value="true"[^>]*checked', page)
    # Nothing was deployed, not even the flow that was right.
    assert stored_versions(app) == before
    assert versions(app, "check_form", "flow") == {}


def test_every_error_is_listed_in_order(app: Flask, admin: Pages) -> None:
    pasted = BAD_PASTE.replace("type: form", "type: fourm")
    page = text(admin.post("/admin/deploy", {"definitions": pasted}))
    assert "Nothing was deployed: 2 errors" in page
    listed = re.findall(r"<code>(pasted\.yaml:\d+:\d+)</code></a>", page)
    assert listed == ["pasted.yaml:3:7", f"pasted.yaml:{BAD_LINE}:{BAD_COLUMN}"]
    assert 'class="source-error"' in row_of(page, 'id="src-1-line-3"')


def test_a_yaml_syntax_error_at_the_end_of_the_text_is_shown(admin: Pages) -> None:
    page = text(admin.post("/admin/deploy", {"definitions": "kind: flow\nname: [\n"}))
    assert "pasted.yaml:3:1: invalid YAML" in re.sub(r"</?code>|</?a[^>]*>", "", page)
    assert 'class="source-error"' in row_of(page, 'id="src-1-line-3"')


def test_a_good_deploy_lists_what_it_deployed_once(app: Flask, admin: Pages) -> None:
    response = admin.post("/admin/deploy", {"definitions": GOOD_PASTE, "activate": "true"})
    assert response.status_code == 302 and response.location == "/admin/deploy"
    page = text(admin.get("/admin/deploy"))
    assert "Deployed 2 definitions: 2 new versions, 0 unchanged." in page
    orchestration = cells(row_of(page, ">check_case</a>"))
    assert orchestration == {"Kind": "orchestration", "Name": "check_case", "Version": "1",
                             "Change": "new version", "Active": "Yes"}  # fmt: skip
    assert '<a href="/admin/orchestrations/check_case?version=1">check_case</a>' in page
    assert '<a href="/admin/orchestrations#flows">check_form</a>' in page
    assert versions(app, "check_case") == {1: True}
    assert "Deployed</h2>" not in text(admin.get("/admin/deploy"))  # shown once
    with app.app_context(), database.connection_context():
        created_by = DefinitionVersion.select().order_by(DefinitionVersion.id.desc()).first()
        assert created_by.created_by.name == "root" and created_by.source == "pasted.yaml"
    # The same again: nothing new.
    admin.post("/admin/deploy", {"definitions": GOOD_PASTE})
    page = text(admin.get("/admin/deploy"))
    assert "Deployed 2 definitions: 0 new versions, 2 unchanged." in page
    assert cells(row_of(page, ">check_case</a>"))["Change"] == "unchanged"


def test_without_activate_a_new_orchestration_waits_to_be_activated(
    app: Flask, admin: Pages
) -> None:
    admin.post("/admin/deploy", {"definitions": GOOD_PASTE})
    page = text(admin.get("/admin/deploy"))
    assert cells(row_of(page, ">check_case</a>"))["Active"] == "No"
    assert versions(app, "check_case") == {1: False}
    assert versions(app, "check_form", "flow") == {1: True}  # flows take effect at once
    page = text(admin.get("/admin/orchestrations/check_case"))
    assert "No active version" in page and 'data-step="check"' in page


def test_uploaded_files_are_deployed_with_the_pasted_text(app: Flask, admin: Pages) -> None:
    flow, orchestration = GOOD_PASTE.split("---\n")
    bad = orchestration.replace("check_form", "chek_form")
    response = admin.post("/admin/deploy", {
        "definitions": "",
        "files": [(io.BytesIO(flow.encode()), "flows/check.yaml"),
                  (io.BytesIO(bad.encode()), "case.yaml")],
    })  # fmt: skip
    assert response.status_code == 400
    page = text(response)
    line = BAD_LINE - 6  # the orchestration starts on line 7 of the paste
    assert f"<code>case.yaml:{line}:{BAD_COLUMN}</code>" in page
    assert 'class="source-error"' in row_of(page, f'id="src-2-line-{line}"')
    assert "choose the files again" in page
    assert versions(app, "check_form", "flow") == {}
    response = admin.post("/admin/deploy", {
        "definitions": orchestration, "activate": "true",
        "files": [(io.BytesIO(flow.encode()), "check.yaml")],
    })  # fmt: skip
    assert response.status_code == 302
    assert versions(app, "check_case") == {1: True}
    assert versions(app, "check_form", "flow") == {1: True}


def test_files_of_the_same_name_are_told_apart(admin: Pages) -> None:
    bad = "kind: flow\nname: x\ntype: nope\n"
    page = text(admin.post("/admin/deploy", {
        "files": [(io.BytesIO(bad.encode()), "a.yaml"), (io.BytesIO(bad.encode()), "a.yaml")],
    }))  # fmt: skip
    assert "<code>a.yaml:3:7</code>" in page and "<code>a.yaml (2):3:7</code>" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"definitions": "  \n"}, "Paste YAML into the text box or choose one or more files."),
        ({"definitions": "# just a comment\n"}, "There is no definition in that YAML"),
        ({"files": [(io.BytesIO(b"kind: \xff\xfe"), "latin.yaml")]},
         "latin.yaml is not UTF-8 text"),
    ],
)  # fmt: skip
def test_nothing_to_deploy_is_refused(
    app: Flask, admin: Pages, data: dict[str, object], message: str
) -> None:
    before = stored_versions(app)
    response = admin.post("/admin/deploy", data)
    assert response.status_code == 400
    assert message in text(response)
    assert stored_versions(app) == before


def test_windows_line_ends_are_deployed_as_plain_ones(app: Flask, admin: Pages) -> None:
    admin.post("/admin/deploy", {"definitions": GOOD_PASTE.replace("\n", "\r\n")})
    with app.app_context(), database.connection_context():
        assert (
            "\r"
            not in DefinitionVersion.select().order_by(DefinitionVersion.id.desc()).get().content
        )


def test_only_definitions_that_changed_get_a_new_version(app: Flask, admin: Pages) -> None:
    admin.post("/admin/deploy", {"definitions": DEFINITIONS})  # triage's latest is v2
    page = text(admin.get("/admin/deploy"))
    assert "Deployed 5 definitions: 1 new version, 4 unchanged." in page
    assert cells(row_of(page, ">triage</a>"))["Version"] == "3"
    assert cells(row_of(page, ">Case</a>"))["Change"] == "unchanged"
    assert '<a href="/records/Case">Case</a>' in page
    assert versions(app, "triage") == {1: True, 2: False, 3: False}


# -- the parts: listings of refused files, and diffs -----------------------------------


def error_at(line: int, column: int = 1, file: str = "f.yaml") -> DefinitionError:
    return DefinitionError(Position(file, line, column), f"problem at {line}")


def test_a_long_file_is_listed_around_its_errors() -> None:
    text_ = "\n".join(f"line {n}" for n in range(1, MAX_WHOLE_LINES + 100))
    listed = listing("f.yaml", text_, [error_at(200, 3), error_at(203), error_at(5, file="g")],
                     "src-1")  # fmt: skip
    numbers = [line.number for line in listed.lines]
    assert numbers == [0, *range(196, 208), 0]
    assert listed.lines[5].errors == ("column 3: problem at 200",)
    assert listed.error_count == 2
    assert listed.line_anchor(200) == "src-1-line-200"


def test_a_short_file_is_listed_whole_with_an_error_past_its_end() -> None:
    listed = listing("f.yaml", "a: 1\nb: [", [error_at(4)], "src-1")
    assert [(line.number, line.text) for line in listed.lines] == [
        (1, "a: 1"), (2, "b: ["), (3, ""), (4, "")
    ]  # fmt: skip
    assert listed.lines[-1].errors == ("column 1: problem at 4",)


def test_a_diff_shows_changes_with_context_and_gaps() -> None:
    old = "\n".join(f"l{n}" for n in range(1, 21))
    new = old.replace("l2\n", "l2x\n").replace("l15", "l15y")
    lines = diff_lines(old, new)
    assert [(line.kind, line.old, line.new) for line in lines[:3]] == [
        (SAME, 1, 1), (REMOVED, 2, None), (ADDED, None, 2)
    ]  # fmt: skip
    assert [line.kind for line in lines].count(GAP) == 2  # between the changes, and after
    assert lines[-1].kind == GAP and lines[-2].text == "l18"
    assert [line.marker for line in lines[:3]] == [" ", "-", "+"]
    assert diff_lines(old, old) == []
    assert [(line.kind, line.new) for line in diff_lines("", "x\ny")] == [(ADDED, 1), (ADDED, 2)]
