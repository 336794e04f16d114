"""What the page tests share: an app on a fixed clock, its people and records, and a
test client that signs in and sends forms with their CSRF token."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from stageflow.app import create_app
from stageflow.auth import create_user
from stageflow.clock import FixedClock
from stageflow.core import current
from stageflow.db import database
from stageflow.definitions.deploy import deploy_sources
from stageflow.models import User

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

    def login(self, name: str, password: str = PASSWORD) -> TestResponse:
        response = self.post("/login", {"name": name, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response


def text(response: TestResponse) -> str:
    """A response's body as text."""
    return response.get_data(as_text=True)


def field_html(page: str, name: str) -> str:
    """The HTML of one form field's block (its label, input, hint or error)."""
    found = re.search(
        rf'<div class="field [^"]*">\s*(?:(?!<div class="field ).)*?id="field-{name}".*?</div>',
        page,
        re.DOTALL,
    )
    assert found, f"no field {name} on the page"
    return found.group(0)
