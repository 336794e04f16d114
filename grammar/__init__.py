"""Stageflow's formula language: Salesforce's formulas, type-checked and compiled once.

    >>> from decimal import Decimal
    >>> from stageflow.grammar import compile_formula
    >>> f = compile_formula('IF(Amount > 100, "big", "small")', schema={"Amount": "Number"})
    >>> f.type
    'Text'
    >>> f.evaluate({"Amount": Decimal("150")})
    'big'

See ``docs/formulas.md`` for the language reference.
"""

from . import library as _library  # noqa: F401  (registers the built-in functions)
from .compiler import Formula, compile_formula
from .errors import FormulaError, FormulaRuntimeError, FormulaSyntaxError, FormulaTypeError
from .functions import FUNCTIONS, ArgInfo, Function, FunctionRegistry, register_function
from .runtime import Limits

__all__ = [
    "FUNCTIONS",
    "ArgInfo",
    "Formula",
    "FormulaError",
    "FormulaRuntimeError",
    "FormulaSyntaxError",
    "FormulaTypeError",
    "Function",
    "FunctionRegistry",
    "Limits",
    "compile_formula",
    "register_function",
]
