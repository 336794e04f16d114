"""What the page tests share: an app on a fixed clock, its people and records, and a
test client that signs in and sends forms with their CSRF token."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.test import TestResponse

from stageflow.access import share
from stageflow.app import create_app
from stageflow.auth import create_user
from stageflow.clock import FixedClock
from stageflow.core import current
from stageflow.db import database
from stageflow.definitions.deploy import deploy_sources
from stageflow.models import User, WorkItem

PASSWORD = "pw"  # every test user's

#: A private object with a field of every type and a validation rule, a read-only
#: object, and an orchestration (a form step, then a log step) to run on cases.
DEFINITIONS = """
kind: object
name: Case
label: Support case
access: private
fields:
  - {name: Subject, type: text, required: true}
  - {name: Details, type: textarea}
  - {name: Priority, type: picklist, values: [Low, High], default: Low}
  - {name: Tags, type: multipicklist, values: [billing, web, mobile]}
  - {name: Amount, type: number, scale: 2}
  - {name: Urgent, type: checkbox}
  - {name: DueDate, type: date, label: Due date}
  - {name: FollowUpAt, type: datetime, label: Follow up at}
  - {name: CallAt, type: time, label: Call at}
  - {name: Email, type: email}
  - {name: Site, type: url}
  - {name: Account, type: lookup, object: Account}
  - {name: Agent, type: user}
validations:
  - {condition: "NOT(AND(Urgent, ISBLANK(Details)))", message: An urgent case needs details}
---
kind: object
name: Account
access: read
fields:
  - {name: Name, type: text, required: true}
---
kind: flow
name: look_form
type: form
fields:
  - {name: notes, type: text}
---
kind: flow
name: say_done
type: log
message: done
---
kind: orchestration
name: triage
stages:
  - name: review
    steps:
      - {name: look, flow: look_form, assignee: '"user:ann"'}
  - name: wrap_up
    steps:
      - {name: say, flow: say_done}
"""


def make_app(tmp_path: Path, database_url: str, clock: FixedClock, **config: Any) -> Flask:
    """A new app on ``database_url`` with ``clock``; ``config`` overrides settings."""
    settings = {"database_url": database_url, "instance_dir": str(tmp_path / "instance"),
                "TESTING": True, **config}  # fmt: skip
    return create_app(settings, clock=clock)


@dataclass
class Seeded:
    """The ids of the records :func:`seed` created, by a short name."""

    ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.ids[name]


def seed(app: Flask) -> Seeded:
    """Deploy :data:`DEFINITIONS`; create users ``root`` (admin), ``ann``, ``bob`` and the
    deactivated ``gone``; cases of ann's and bob's, an account of ann's; a run on ``first``."""
    seeded = Seeded()
    with app.app_context(), database.connection_context():
        sf = current()
        deploy_sources([("test.yaml", DEFINITIONS)], step_types=sf.registry.step_types,
                       activate=True)  # fmt: skip
        for name in ("root", "ann", "bob", "gone"):
            create_user(name, password=PASSWORD, admin=name == "root")
        User.update(is_active=False).where(User.name == "gone").execute()
        cases = {
            "first": ({"Subject": "Printer on fire", "Priority": "High", "Amount": 120,
                       "Urgent": True, "Details": "Smoke"}, "ann"),
            "second": ({"Subject": "Bad invoice", "Priority": "Low", "Tags": "billing"}, "ann"),
            "third": ({"Subject": "App crashes", "Priority": "High", "Amount": 5}, "ann"),
            "bobs": ({"Subject": "Bob's secret case", "Priority": "High"}, "bob"),
        }  # fmt: skip
        for key, (values, owner) in cases.items():
            seeded.ids[key] = sf.records.create("Case", values, owner=owner)["Id"]
        seeded.ids["account"] = sf.records.create("Account", {"Name": "Acme"}, owner="ann")["Id"]
        sf.engine.launch("triage", record=("Case", seeded["first"]), actor="ann")
    return seeded


def record(app: Flask, object_name: str, record_id: str) -> dict[str, Any]:
    """A record as stored (read as the system)."""
    with app.app_context(), database.connection_context():
        return current().records.get(object_name, record_id)


def count(app: Flask, object_name: str) -> int:
    """How many records of an object there are."""
    with app.app_context(), database.connection_context():
        return len(current().records.query(object_name, limit=1000).records)


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Pages:
    """A test client for the pages: signs in, and sends forms with their CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, **kwargs)

    def token(self, url: str = "/login") -> str:
        """The CSRF token of the form on a page."""
        found = TOKEN.search(self.client.get(url).get_data(as_text=True))
        assert found, f"no CSRF token on {url}"
        return found.group(1)

    def post(self, url: str, data: Mapping[str, Any], *, token: bool = True) -> TestResponse:
        """Send a form, with the CSRF token unless ``token=False``."""
        form = dict(data)
        if token:
            form["csrf_token"] = self.token()
        return self.client.post(url, data=form)

    @classmethod
    def signed_in(cls, app: Flask, name: str) -> Pages:
        """A new client of ``app``, signed in as ``name``."""
        pages = cls(app.test_client())
        pages.login(name)
        return pages

    def login(self, name: str, password: str = PASSWORD) -> TestResponse:
        response = self.post("/login", {"name": name, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response


def text(response: TestResponse) -> str:
    """A response's body as text."""
    return response.get_data(as_text=True)


def field_html(page: str, name: str, prefix: str = "field") -> str:
    """The HTML of one form field's block (its label, input, hint or error); ``prefix``
    starts its id (``item-7`` for the fields of work item 7's form)."""
    found = re.search(
        rf'<div class="field [^"]*">\s*(?:(?!<div class="field ).)*?id="{prefix}-{name}".*?</div>',
        page,
        re.DOTALL,
    )
    assert found, f"no field {name} on the page"
    return found.group(0)


#: Work for people: a private object, a form (one required field, one required only
#: when a formula holds), an approval, a queue, and two orchestrations: a form for
#: ``ann`` then an approval for the queue ``tier2``; and an approval for the queue alone.
WORK_DEFINITIONS = """
kind: object
name: Ticket
access: private
fields:
  - {name: Subject, type: text, required: true}
---
kind: flow
name: triage_form
type: form
instructions: Read the ticket, then say how bad it is.
fields:
  - {name: severity, type: picklist, label: Severity, values: [Minor, Major], required: true}
  - {name: notes, type: textarea, label: Notes, required: "=severity = 'Major'"}
  - {name: hours, type: number, label: Hours spent, scale: 1}
  - {name: followup, type: checkbox, label: Follow up}
---
kind: flow
name: sign_off
type: approval
instructions: Check the triage.
---
kind: directory
queues:
  - {name: tier2, members: [bob, cat]}
---
kind: orchestration
name: ticket_flow
object: Ticket
stages:
  - name: triage
    steps:
      - name: triage
        label: Triage the ticket
        flow: triage_form
        assignee: '"user:ann"'
        sla: {due: 4h}
  - name: approve
    steps:
      - {name: approve, label: Approve the triage, flow: sign_off, assignee: '"queue:tier2"'}
---
kind: orchestration
name: quick_review
object: Ticket
stages:
  - name: review
    steps:
      - {name: review, flow: sign_off, assignee: '"queue:tier2"'}
"""

#: The people of :func:`seed_work`: an admin, the form's assignee, two members of the
#: queue tier2, and someone who may not open the tickets.
WORK_USERS = ("root", "ann", "bob", "cat", "dan")


def seed_work(app: Flask) -> Seeded:
    """Deploy :data:`WORK_DEFINITIONS` for :data:`WORK_USERS`; two tickets of ann's,
    shared with the queue tier2: ``first`` runs ``ticket_flow`` (work item ``triage``,
    ann's), ``second`` runs ``quick_review`` (work item ``review``, the queue's)."""
    seeded = Seeded()
    with app.app_context(), database.connection_context():
        sf = current()
        for name in WORK_USERS:
            create_user(name, password=PASSWORD, admin=name == "root")
        deploy_sources([("work.yaml", WORK_DEFINITIONS)], step_types=sf.registry.step_types,
                       activate=True)  # fmt: skip
        for key, subject in (("first", "Printer on fire"), ("second", "VPN is down")):
            seeded.ids[key] = sf.records.create("Ticket", {"Subject": subject}, owner="ann")["Id"]
            share("Ticket", seeded[key], "queue:tier2", "read")
        sf.engine.launch("ticket_flow", record=("Ticket", seeded["first"]), actor="ann")
        sf.engine.launch("quick_review", record=("Ticket", seeded["second"]), actor="ann")
        sf.engine.run_until_idle()
        for item in WorkItem.select().order_by(WorkItem.id):
            seeded.ids[item.step_run.name] = str(item.id)
    return seeded


def run_jobs(app: Flask) -> None:
    """Run the background jobs waiting, as workers would."""
    with app.app_context(), database.connection_context():
        current().engine.run_until_idle()


def work_item(app: Flask, item_id: str) -> WorkItem:
    """A work item as stored."""
    with app.app_context(), database.connection_context():
        return WorkItem.get_by_id(int(item_id))


# -- the browser tests ------------------------------------------------------------------

#: Debian's chromium, which the browser tests drive (never a downloaded browser).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu"]


class QuietHandler(WSGIRequestHandler):
    """Serves requests without logging each one (a failing test shows its own output)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1, in a thread: yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
