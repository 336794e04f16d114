"""The function registry: every formula function with its type signature.

Built-in functions live in :mod:`stageflow.grammar.library` and register themselves with
the :func:`builtin` decorator; plugins add theirs with :func:`register_function` (the
server calls it for everything its ``register_formula_functions`` hook returns).  The
compiler checks every call against the signature, so a plugin's function is type-checked
exactly like a built-in one.

Signatures are written as text::

    "(Text, Number, [Text]) -> Text"      # a bracketed parameter is optional
    "(Number, ...) -> Number"             # "..." repeats the previous parameter
    "(Checkbox, T, T) -> T"               # a single capital letter is a type variable
    "(T: Date|DateTime, Number) -> T"     # a type variable limited to some types
    "(Any) -> Checkbox"                   # Any accepts every type

A function may have several signatures (overloads); the first that fits is used.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import types as T
from .errors import FormulaTypeError

# -- signatures --------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One parameter: the types it accepts (``None``: any), its type variable, optional?"""

    types: frozenset[str] | None
    var: str | None = None
    optional: bool = False

    def describe(self) -> str:
        """The parameter as written in a signature."""
        if self.types is None:
            text = self.var or T.ANY
        else:
            union = "|".join(sorted(self.types, key=_TYPE_ORDER.index))
            text = f"{self.var}: {union}" if self.var else union
        return f"[{text}]" if self.optional else text


_TYPE_ORDER = [*T.TYPES, T.NULL, T.ANY]


@dataclass(frozen=True)
class Signature:
    """Parameters and result of one overload of a function."""

    params: tuple[Param, ...]
    result: str  # a type name or a type variable
    variadic: bool = False  # the last parameter repeats

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if not p.optional)

    @property
    def max_args(self) -> float:
        return float("inf") if self.variadic else len(self.params)

    def param_at(self, index: int) -> Param:
        if index < len(self.params):
            return self.params[index]
        return self.params[-1]

    def __str__(self) -> str:
        parts = [p.describe() for p in self.params]
        if self.variadic:
            parts.append("...")
        return f"({', '.join(parts)}) -> {self.result}"


_VAR = re.compile(r"^[A-Z]$")


def parse_signature(text: str) -> Signature:
    """Parse a signature such as ``"(Text, Number, [Text]) -> Text"``.

    Raises ``ValueError`` with the reason for a malformed one.
    """
    match = re.fullmatch(r"\s*\((.*)\)\s*->\s*(\w+)\s*", text)
    if not match:
        raise ValueError(f"Signature {text!r} must look like '(Text, Number) -> Text'")
    body, result = match.groups()
    params: list[Param] = []
    variadic = False
    for raw in filter(None, (part.strip() for part in body.split(","))):
        if variadic:
            raise ValueError(f"Signature {text!r}: '...' must be the last parameter")
        if raw == "...":
            if not params:
                raise ValueError(f"Signature {text!r}: '...' needs a parameter before it")
            variadic = True
            continue
        optional = raw.startswith("[") and raw.endswith("]")
        if optional:
            raw = raw[1:-1].strip()
        elif params and params[-1].optional:
            raise ValueError(f"Signature {text!r}: a required parameter follows an optional one")
        var, _, union = raw.rpartition(":") if ":" in raw else ("", "", raw)
        var, union = var.strip(), union.strip()
        if not var and _VAR.match(union):
            params.append(Param(None, union, optional))
            continue
        if var and not _VAR.match(var):
            raise ValueError(
                f"Signature {text!r}: type variable {var!r} must be one capital letter"
            )
        if union == T.ANY:
            types = None
        else:
            types = frozenset(T.type_name(name) for name in union.split("|"))
        params.append(Param(types, var or None, optional))
    if not _VAR.match(result):
        result = T.type_name(result)
    return Signature(tuple(params), result, variadic)


def _merge(bound: str, new: str) -> str | None:
    """The type two values bound to one type variable share, or None if they clash."""
    if bound == new or new in (T.NULL, T.ANY):
        return bound
    if bound in (T.NULL, T.ANY):
        return new
    if {bound, new} == {T.TEXT, T.PICKLIST}:
        return T.TEXT
    return None


def _accepts(param: Param, arg: str, binding: dict[str, str]) -> bool:
    if arg in (T.ANY, T.NULL):
        return True
    picklist_as_text = arg == T.PICKLIST and param.var and T.TEXT in (param.types or ())
    if param.types is not None and arg not in param.types and not picklist_as_text:
        return False
    if param.var:
        merged = _merge(binding.get(param.var, T.NULL), arg)
        if merged is None:
            return False
        binding[param.var] = merged
    return True


def _expected_at(param: Param, binding: dict[str, str]) -> list[str]:
    if param.var and binding.get(param.var, T.NULL) not in (T.NULL, T.ANY):
        return [binding[param.var]]
    if param.types is None:
        return []
    return sorted(param.types, key=_TYPE_ORDER.index)


@dataclass(frozen=True)
class ArgInfo:
    """What the compiler knows about one argument of a call, for ``check`` functions."""

    type: str
    line: int
    column: int
    is_literal: bool = False
    value: Any = None  # the literal's value when is_literal
    path: str | None = None  # the field path when the argument is a bare field


# -- functions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    """A formula function: name, signatures, implementation and documentation.

    ``blanks="propagate"`` (the default) returns blank without calling the
    implementation when any argument is blank; ``blanks="accept"`` passes ``None`` on.
    ``needs_env`` passes an :class:`~stageflow.grammar.runtime.EvalEnv` (clock, prior
    values) as the first argument.  ``check(args, name)`` may refuse literal arguments at
    compile time by raising :class:`FormulaTypeError`.  ``special`` functions are
    compiled by the compiler itself (lazy ones such as IF).  ``unsupported`` ones exist
    only to say they may not be used.
    """

    name: str
    signatures: tuple[Signature, ...]
    implementation: Callable[..., Any] | None
    category: str = "Other"
    blanks: str = "propagate"
    needs_env: bool = False
    check: Callable[[Sequence[ArgInfo], str], None] | None = None
    special: bool = False
    unsupported: bool = False
    doc: str = ""
    examples: tuple[tuple[str, str], ...] = ()
    signature_text: str | None = None  # shown in the docs instead of the signatures
    provider: str = "builtin"
    # Built-ins only: a Python expression the compiler writes in place of the call, or
    # such expressions by argument count.  {0}, {1}… are the (already evaluated)
    # arguments, {f} the implementation; the locals ``now`` (the captured clock, aware
    # UTC), ``tz`` and ``prior`` are in scope.  Blank arguments are handled as the
    # function's ``blanks`` says, as for a call.
    inline: str | Mapping[int, str] | None = None

    def inline_for(self, count: int) -> str | None:
        """The inline expression for a call with ``count`` arguments, if there is one."""
        if isinstance(self.inline, Mapping):
            return self.inline.get(count)
        return self.inline

    def resolve(self, arg_types: Sequence[str]) -> tuple[Signature, str]:
        """Check the argument types; return the overload used and the result type.

        Raises :class:`FormulaTypeError` (without a position) in Salesforce's wording.
        ``FormulaTypeError.argument`` holds the index of the offending argument.
        """
        count = len(arg_types)
        fitting = [s for s in self.signatures if s.min_args <= count <= s.max_args]
        if not fitting:
            low = min(s.min_args for s in self.signatures)
            high = max(s.max_args for s in self.signatures)
            expected = low if count < low else int(high)
            raise FormulaTypeError(
                f"Incorrect number of parameters for function '{self.name}()'. "
                f"Expected {expected}, received {count}"
            )
        furthest, expected_types, culprit = -1, [], T.NULL
        for sig in fitting:
            binding: dict[str, str] = {}
            for index, arg in enumerate(arg_types):
                param = sig.param_at(index)
                before = dict(binding)
                if not _accepts(param, arg, binding):
                    if index > furthest:
                        furthest, expected_types, culprit = index, [], arg
                    if index == furthest:
                        for name in _expected_at(param, before):
                            if name not in expected_types:
                                expected_types.append(name)
                    break
            else:
                result = sig.result
                if _VAR.match(result):
                    result = binding.get(result) or (T.ANY if T.ANY in arg_types else T.NULL)
                return sig, result
        error = FormulaTypeError(
            f"Incorrect parameter type for function '{self.name}()'. "
            f"Expected {', '.join(T.display(t) for t in expected_types)}, "
            f"received {T.display(culprit)}"
        )
        error.argument = furthest
        raise error

    def describe_signatures(self) -> list[str]:
        """The signatures as the reference documentation shows them."""
        if self.signature_text:
            return [self.signature_text]
        return [f"{self.name}{sig}" for sig in self.signatures]


class FunctionRegistry:
    """The functions a formula may call, by upper-case name."""

    def __init__(self, functions: Sequence[Function] = ()) -> None:
        self._functions: dict[str, Function] = {}
        self.version = 0  # bumped on every change, part of the compile cache key
        for function in functions:
            self.add(function)

    def add(self, function: Function, *, replace: bool = False) -> Function:
        """Add a function; a second one of the same name is refused unless ``replace``."""
        key = function.name.upper()
        existing = self._functions.get(key)
        if existing is not None and not replace:
            raise ValueError(
                f"Formula function {key} is registered twice: "
                f"by {existing.provider} and by {function.provider}"
            )
        self._functions[key] = function
        self.version += 1
        return function

    def remove(self, name: str) -> None:
        """Forget a function (used by tests and plugin unloading)."""
        if self._functions.pop(name.upper(), None) is not None:
            self.version += 1

    def get(self, name: str) -> Function | None:
        """The function of that name (any letter case), or None."""
        return self._functions.get(name.upper())

    def copy(self) -> FunctionRegistry:
        """A registry with the same functions, to extend without touching this one."""
        return FunctionRegistry(list(self._functions.values()))

    def __iter__(self) -> Iterator[Function]:
        return iter(sorted(self._functions.values(), key=lambda f: f.name))

    def __contains__(self, name: str) -> bool:
        return name.upper() in self._functions

    def __len__(self) -> int:
        return len(self._functions)


#: The registry that holds the built-in functions and what plugins add.
FUNCTIONS = FunctionRegistry()


_EXAMPLE = re.compile(r"^\s*(?P<formula>.+?)\s+(?:→|->)\s+(?P<result>.+?)\s*$")


def parse_doc(doc: str | None) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Split a docstring into its description and its ``formula → result`` examples.

    Examples are the lines after a line ``Examples:``; each reads ``FORMULA → RESULT``
    where RESULT is written as the docs show values (``"text"``, ``3``, ``TRUE``,
    ``2024-03-05``, ``blank``, or ``error: message``).
    """
    text = (doc or "").strip()
    description, _, example_block = text.partition("Examples:")
    examples = []
    for line in example_block.splitlines():
        match = _EXAMPLE.match(line)
        if match:
            examples.append((match["formula"], match["result"]))
    lines = [line.strip() for line in description.strip().splitlines()]
    return " ".join(line for line in lines if line), tuple(examples)


def _signatures(signature: str | Sequence[str]) -> tuple[Signature, ...]:
    texts = [signature] if isinstance(signature, str) else list(signature)
    if not texts:
        raise ValueError("A function needs at least one signature")
    return tuple(parse_signature(text) for text in texts)


def register_function(
    name: str,
    signature: str | Sequence[str],
    implementation: Callable[..., Any],
    *,
    doc: str | None = None,
    category: str = "Plugin",
    blanks: str = "propagate",
    needs_env: bool = False,
    check: Callable[[Sequence[ArgInfo], str], None] | None = None,
    provider: str = "plugin",
    registry: FunctionRegistry | None = None,
    replace: bool = False,
) -> Function:
    """Add a function to the formula language (plugins call this through the hook).

    ``name`` is case-insensitive; ``signature`` is one signature text or a list of
    overloads (see the module docs); ``implementation`` receives Python values (Decimal,
    str, bool, date, datetime, time, None) and returns one; returning ``""`` means blank.
    The documentation comes from ``doc`` or the implementation's docstring.
    """
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise ValueError(f"Formula function name {name!r} must be letters, digits and '_'")
    if blanks not in ("propagate", "accept"):
        raise ValueError("blanks must be 'propagate' or 'accept'")
    function = _function(
        name.upper(), signature, implementation, doc, category=category, blanks=blanks,
        needs_env=needs_env, check=check, provider=provider,
    )  # fmt: skip
    return (FUNCTIONS if registry is None else registry).add(function, replace=replace)


def _function(
    name: str,
    signature: str | Sequence[str],
    implementation: Callable[..., Any],
    doc: str | None,
    **options: Any,
) -> Function:
    """A :class:`Function` whose docs (description, examples) come from ``doc`` or the
    implementation's docstring."""
    description, examples = parse_doc(doc if doc is not None else implementation.__doc__)
    return Function(
        name=name,
        signatures=_signatures(signature),
        implementation=implementation,
        doc=description,
        examples=examples,
        **options,
    )


def builtin(
    name: str,
    signature: str | Sequence[str],
    *,
    category: str,
    blanks: str = "propagate",
    needs_env: bool = False,
    check: Callable[[Sequence[ArgInfo], str], None] | None = None,
    special: bool = False,
    signature_text: str | None = None,
    inline: str | Mapping[int, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for the built-in library: register the function in :data:`FUNCTIONS`."""

    def decorate(implementation: Callable[..., Any]) -> Callable[..., Any]:
        function = _function(
            name, signature, implementation, None, category=category, blanks=blanks,
            needs_env=needs_env, check=check, special=special,
            signature_text=signature_text, inline=inline,
        )  # fmt: skip
        if special:  # compiled by the compiler itself: nothing to call
            function = dataclasses.replace(function, implementation=None)
        FUNCTIONS.add(function)
        return implementation

    return decorate


def unsupported(name: str, signature: str = "(Any, ...) -> Any", *, doc: str) -> None:
    """Register a Salesforce platform function that has no meaning in Stageflow."""
    FUNCTIONS.add(
        Function(
            name=name,
            signatures=_signatures(signature),
            implementation=None,
            category="Not available",
            unsupported=True,
            doc=doc,
        )
    )
