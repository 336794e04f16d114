"""The built-in formula functions, grouped by what they work on.

Importing this package registers every built-in in
:data:`stageflow.grammar.functions.FUNCTIONS`.
"""

from . import dates, logic, math, text  # noqa: F401  (registration on import)
