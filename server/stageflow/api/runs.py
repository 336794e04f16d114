"""Runs: list, detail, event log, and the admin actions (DESIGN.md §4, §9).

Users see the runs they started; admins see every run and may act on it.  Each action
is one engine event: refused (400/404/409) with nothing changed, or applied whole.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ..core import current
from ..engine.states import Status
from ..models import Definition, Event, Run
from . import bp
from .access import current_user, operation, require_owner_or_admin
from .errors import ApiError
from .pagination import PAGE_QUERY, keyset_page
from .present import event, run_detail, run_summary, runs_query
from .schema import Field

REASON = {"reason": Field("string", description="Why; kept in the run's event log")}
RUN_FILTERS = {
    "orchestration": Field("string", description="Orchestration name"),
    "status": Field("string", enum=tuple(Status), description="Run status"),
    "record_object": Field("string", description="Object of the run's record"),
    "record_id": Field("string", description="Id of the run's record"),
    **PAGE_QUERY,
}


def load_run(run_id: int) -> Run:
    """The run (joined with its orchestration); 404 if none, 403 if not the caller's."""
    run = runs_query().where(Run.id == run_id).first()
    if run is None:
        raise ApiError(404, "not_found", f"No run with id {run_id}")
    require_owner_or_admin(run.started_by_id, "runs")
    return run


def run_response(run: Run, status: int = 200) -> tuple[Response, int]:
    """The run's detail as the response (re-read: an action may have changed it)."""
    return jsonify(run_detail(runs_query().where(Run.id == run.id).get())), status


@bp.get("/runs")
@operation("List runs, newest first", tag="runs", query=RUN_FILTERS, result="page")
def list_runs() -> Response:
    """Admins see every run; other users the runs they started."""
    query = runs_query()
    user = current_user()
    if not user.is_admin:
        query = query.where(Run.started_by == user.id)
    args = request.args
    if name := args.get("orchestration"):
        query = query.where(Definition.name == name)
    if status := args.get("status"):
        query = query.where(Run.status == status)
    if record_object := args.get("record_object"):
        query = query.where(Run.record_object == record_object)
    if record_id := args.get("record_id"):
        query = query.where(Run.record_id == record_id)
    return jsonify(keyset_page(query, Run.id, run_summary, descending=True))


@bp.get("/runs/<int:run_id>")
@operation("A run with its stages, steps and work items", tag="runs")
def get_run(run_id: int) -> Response:
    return jsonify(run_detail(load_run(run_id)))


@bp.get("/runs/<int:run_id>/events")
@operation("A run's event log, oldest first", tag="runs", query=PAGE_QUERY, result="page")
def run_events(run_id: int) -> Response:
    load_run(run_id)
    return jsonify(keyset_page(Event.select().where(Event.run == run_id), Event.id, event))


def _act(run_id: int, action: str, body: dict[str, Any], **target: str) -> tuple[Response, int]:
    load_run(run_id)
    run = current().engine.act(
        run_id, action, actor=current_user().name, reason=body.get("reason") or "", **target
    )
    return run_response(run)


def _register_run_action(action: str, verb: str) -> None:
    @operation(f"{verb} a run", tag="run actions", access="admin", body=REASON)
    def view(run_id: int, body: dict[str, Any]) -> tuple[Response, int]:
        return _act(run_id, action, body)

    bp.add_url_rule(f"/runs/<int:run_id>/{action}", f"{action}_run", view, methods=["POST"])


for _action, _verb in (("cancel", "Cancel"), ("suspend", "Suspend"), ("resume", "Resume")):
    _register_run_action(_action, _verb)


@bp.post("/runs/<int:run_id>/restart")
@operation("Restart a run: a new run, same inputs and record", tag="run actions",
           access="admin", body=REASON, status=201)  # fmt: skip
def restart_run(run_id: int, body: dict[str, Any]) -> tuple[Response, int]:
    load_run(run_id)
    reason = body.get("reason") or ""
    run = current().engine.restart(run_id, actor=current_user().name, reason=reason)
    return run_response(run, 201)


@bp.post("/runs/<int:run_id>/steps/<step>/retry")
@operation("Retry a step in Error", tag="run actions", access="admin", body=REASON)
def retry_step(run_id: int, step: str, body: dict[str, Any]) -> tuple[Response, int]:
    return _act(run_id, "retry", body, step=step)


@bp.post("/runs/<int:run_id>/steps/<step>/skip")
@operation("Skip a step", tag="run actions", access="admin", body=REASON)
def skip_step(run_id: int, step: str, body: dict[str, Any]) -> tuple[Response, int]:
    return _act(run_id, "skip", body, step=step)


@bp.post("/runs/<int:run_id>/stages/<stage>/complete")
@operation("Complete the current stage", tag="run actions", access="admin", body=REASON)
def complete_stage(run_id: int, stage: str, body: dict[str, Any]) -> tuple[Response, int]:
    return _act(run_id, "complete_stage", body, stage=stage)
