"""What several test modules share: a test plugin, basic definitions, an app with both,
and an API client that sends a user's token."""

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from stageflow.app import create_app
from stageflow.clock import FixedClock

FLAKY_PLUGIN = """
from stageflow import BackgroundStepType, Parameter, StepError, hookimpl

class Flaky(BackgroundStepType):
    def run(self, context):
        if context.parameters.get("fail"):
            raise StepError(f"failed on attempt {context.attempt}")
        return {"ok": True}

@hookimpl
def register_step_types():
    return [Flaky(name="flaky", parameters={"fail": Parameter("Checkbox")},
                  outputs={"ok": "Checkbox"})]
"""

#: A Case object and background flows that work on it.
CASE_BASICS = """
kind: object
name: Case
fields:
  - {name: Subject, type: text, required: true}
  - {name: Priority, type: picklist, values: [Low, High]}
  - {name: Status, type: picklist, values: [New, Working, Closed]}
  - {name: Touched, type: number}
---
kind: flow
name: say_go
type: log
message: go
---
kind: flow
name: mark_working
type: update_record
set: {Status: Working}
---
kind: flow
name: touch
type: update_record
set: {Touched: "=BLANKVALUE(Touched, 0) + 1"}
---
kind: flow
name: hold
type: wait
until: "=ISPICKVAL(Status, 'Closed')"
"""


def app_with_flaky_plugin(tmp_path: Path, database_url: str, clock: FixedClock) -> Flask:
    """A new app on ``database_url`` whose plugins folder holds :data:`FLAKY_PLUGIN`."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "flaky.py").write_text(FLAKY_PLUGIN)
    return create_app(
        {"database_url": database_url, "instance_dir": str(tmp_path / "instance"),
         "plugins_dir": str(plugins), "TESTING": True},
        clock=clock,
    )  # fmt: skip


class Api:
    """A test client that sends one user's bearer token (or none) with every request."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, url: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.client.get(url, headers=self.headers, **kwargs)

    def post(self, url: str, json=None, **kwargs):  # type: ignore[no-untyped-def]
        return self.client.post(url, headers=self.headers, json=json, **kwargs)

    def patch(self, url: str, json=None, **kwargs):  # type: ignore[no-untyped-def]
        return self.client.patch(url, headers=self.headers, json=json, **kwargs)

    def delete(self, url: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.client.delete(url, headers=self.headers, **kwargs)

    def deploy(self, text: str, activate: bool = True):  # type: ignore[no-untyped-def]
        """POST YAML to /api/definitions."""
        return self.client.post(
            f"/api/definitions?activate={'true' if activate else 'false'}",
            data=text,
            headers={**self.headers, "Content-Type": "application/yaml"},
        )
