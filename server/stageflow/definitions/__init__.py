"""Definitions: YAML documents, their validation, versions and activation.

:func:`load_definitions` turns YAML files into validated :mod:`specs <.spec>`, or raises
:class:`DefinitionErrors` listing every problem as ``file:line:column: message``.
"""

from .durations import parse_duration
from .errors import DefinitionError, DefinitionErrors
from .loader import Document, load_definitions
from .yamlio import Limits

__all__ = [
    "DefinitionError",
    "DefinitionErrors",
    "Document",
    "Limits",
    "load_definitions",
    "parse_duration",
]
