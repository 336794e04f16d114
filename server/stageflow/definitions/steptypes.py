"""What the validator needs from a step type (:class:`stageflow.extension.StepType` has it).

The validator takes step types as an argument, by name; it never looks up a registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class ParameterSchema(Protocol):
    """One parameter of a step type (:class:`stageflow.extension.Parameter`).

    ``type`` is a formula type name (``Text``, ``Number``, ``Checkbox``, ``Date``,
    ``DateTime``, ``Time``, ``Picklist``), ``Map`` or ``List``; other names are not
    checked.  Two parameter names are read as form definitions: ``fields`` (a list of
    fields, the form's outputs) and ``validations`` (``{condition, message}`` rules).
    """

    type: str
    required: bool


class StepType(Protocol):
    """A step type as the validator sees it.

    - ``interactive``: a person completes it, so a step calling it needs an ``assignee``
      (and may have ``exit`` and ``sla``); background steps may have ``retry`` instead.
    - ``parameters``: the keys a flow of this type takes besides kind/name/type/label.
    - ``output_schema(params)``: output name → formula type, for ``$Steps.NAME.OUTPUT``.
    """

    name: str
    interactive: bool
    parameters: Mapping[str, ParameterSchema]

    def output_schema(self, parameters: Mapping[str, Any]) -> Mapping[str, str]: ...
