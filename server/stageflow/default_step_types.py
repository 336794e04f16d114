"""The built-in background step types, registered as a plugin like any other.

``log`` writes a message; ``update_record`` and ``create_record`` change records
through their record source (in the step's transaction, so the change and the step's
completion commit together); ``launch_orchestration`` starts another run, and with
``wait: true`` finishes when that run does; ``wait`` holds until a condition is TRUE.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .extension import (
    BackgroundStepType,
    Parameter,
    StepContext,
    StepError,
    StepType,
    StepWaiting,
)
from .hookspecs import hookimpl
from .records import RecordError, RecordNotFound

logger = logging.getLogger("stageflow.steps")

_LEVELS = {name: getattr(logging, name.upper()) for name in ("debug", "info", "warning", "error")}


class LogStep(BackgroundStepType):
    """Write a message to the ``stageflow.steps`` log; the message is the step's output."""

    def run(self, context: StepContext) -> Mapping[str, Any]:
        """Log ``message`` at ``level`` (default info) and output ``{"message": ...}``."""
        message = str(context.parameters["message"])
        level = str(context.parameters.get("level") or "info").lower()
        if level not in _LEVELS:
            raise StepError(
                f"level must be one of {', '.join(_LEVELS)}, not {level!r}", retry=False
            )
        logger.log(_LEVELS[level], "run %s, step %s: %s", context.run_id, context.step, message)
        return {"message": message}


LOG = LogStep(
    name="log",
    label="Write a message to the log",
    parameters={
        "message": Parameter("Text", required=True, description="What to write."),
        "level": Parameter("Text", description="debug, info, warning or error.", default="info"),
    },
    outputs={"message": "Text"},
)


def _record_call(action: str, call: Any) -> Any:
    try:
        return call()
    except (RecordError, RecordNotFound) as error:
        raise StepError(f"{action}: {error}", retry=False) from None


def _target(context: StepContext) -> tuple[str, str]:
    """The record a step works on: ``object`` and ``record_id``, or the run's record."""
    object_name = context.parameters.get("object")
    record_id = context.parameters.get("record_id")
    if object_name and record_id:
        return str(object_name), str(record_id)
    if context.record_ref is None:
        raise StepError("the run has no record: give object and record_id", retry=False)
    return context.record_ref


class UpdateRecordStep(BackgroundStepType):
    """Set fields of the run's record (or of ``object``/``record_id``)."""

    def run(self, context: StepContext) -> Mapping[str, Any]:
        """Write the ``set`` values; output the record's id."""
        object_name, record_id = _target(context)
        values = dict(context.parameters.get("set") or {})
        _record_call(
            f"could not update {object_name} {record_id}",
            lambda: context.services.records.update(object_name, record_id, values),
        )
        return {"record_id": record_id}


class CreateRecordStep(BackgroundStepType):
    """Create a record of ``object`` with the ``set`` values."""

    def run(self, context: StepContext) -> Mapping[str, Any]:
        """Create the record; output its id."""
        object_name = str(context.parameters["object"])
        values = dict(context.parameters.get("set") or {})
        record = _record_call(
            f"could not create a {object_name} record",
            lambda: context.services.records.create(object_name, values),
        )
        return {"record_id": record["Id"]}


class LaunchOrchestrationStep(BackgroundStepType):
    """Start a run of another orchestration; with ``wait`` finish when it finishes."""

    def run(self, context: StepContext) -> Mapping[str, Any]:
        """Launch; output the child run's id and status (at once, or when it ends)."""
        record = context.parameters.get("record")
        if record is None or record == "same":
            ref = context.record_ref
        else:
            object_name, _, record_id = str(record).partition(":")
            ref = (object_name, record_id)
        wait = bool(context.parameters.get("wait"))
        run_id, status = context.services.launch(
            str(context.parameters["orchestration"]),
            inputs=dict(context.parameters.get("inputs") or {}),
            record=ref,
            wait=wait,
        )
        if wait and status == "InProgress":
            raise StepWaiting(f"waiting for run {run_id}")
        if wait and status != "Completed":
            raise StepError(f"child run {run_id} ended {status}", retry=False)
        return {"run_id": str(run_id), "status": status}


class WaitStep(BackgroundStepType):
    """Hold until ``until`` is TRUE; asked again on every event of the run."""

    #: The engine asks this step again on every later event of its run.
    waits = True

    def run(self, context: StepContext) -> Mapping[str, Any]:
        """Finish when the condition holds; otherwise keep waiting."""
        if context.parameters.get("until") is True:
            return {}
        raise StepWaiting("condition is not yet TRUE")


_TARGET = {
    "object": Parameter("Text", description="Another record's object (default: the run's)."),
    "record_id": Parameter("Text", description="Another record's id (default: the run's)."),
}

UPDATE_RECORD = UpdateRecordStep(
    name="update_record",
    label="Update a record",
    parameters={
        "set": Parameter("Map", required=True, description="Field → value or =formula."),
        **_TARGET,
    },
    outputs={"record_id": "Text"},
)

CREATE_RECORD = CreateRecordStep(
    name="create_record",
    label="Create a record",
    parameters={
        "object": Parameter("Text", required=True, description="The object to create."),
        "set": Parameter("Map", description="Field → value or =formula."),
    },
    outputs={"record_id": "Text"},
)

LAUNCH_ORCHESTRATION = LaunchOrchestrationStep(
    name="launch_orchestration",
    label="Launch another orchestration",
    parameters={
        "orchestration": Parameter("Text", required=True, description="Its name."),
        "inputs": Parameter("Map", description="Input → value or =formula."),
        "record": Parameter("Text", description="OBJECT:ID, or 'same' (the default)."),
        "wait": Parameter("Checkbox", description="Finish when the child run finishes."),
    },
    outputs={"run_id": "Text", "status": "Text"},
)

WAIT = WaitStep(
    name="wait",
    label="Wait until a condition holds",
    parameters={"until": Parameter("Checkbox", required=True, description="=formula")},
)


@hookimpl
def register_step_types() -> list[StepType]:
    """The built-in background step types."""
    return [LOG, UPDATE_RECORD, CREATE_RECORD, LAUNCH_ORCHESTRATION, WAIT]
