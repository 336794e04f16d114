"""``stageflow demo``: the example definitions, an admin, some records and runs.

Idempotent: the definitions deploy unchanged, the admin is created once, a record is
created only when no record of its object has the same values, and a run is launched
only for a record created now.  The records and runs come from ``demo-data.json`` beside
the examples::

    {"records": [
      {"object": "Account", "values": {"Name": "Acme"}},
      {"object": "Case", "values": {"Subject": "…", "Account": {"$find": {"Name": "Acme"}}},
       "launch": ["support_case"]}]}

A value ``{"$find": {field: value}}`` is the id of the first record of the lookup's
object with those values (records are created in the file's order).  A run is not
launched when the record already has a run of that orchestration (a trigger's).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .auth import create_user, hash_password, issue_token
from .core import current
from .definitions.deploy import deploy_sources
from .definitions.store import Deployed
from .models import Definition, DefinitionVersion, Run, User

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "config" / "examples"
DATA_FILE = "demo-data.json"
ADMIN_NAME = "admin"
ADMIN_PASSWORD = "admin"  # noqa: S105 (the documented demo password)


@dataclass
class DemoResult:
    """What a demo load did."""

    deployed: list[Deployed] = field(default_factory=list)
    token: str | None = None  # set when the admin was created now
    records: list[tuple[str, str]] = field(default_factory=list)  # created now
    runs: list[Run] = field(default_factory=list)  # launched now
    people: list[str] = field(default_factory=list)  # given their name as password now


def load_demo(examples: Path = EXAMPLES_DIR) -> DemoResult:
    """Deploy ``examples/*.yaml`` (active), create the admin, the records and runs."""
    sf = current()
    result = DemoResult()
    files = sorted(p for p in examples.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
    result.deployed = deploy_sources([(str(p), p.read_text(encoding="utf-8")) for p in files],
                                     step_types=sf.registry.step_types, activate=True)  # fmt: skip
    if User.get_or_none(User.name == ADMIN_NAME) is None:
        admin = create_user(ADMIN_NAME, password=ADMIN_PASSWORD, admin=True)
        result.token = issue_token(admin, "demo")[1]
    # The example people (a directory document) sign in with their name as password, so
    # that their work lists can be tried; only users who have no password yet.
    for user in User.select().where(User.password_hash.is_null()):
        user.password_hash = hash_password(user.name)
        user.save()
        result.people.append(user.name)
    data_file = examples / DATA_FILE
    data: dict[str, Any] = json.loads(data_file.read_text()) if data_file.exists() else {}
    for item in data.get("records", []):
        object_name = item["object"]
        values = {key: _resolve(object_name, key, value) for key, value in item["values"].items()}
        if sf.records.query(object_name, values, limit=1).records:
            continue
        record = sf.records.create(object_name, values, owner=ADMIN_NAME)
        result.records.append((object_name, record["Id"]))
        for name in item.get("launch", []):
            if not _has_run(name, object_name, record["Id"]):
                result.runs.append(
                    sf.engine.launch(name, record=(object_name, record["Id"]), actor=ADMIN_NAME)
                )
    return result


def _resolve(object_name: str, field_name: str, value: Any) -> Any:
    """A ``{"$find": {…}}`` value as the id of the record it finds (None if none)."""
    if not (isinstance(value, dict) and "$find" in value):
        return value
    records = current().records
    field = records.object_spec(object_name).field(field_name)
    target = field.object if field is not None and field.object else object_name
    found = records.query(target, value["$find"], limit=1).records
    return found[0]["Id"] if found else None


def _has_run(orchestration: str, object_name: str, record_id: str) -> bool:
    return (
        Run.select()
        .join(DefinitionVersion, on=Run.orchestration == DefinitionVersion.id)
        .join(Definition)
        .where(
            (Definition.name == orchestration)
            & (Run.record_object == object_name)
            & (Run.record_id == str(record_id))
        )
        .exists()
    )
