"""The admins' tools: the plugins page, the formula playground, and ``/metrics``."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_support import PASSWORD, Pages, Seeded, field_html, make_app, seed, seed_work, text

from stageflow.auth import issue_token
from stageflow.clock import FixedClock
from stageflow.config import ConfigError, load_config
from stageflow.core import current
from stageflow.db import database
from stageflow.metrics import Metric, Sample, exposition
from stageflow.models import User, WorkItem
from stageflow.web.admin_plugins import Origin, origin_of


@pytest.fixture
def app(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Flask]:
    app = make_app(tmp_path, database_url, clock)
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def seeded(app: Flask) -> Seeded:
    return seed(app)


@pytest.fixture
def admin(app: Flask, seeded: Seeded) -> Pages:
    return Pages.signed_in(app, "root")


def token_of(app: Flask, name: str) -> str:
    """A new API token of a user."""
    with app.app_context(), database.connection_context():
        return issue_token(User.get(User.name == name))[1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- who may see them ------------------------------------------------------------------

PAGES = ["/admin/plugins", "/admin/formulas"]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_people_are_sent_to_login(app: Flask, seeded: Seeded, url: str) -> None:
    response = app.test_client().get(url)
    assert response.status_code == 302
    assert response.location == f"/login?next={url}"


def test_a_shared_playground_address_survives_the_login(app: Flask, seeded: Seeded) -> None:
    pages = Pages(app.test_client())
    url = playground_url("1+1", "Case")
    login = pages.get(url).location
    assert login.startswith("/login?next=")
    assert pages.post(login, {"name": "root", "password": PASSWORD}).location == url


@pytest.mark.parametrize("url", [*PAGES, "/admin/formulas?formula=Amount&object=Case"])
def test_other_users_get_the_403_page(app: Flask, seeded: Seeded, url: str) -> None:
    response = Pages.signed_in(app, "ann").get(url)
    assert response.status_code == 403
    assert "Not allowed" in text(response) and "Only admins" in text(response)


def test_metrics_need_an_admins_token_without_a_metrics_token(
    app: Flask, seeded: Seeded, client: FlaskClient
) -> None:
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in text(anonymous)
    assert client.get("/metrics", headers=bearer("not-a-token")).status_code == 401
    refused = client.get("/metrics", headers=bearer(token_of(app, "ann")))
    assert refused.status_code == 403 and "admin" in text(refused)
    # A signed-in admin's session is not enough: scrapers send a token.
    assert Pages.signed_in(app, "root").get("/metrics").status_code == 401
    allowed = client.get("/metrics", headers=bearer(token_of(app, "root")))
    assert allowed.status_code == 200
    assert allowed.content_type == "text/plain; version=0.0.4; charset=utf-8"


METRICS_TOKEN = "scrape-me-0123456789"


def test_metrics_take_the_metrics_token_when_one_is_set(
    tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    app = make_app(tmp_path, database_url, clock, metrics_token=METRICS_TOKEN)
    seed(app)
    client = app.test_client()
    assert client.get("/metrics", headers=bearer(METRICS_TOKEN)).status_code == 200
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=bearer(METRICS_TOKEN + "x")).status_code == 401
    # Only that token: an admin's API token is not what the scraper is to send.
    assert client.get("/metrics", headers=bearer(token_of(app, "root"))).status_code == 401
    database.close()


@pytest.mark.parametrize("token", ["short", "has a space in it 12345"])
def test_a_weak_metrics_token_is_refused(token: str) -> None:
    with pytest.raises(ConfigError, match="metrics_token"):
        load_config({"metrics_token": token}, environ={})
    assert load_config({"metrics_token": METRICS_TOKEN}, environ={})["metrics_token"]


# -- /admin/plugins --------------------------------------------------------------------


def plugin_section(page: str, name: str) -> str:
    """The HTML of one plugin's section."""
    found = re.search(rf'<section class="plugin" id="plugin-{re.escape(name)}".*?</section>',
                      page, re.DOTALL)  # fmt: skip
    assert found, f"no section of plugin {name}"
    return found.group(0)


BLOCK_TAG = re.compile(r"</?(?:t[dhr]|p|h\d|li|div|d[tdl]|ul|table|caption|section)\b[^>]*>")


def words(fragment: str) -> str:
    """An HTML fragment's text as a reader sees it, with its spaces collapsed."""
    spaced = re.sub(r"<[^>]+>", "", BLOCK_TAG.sub(" ", fragment))
    return " ".join(html.unescape(spaced).split())


def test_the_plugins_page_lists_every_plugin(app: Flask, admin: Pages) -> None:
    page = text(admin.get("/admin/plugins"))
    with app.app_context():
        sf = current()
        loaded = [name for name, _ in sf.pm.list_name_plugin()]
    assert len(loaded) >= 6
    for name in loaded:  # each in the table and with its own section
        assert f'href="#plugin-{name.replace(".", "-")}"' in page
        plugin_section(page, name.replace(".", "-"))
    table = words(page[page.index("<table") : page.index("</table>")])
    assert "stageflow.default_step_types 0.1.0 built-in register_step_types" in table
    assert "stageflow.default_pages 0.1.0 built-in register_routes, startup" in table
    if "sqltable" in loaded:  # the first-party plugin, when it is installed
        assert "sqltable 0.1.0 distribution stageflow-sqltable" in table


def test_step_types_show_parameters_and_outputs(admin: Pages) -> None:
    page = text(admin.get("/admin/plugins"))
    steps = words(plugin_section(page, "stageflow-default_step_types"))
    assert "Step type log Write a message to the log background" in steps
    assert "message Text yes What to write." in steps
    assert "level Text no debug, info, warning or error." in steps
    assert "Outputs: message (Text)" in steps
    assert "Outputs: run_id (Text), status (Text)" in steps
    forms = words(plugin_section(page, "stageflow-default_forms"))
    assert "Step type form Fill in a form interactive" in forms
    assert "Outputs: they vary with the flow's parameters" in forms
    assert "Outputs: decision (Text), comment (Text)" in forms


def test_sources_channels_and_blueprints_are_listed(admin: Pages) -> None:
    page = text(admin.get("/admin/plugins"))
    records = words(plugin_section(page, "stageflow-default_records"))
    assert "Record source builtin" in records
    assert "Objects with their records here: Account, Case" in records
    channels = words(plugin_section(page, "stageflow-default_notifications"))
    assert "Notification channels log The server log email Email (SMTP)" in channels
    assert "Blueprints web at /" in words(plugin_section(page, "stageflow-default_pages"))
    assert "Registers nothing by name" in plugin_section(page, "stageflow-default_assignees")


FOLDER_PLUGIN = '''
"""A plugin in the plugins folder: a step type, a formula function, an object."""

from stageflow import BackgroundStepType, FormulaFunction, Parameter, RecordSource, hookimpl

__version__ = "2.5"


def double(number):
    """Twice the number.

    More about it, not shown on the page.
    """
    return number * 2


class Shout(BackgroundStepType):
    def run(self, context):
        return {"text": context.parameters["text"].upper()}


class Weather(RecordSource):
    name = "weather"

    def objects(self):
        return {"Forecast": {"City": "text", "Rain": "number"}}

    def get(self, object, id):
        return {"Id": id, "City": "Bonn", "Rain": 3} if id == "1" else None

    def query(self, object, where=None, *, order_by=None, limit=100, cursor=None):
        raise NotImplementedError

    def create(self, object, values, *, owner=None):
        raise NotImplementedError

    def update(self, object, id, values):
        raise NotImplementedError

    def delete(self, object, id):
        raise NotImplementedError

    def changes(self, object, since=None):
        return []


@hookimpl
def register_step_types():
    text = Parameter("Text", required=True, description="What to shout, <loudly>")
    return [Shout(name="shout", parameters={"text": text}, outputs={"text": "Text"})]


@hookimpl
def register_formula_functions():
    return [FormulaFunction("DOUBLE", ["(Number) -> Number", "(Text) -> Text"], double)]


@hookimpl
def register_record_sources():
    return [Weather()]
'''


def test_origins_are_named_by_kind(tmp_path: Path) -> None:
    folder = tmp_path / "plugins"
    file = str(folder / "extras.py")
    assert origin_of("built-in", "") == Origin("built-in")
    assert origin_of("distribution stageflow-x", "") == Origin("distribution", "stageflow-x")
    assert origin_of(file, str(folder)) == Origin("plugins folder", file)
    assert origin_of("/elsewhere/extras.py", str(folder)) == Origin(
        "registered by code", "/elsewhere/extras.py"
    )
    assert origin_of("registered by code", "") == Origin("registered by code")


@pytest.fixture
def folder_app(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Flask]:
    """An app whose plugins folder holds :data:`FOLDER_PLUGIN`, and the people of
    :func:`web_support.seed`."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "extras.py").write_text(FOLDER_PLUGIN)
    app = make_app(tmp_path, database_url, clock, plugins_dir=str(folder))
    seed(app)
    yield app
    database.close()


def test_a_plugins_folder_plugin_and_what_it_registered(folder_app: Flask) -> None:
    page = text(Pages.signed_in(folder_app, "root").get("/admin/plugins"))
    section = plugin_section(page, "extras")
    shown = words(section)
    assert "extras 2.5 · plugins folder" in shown and "extras.py" in shown
    assert "Step type shout background" in shown
    assert "text Text yes What to shout, <loudly>" in shown
    assert "&lt;loudly&gt;" in section  # escaped, as everything plugins say
    assert "DOUBLE (Number) -> Number or (Text) -> Text: Twice the number." in shown
    assert "More about it" not in shown
    assert "Record source weather Defines Forecast: City (text), Rain (number)" in shown
    assert "Objects with their records here: Forecast" in shown


def test_the_playground_uses_plugins_functions_and_objects(folder_app: Flask) -> None:
    admin = Pages.signed_in(folder_app, "root")
    found = playground(admin, 'DOUBLE(Rain) & " mm"', "Forecast", "1")
    assert found.status_code == 400  # DOUBLE(Number) is a Number: & wants Text
    page = text(admin.get(playground_url("DOUBLE(Rain)", "Forecast", "1")))
    assert result(page, "type") == "Number" and result(page, "value").startswith("6")


# -- /admin/formulas -------------------------------------------------------------------


def playground_url(formula: str, object_name: str = "", record_id: str = "") -> str:
    query = {"formula": formula, "object": object_name, "record": record_id}
    return "/admin/formulas?" + urlencode(query)


def playground(pages: Pages, formula: str, object_name: str = "", record_id: str = ""):  # type: ignore[no-untyped-def]
    return pages.get(playground_url(formula, object_name, record_id))


def result(page: str, what: str) -> str:
    """The text of one line of the result (``type``, ``fields``, ``value``)."""
    found = re.search(rf'<dd id="result-{what}">(.*?)</dd>', page, re.DOTALL)
    assert found, f"no result {what} on the page"
    return words(found.group(1))


def caret(page: str) -> str:
    """The caret display, as the browser shows it (unescaped)."""
    found = re.search(r'<pre class="formula-caret"[^>]*>(.*?)</pre>', page, re.DOTALL)
    assert found, "no caret on the page"
    return html.unescape(found.group(1))


def test_the_playground_opens_empty(admin: Pages) -> None:
    response = admin.get("/admin/formulas")
    assert response.status_code == 200
    page = text(response)
    assert '<form method="get"' in page and "has-error" not in page
    assert "result-type" not in page
    objects = field_html(page, "object", "playground")
    assert '<option value="Case">Support case</option>' in objects
    assert '<option value="Account">Account</option>' in objects


def test_a_type_error_shows_its_caret(admin: Pages) -> None:
    response = playground(admin, "Amount & 1", "Case")
    assert response.status_code == 400
    page = text(response)
    assert "Incorrect parameter type for operator &#39;&amp;&#39;" in field_html(
        page, "formula", "playground"
    )
    assert "Type error at line 1, column 8" in words(page)
    assert caret(page) == "  Amount & 1\n         ^"
    assert "result-value" not in page


def test_a_syntax_error_on_a_later_line(admin: Pages) -> None:
    page = text(playground(admin, "1 +\n  (2"))
    assert "Syntax error at line 2, column" in words(page)
    line, marker = caret(page).split("\n")
    assert line == "    (2" and marker.endswith("^")


def test_the_formula_is_escaped_everywhere(admin: Pages) -> None:
    page = text(playground(admin, '"<b>x</b>" + 1'))
    assert "<b>x</b>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in field_html(page, "formula", "playground")
    assert caret(page).startswith('  "<b>x</b>" + 1\n')


def test_a_formula_evaluated_on_a_record(admin: Pages, seeded: Seeded) -> None:
    response = playground(admin, 'IF(Amount > 100, "big", "small")', "Case", seeded["first"])
    assert response.status_code == 200
    page = text(response)
    assert result(page, "type") == "Text"
    assert result(page, "fields") == "Amount"
    assert result(page, "value") == f'"big" on Case {seeded["first"]}'
    assert f'href="/records/Case/{seeded["first"]}"' in page
    small = text(playground(admin, 'IF(Amount > 100, "big", "small")', "Case", seeded["third"]))
    assert result(small, "value").startswith('"small"')


def test_lookups_are_followed_and_changes_seen(app: Flask, admin: Pages, seeded: Seeded) -> None:
    with app.app_context(), database.connection_context():
        records = current().records
        case = records.create("Case", {"Subject": "Linked", "Account": seeded["account"],
                                       "Amount": 10})  # fmt: skip
        records.update("Case", case["Id"], {"Amount": 25})
    page = text(playground(admin, 'Account.Name & "!"', "Case", case["Id"]))
    assert result(page, "fields") == "Account.Name"
    assert result(page, "value").startswith('"Acme!"')
    changed = text(playground(admin, "ISCHANGED(Amount) && PRIORVALUE(Amount) = 10", "Case",
                              case["Id"]))  # fmt: skip
    assert result(changed, "value").startswith("TRUE")
    as_record = text(playground(admin, "$Record.Amount * 2", "Case", case["Id"]))
    assert result(as_record, "value").startswith("50")


def test_without_a_record_a_formula_of_fields_is_only_checked(admin: Pages) -> None:
    page = text(playground(admin, "Amount * 2", "Case"))
    assert result(page, "type") == "Number"
    assert result(page, "value") == "name a record to see the value on it"
    constant = text(playground(admin, "ADDMONTHS(DATE(2024, 1, 31), 1)"))
    assert result(constant, "type") == "Date" and result(constant, "value") == "2024-02-29"


def test_an_unknown_object_is_an_error_at_its_field(admin: Pages) -> None:
    response = playground(admin, "Amount", "Nope", "1")
    assert response.status_code == 400
    page = text(response)
    objects = field_html(page, "object", "playground")
    assert "No object named &#39;Nope&#39; is deployed." in objects
    assert '<option value="Nope" selected>' in objects  # what was asked stays chosen
    assert result(page, "value") == "none: see the problems above"


def test_an_unknown_record_is_an_error_at_its_field(admin: Pages) -> None:
    response = playground(admin, "Amount", "Case", "999")
    assert response.status_code == 400
    page = text(response)
    assert "No Case record with id &#39;999&#39;." in field_html(page, "record", "playground")
    assert 'value="999"' in field_html(page, "record", "playground")
    assert result(page, "type") == "Number"  # the formula itself is fine


def test_a_record_needs_its_object(admin: Pages, seeded: Seeded) -> None:
    page = text(playground(admin, "1", "", seeded["first"]))
    assert "Choose the object of the record too." in field_html(page, "record", "playground")


def test_a_blank_formula_is_asked_for(admin: Pages) -> None:
    response = playground(admin, "  ", "Case")
    assert response.status_code == 400
    assert "Write a formula to check." in field_html(text(response), "formula", "playground")


def test_a_runtime_error_shows_its_caret(admin: Pages, seeded: Seeded) -> None:
    page = text(playground(admin, "Amount / (Amount - Amount)", "Case", seeded["first"]))
    assert "Division by zero" in field_html(page, "formula", "playground")
    assert "Runtime error at line 1" in words(page)
    assert caret(page).endswith("^")


def test_the_playground_and_the_api_agree(app: Flask, admin: Pages, seeded: Seeded) -> None:
    formula = 'IF(Amount > 1, "x", 2)'
    page = text(playground(admin, formula, "Case"))
    api = app.test_client().post("/api/formulas/check", json={"formula": formula, "object": "Case"},
                                 headers=bearer(token_of(app, "root")))  # fmt: skip
    details = api.get_json()["error"]["details"]
    assert f"at line {details['line']}, column {details['column']}" in words(page)
    assert caret(page) == details["caret"]


# -- /metrics --------------------------------------------------------------------------

SAMPLE = re.compile(
    r"(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r'(?:\{(?P<labels>[a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_]\w*="(?:[^"\\\n]|\\.)*")*)\})?'
    r" (?P<value>[-+]?(?:\d+(?:\.\d+)?(?:e[-+]?\d+)?|Inf|NaN))"
)


def parse_metrics(body: str) -> dict[str, dict[str, float]]:
    """The samples of a text exposition, by name then by label text; checks every line
    and that each sample's metric has its HELP and TYPE lines first."""
    assert body.endswith("\n")
    described: dict[str, set[str]] = {}
    samples: dict[str, dict[str, float]] = {}
    for line in body.splitlines():
        if line.startswith("# "):
            kind, name, rest = line[2:].split(" ", 2)
            assert kind in ("HELP", "TYPE") and rest, line
            described.setdefault(name, set()).add(kind)
            continue
        match = SAMPLE.fullmatch(line)
        assert match, f"not a sample line: {line!r}"
        name = match["name"]
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert described.get(name, described.get(family)) == {"HELP", "TYPE"}, line
        samples.setdefault(name, {})[match["labels"] or ""] = float(match["value"])
    return samples


def scrape(app: Flask) -> dict[str, dict[str, float]]:
    response = app.test_client().get("/metrics", headers=bearer(token_of(app, "root")))
    assert response.status_code == 200
    return parse_metrics(text(response))


def test_metrics_count_runs_work_jobs_and_steps(app: Flask, clock: FixedClock) -> None:
    seed_work(app)
    found = scrape(app)
    assert found["stageflow_runs"]['status="InProgress"'] == 2
    assert found["stageflow_runs"]['status="Completed"'] == 0
    assert set(found["stageflow_runs"]) >= {'status="NotStarted"', 'status="Error"'}
    assert found["stageflow_work_items_open"] == {
        'assignee_kind="user"': 1, 'assignee_kind="queue"': 1, 'assignee_kind="group"': 0,
    }  # fmt: skip
    assert set(found["stageflow_jobs"]) == {f'status="{s}"' for s in
                                            ("Queued", "Leased", "Done", "Failed")}  # fmt: skip
    assert found["stageflow_work_items_overdue"] == {"": 0}
    assert found["stageflow_step_duration_seconds_count"] == {"": 0}

    clock.advance(dt.timedelta(hours=5))  # the triage item was due in 4 hours
    assert scrape(app)["stageflow_work_items_overdue"] == {"": 1}
    with app.app_context(), database.connection_context():
        item = WorkItem.get(WorkItem.assignee_name == "ann")
        current().work.complete(item.id, User.get(User.name == "ann"), {"severity": "Minor"})
    found = scrape(app)
    assert found["stageflow_work_items_overdue"] == {"": 0}
    assert found["stageflow_work_items_open"]['assignee_kind="queue"'] == 2
    durations = found["stageflow_step_duration_seconds_bucket"]
    assert found["stageflow_step_duration_seconds_count"] == {"": 1}
    assert found["stageflow_step_duration_seconds_sum"][""] == pytest.approx(5 * 3600, abs=0.01)
    assert durations['le="14400"'] == 0 and durations['le="86400"'] == 1
    assert durations['le="+Inf"'] == 1
    counts = list(durations.values())
    assert counts == sorted(counts)  # buckets are cumulative

    clock.advance(dt.timedelta(days=1, minutes=1))  # the last day no longer holds it
    assert scrape(app)["stageflow_step_duration_seconds_count"] == {"": 0}


def test_metrics_count_group_work_and_other_kinds(app: Flask, clock: FixedClock) -> None:
    seed_work(app)
    with app.app_context(), database.connection_context():
        WorkItem.update(assignee_kind="group", assignee_name="leads").execute()
    assert scrape(app)["stageflow_work_items_open"]['assignee_kind="group"'] == 2


def test_the_exposition_escapes_labels_and_help() -> None:
    metric = Metric("m", 'a "help"\\ line\nnext', "gauge",
                    [Sample({"kind": 'say "hi"\\\n'}, 1.5), Sample({}, 2)])  # fmt: skip
    assert exposition([metric]) == (
        '# HELP m a "help"\\\\ line\\nnext\n'
        "# TYPE m gauge\n"
        'm{kind="say \\"hi\\"\\\\\\n"} 1.5\n'
        "m 2\n"
    )
    assert parse_metrics(exposition([metric]))["m"] == {'kind="say \\"hi\\"\\\\\\n"': 1.5, "": 2}
