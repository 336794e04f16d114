"""Stageflow: multi-stage, multi-user business process orchestration."""

__version__ = "0.1.0"

from .extension import (
    AssigneeContext,
    BackgroundStepType,
    Change,
    FormulaFunction,
    InteractiveStepType,
    Message,
    NotificationChannel,
    Page,
    Parameter,
    Recipient,
    Record,
    RecordSource,
    RunEvent,
    StepContext,
    StepError,
    StepType,
    StepWaiting,
)
from .hookspecs import hookimpl

__all__ = [
    "AssigneeContext",
    "BackgroundStepType",
    "Change",
    "FormulaFunction",
    "InteractiveStepType",
    "Message",
    "NotificationChannel",
    "Page",
    "Parameter",
    "Recipient",
    "Record",
    "RecordSource",
    "RunEvent",
    "StepContext",
    "StepError",
    "StepType",
    "StepWaiting",
    "__version__",
    "hookimpl",
]
