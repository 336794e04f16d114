"""Type checking and compilation: a syntax tree becomes one Python function.

The compiler walks the tree once, checks every name, call and operator against the
schema and the function registry (raising :class:`FormulaTypeError` in Salesforce's
wording), and writes the formula as the body of a Python function: one statement per
operation, laziness (IF, AND, OR, CASE) as ``if`` statements.  Only names the compiler
invents appear in that code; every literal, field path and function is passed in as a
bound constant, so no text from a formula is ever executed.  The function is built once
and cached by source, schema and registry.

A local ``_s`` records the operation under way, so a run-time error points at the call
or operator that failed.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from . import operators as ops
from . import types as T
from .errors import FormulaError, FormulaRuntimeError, FormulaSyntaxError, FormulaTypeError
from .functions import FUNCTIONS, ArgInfo, Function, FunctionRegistry
from .parser import Binary, Call, Field, Literal, Node, Unary, parse
from .runtime import DEFAULT_LIMITS, EvalEnv, Limits, lookup, utcnow

_NORMAL = frozenset({Decimal, bool, dt.date, dt.time, type(None)})

# -- the compiled formula ----------------------------------------------------------------


class Formula:
    """A compiled formula: its result type and a fast ``evaluate``.

    ``evaluate(values=None, prior=None, *, now=None, tz=None)`` evaluates against
    ``values``: a mapping, nested mappings, or an object with ``resolve(path)``.
    ``prior`` holds the values before an update (``None``: the record is new); ``now``
    fixes the clock; ``tz`` is the zone of TODAY().  It returns Decimal, str, bool, date,
    aware datetime, time or None (blank), and raises :class:`FormulaRuntimeError`.
    ``evaluate`` is the generated function itself, so a call costs no extra layer.

    Attributes:
        source: the formula text.
        type: the result type ("Number", "Text", ... or "Any" where unknown).
        fields: the field paths it reads, in order of first use.
        functions: the names of the functions it calls.
        reads_clock: whether its value depends on the time (NOW, TODAY, TIMENOW).
        python: the generated Python source, for the curious.
    """

    __slots__ = (
        "evaluate", "fields", "functions", "limits", "python", "reads_clock", "source", "type",
    )  # fmt: skip

    def __init__(self, source: str, type_: str, fields: tuple[str, ...],
                 functions: tuple[str, ...], python: str, evaluate: Any,
                 limits: Limits) -> None:  # fmt: skip
        self.source = source
        self.type = type_
        self.fields = fields
        self.functions = functions
        self.python = python
        self.limits = limits
        self.evaluate = evaluate
        self.reads_clock = False

    def test(
        self, values: Mapping[str, Any] | Any = None, prior: Any = None, **kwargs: Any
    ) -> bool:
        """Evaluate as a condition: TRUE is True; FALSE and blank are False."""
        return self.evaluate(values, prior, **kwargs) is True

    def __repr__(self) -> str:
        return f"<Formula {self.source!r} -> {self.type}>"


def _no_value(path: str) -> None:
    return None


# -- schema ------------------------------------------------------------------------------


class _Schema:
    """Field types by path, with Salesforce's case-insensitive fallback (FORMULAS §8.14)."""

    def __init__(self, items: tuple[tuple[str, str], ...] | None) -> None:
        self.known = items is not None
        self.exact: dict[str, str] = {}
        self.folded: dict[str, list[str]] = {}
        for path, type_name in items or ():
            try:
                canonical = T.type_name(type_name)
            except ValueError as error:
                raise FormulaTypeError(f"Schema field {path}: {error}") from None
            self.exact[path] = canonical
            self.folded.setdefault(path.lower(), []).append(path)

    def resolve(self, path: str) -> tuple[str, str]:
        """The canonical path and the type of a field as written."""
        if not self.known:
            return path, T.ANY
        if path in self.exact:
            return path, self.exact[path]
        matches = self.folded.get(path.lower(), [])
        if len(matches) == 1:
            return matches[0], self.exact[matches[0]]
        if matches:
            raise FormulaTypeError(
                f"Field {path} is ambiguous: it matches {', '.join(sorted(matches))}"
            )
        raise FormulaTypeError(f"Field {path} does not exist. Check spelling.")


# -- code generation ---------------------------------------------------------------------


class _Compiler:
    """Checks types and writes the Python function for one formula."""

    def __init__(self, source: str, schema: _Schema, registry: FunctionRegistry) -> None:
        self.source = source
        self.schema = schema
        self.registry = registry
        self.lines: list[str] = []
        self.depth = 2  # inside def + try
        self.names: dict[str, Any] = {}
        self.constants: dict[tuple[type, Any], str] = {}
        self.sites: list[tuple[int, int]] = [(1, 1)]
        self.temps = 0
        self.fields: list[str] = []
        self.called: list[str] = []
        self.needs_env = False
        self.uses_clock = False
        self.read_once: dict[str, str] = {}  # field path → temp of a read that always runs

    # small helpers

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def temp(self) -> str:
        self.temps += 1
        return f"t{self.temps}"

    def bind(self, value: Any, prefix: str = "_k") -> str:
        """A name in the generated code for a Python object (constant or function)."""
        key = (type(value), value) if isinstance(value, (str, Decimal)) else (object, id(value))
        name = self.constants.get(key)
        if name is None:
            name = f"{prefix}{len(self.names)}"
            self.names[name] = value
            self.constants[key] = name
        return name

    @staticmethod
    def blank_test(codes: list[str]) -> str:
        """``a is None or b is None`` for the operands that can be blank ('' if none)."""
        tests = [
            f"{c} is None" for c in codes if not c.startswith("_k") and c not in ("True", "False")
        ]
        return " or ".join(tests)

    def guarded(self, codes: list[str], expression: str) -> str:
        """``expression``, or blank when any operand is blank."""
        test = self.blank_test(codes)
        return f"None if {test} else {expression}" if test else expression

    def site(self, node: Node) -> None:
        self.sites.append((node.line, node.column))
        self.emit(f"_s = {len(self.sites) - 1}")

    def fail(self, message: str, node: Node) -> FormulaTypeError:
        return FormulaTypeError(message, source=self.source, line=node.line, column=node.column)

    # dispatch

    def compile(self, node: Node) -> tuple[str, str]:
        """Emit the statements for ``node``; return its type and a simple expression."""
        if isinstance(node, Literal):
            return node.type, self.literal(node.value)
        if isinstance(node, Field):
            return self.field(node)
        if isinstance(node, Binary):
            if node.op in ("&&", "||"):
                operands, operators = _chain(node, node.op)
                return self.logical(node.op, operands, operators)
            return self.binary_chain(node)
        if isinstance(node, Unary):
            return self.unary(node)
        return self.call(node)  # type: ignore[arg-type]  # the last kind of node

    def literal(self, value: Any) -> str:
        if value is None or value is True or value is False:
            return repr(value)
        return self.bind(value)

    def field(self, node: Field) -> tuple[str, str]:
        try:
            path, type_ = self.schema.resolve(node.path)
        except FormulaTypeError as error:
            raise error.located(self.source, node.line, node.column) from None
        if path not in self.fields:
            self.fields.append(path)
        if path in self.read_once:  # read before, unconditionally: reuse it
            return type_, self.read_once[path]
        out = self.temp()
        key = self.bind(path)
        self.site(node)
        self.emit(f"{out} = get({key})")
        if "." in path:  # a flat key first; then through nested mappings
            self.emit(f"if {out} is None and values.__class__ is dict: "
                      f"{out} = _lookup(values, {key})")  # fmt: skip
        if type_ == T.NUMBER:
            self.emit(f"if {out} is not None and {out}.__class__ is not _Decimal: "
                      f"{out} = _normalize({out})")  # fmt: skip
        elif type_ in (T.TEXT, T.PICKLIST, T.MULTIPICKLIST):
            self.emit(f"if {out} is not None and ({out}.__class__ is not str or not {out}): "
                      f"{out} = _normalize({out})")  # fmt: skip
        else:
            self.emit(f"if {out}.__class__ not in _NORMAL: {out} = _normalize({out})")
        if self.depth == 2:  # top level: runs before everything after it
            self.read_once[path] = out
        return type_, out

    # operators

    def binary_chain(self, node: Binary) -> tuple[str, str]:
        """Operators in a left-associative chain, compiled in a loop, not by recursion."""
        chain = []
        while isinstance(node, Binary) and node.op not in ("&&", "||"):
            chain.append(node)
            node = node.left
        type_, code = self.compile(node)
        for link in reversed(chain):
            right_type, right = self.compile(link.right)
            if link.op in ops.COMPARISON:
                type_, code = self.comparison(link, type_, code, right_type, right)
            else:
                type_, code = self.arithmetic(link, type_, code, right_type, right)
        return type_, code

    def arithmetic(
        self, node: Binary, left_type: str, left: str, right_type: str, right: str
    ) -> tuple[str, str]:
        try:
            result_type, impl = ops.binary_result(node.op, left_type, right_type)
        except TypeError as error:
            raise self.fail(str(error), node) from None
        out = self.temp()
        if impl is None:  # an operand of unknown type: decide at run time
            self.site(node)
            self.emit(f"{out} = _dispatch({node.op!r}, {left}, {right})")
            return result_type, out
        if impl is ops.concat:
            self.emit(f"{out} = " + _concat_code(left, right))
            return result_type, out
        if impl not in (ops.num_add, ops.num_sub, ops.num_mul):
            self.site(node)
        self.emit(
            f"{out} = " + self.guarded([left, right], f"{self.bind(impl, '_op')}({left}, {right})")
        )
        return result_type, out

    def comparison(
        self, node: Binary, left_type: str, left: str, right_type: str, right: str
    ) -> tuple[str, str]:
        op = {"==": "=", "!=": "<>"}.get(node.op, node.op)
        try:
            ops.comparison_check(op, left_type, right_type)
        except TypeError as error:
            raise self.fail(str(error), node) from None
        types = {ops.operand_type(left_type), ops.operand_type(right_type)}
        textual = T.TEXT in types
        out = self.temp()
        if T.ANY in types:
            self.site(node)
            self.emit(f"{out} = _compare({op!r}, {left}, {right}, {textual})")
        elif op in ("=", "<>") and (textual or types == {T.NULL}):
            negate = "" if op == "=" else "not "
            self.emit(f"{out} = {negate}(({left} or '') == ({right} or ''))")
        elif op in ("=", "<>"):
            py = "==" if op == "=" else "!="
            self.emit(f"{out} = " + self.guarded([left, right], f"{left} {py} {right}"))
        elif textual:
            self.emit(
                f"{out} = " + self.guarded([left, right], f"_ordered({op!r}, {left}, {right})")
            )
        else:
            self.emit(f"{out} = " + self.guarded([left, right], f"{left} {op} {right}"))
        return T.CHECKBOX, out

    def unary(self, node: Unary) -> tuple[str, str]:
        operand_type, operand = self.compile(node.operand)
        out = self.temp()
        logical = node.op in ("!", "NOT")
        want, check = (T.CHECKBOX, "_as_checkbox") if logical else (T.NUMBER, "_as_number")
        where = f"operator '{node.op}'"
        if operand_type == T.ANY:  # known only now: check it now
            self.site(node)
            self.emit(f"{out} = {check}({operand}, {where!r})")
            operand = out
        elif operand_type not in (want, T.NULL):
            raise self.fail(_expected(where, [want], operand_type), node)
        if logical:
            self.emit(f"{out} = None if {operand} is None else not {operand}")
        elif node.op == "-":
            self.emit(f"{out} = " + self.guarded([operand], f"_minus({operand})"))
        else:
            self.emit(f"{out} = {operand}")
        return want, out

    def condition(self, node: Node, where: str, at: Node | None = None) -> str:
        """Emit a Checkbox argument; return an expression that is exactly True or False.

        ``at`` is where a type error points (the operator for ``&&``; else the argument).
        """
        type_, code = self.compile(node)
        if type_ == T.ANY:
            self.site(at or node)
            return f"_as_checkbox({code}, {where!r}) is True"
        if type_ not in (T.CHECKBOX, T.NULL):
            raise self.fail(_expected(where, [T.CHECKBOX], type_), at or node)
        return f"{code} is True"

    def logical(self, op: str, args: list[Node], operators: list[Node] | None = None):
        """AND/OR and ``&&``/``||``: stop at the first FALSE (AND) or TRUE (OR)."""
        name = {"&&": "AND", "||": "OR"}.get(op, op)
        where = f"operator '{op}'" if op in ("&&", "||") else f"function '{name}()'"
        at = operators or [None] * len(args)
        out = self.temp()
        self.emit(f"{out} = {self.condition(args[0], where, at[0])}")
        for index, arg in enumerate(args[1:]):
            self.emit(f"if {out}:" if name == "AND" else f"if not {out}:")
            self.depth += 1
            self.emit(f"{out} = {self.condition(arg, where, at[index])}")
            self.depth -= 1
        return T.CHECKBOX, out

    # calls

    def call(self, node: Call) -> tuple[str, str]:
        function = self.registry.get(node.name)
        if function is None:
            raise self.fail(f"Unknown function {node.name.upper()}. Check spelling.", node)
        if function.unsupported:
            raise self.fail(
                f"Function {function.name} may not be used in this type of formula", node
            )
        if function.name not in self.called:
            self.called.append(function.name)
        special = _SPECIAL.get(function.name)
        if special is not None:
            return special(self, function, node)
        arg_types, arg_codes = self.compile_args(node)
        result_type = self.check_call(function, node, arg_types)
        signature = function.resolve(arg_types)[0]
        for index, (type_, code) in enumerate(zip(arg_types, arg_codes, strict=True)):
            allowed = signature.param_at(index).types
            if type_ == T.ANY and allowed is not None:  # known only now: check it now
                self.site(node.args[index])
                name = self.bind(function.name)
                self.emit(f"_expect({code}, {self.bind(allowed, '_t')}, {name})")
        return result_type, self.emit_call(function, node, arg_codes, result_type)

    def compile_args(self, node: Call) -> tuple[list[str], list[str]]:
        """Emit every argument of a call, in order; return their types and expressions."""
        compiled = [self.compile(arg) for arg in node.args]
        return [type_ for type_, _ in compiled], [code for _, code in compiled]

    def check_call(self, function: Function, node: Call, arg_types: list[str]) -> str:
        """Check argument count and types (and literal checks); return the result type."""
        try:
            _, result_type = function.resolve(arg_types)
            if function.check is not None:
                infos = [_arg_info(a, t) for a, t in zip(node.args, arg_types, strict=True)]
                function.check(infos, function.name)
        except FormulaTypeError as error:
            index = getattr(error, "argument", None)
            at = node.args[index] if index is not None and index < len(node.args) else node
            raise error.located(self.source, at.line, at.column) from None
        return result_type

    def emit_call(self, function: Function, node: Call, args: list[str], result_type: str) -> str:
        out = self.temp()
        if function.blanks == "propagate" and "None" in args:
            self.emit(f"{out} = None")  # a NULL argument: blank, decided now
            return out
        template = function.inline_for(len(args))
        if template is not None:
            impl = self.bind(function.implementation, "_f")
            self.uses_clock |= "now" in template
            code = template.format(*args, f=impl)
            if function.blanks == "propagate":
                code = self.guarded(args, code)
            self.emit(f"{out} = {code}")
            if result_type in (T.TEXT, T.ANY):
                self.emit(f"if {out} == '': {out} = None")
            return out
        impl = self.bind(function.implementation, "_f")
        call_args = ", ".join(args)
        if function.needs_env:
            self.needs_env = True
            call_args = f"env, {call_args}" if call_args else "env"
        self.site(node)
        call = f"{impl}({call_args})"
        if function.blanks == "propagate":
            call = self.guarded(args, call)
        self.emit(f"{out} = {call}")
        if result_type in (T.TEXT, T.ANY):
            self.emit(f"if {out} == '': {out} = None")
        return out


def _chain(node: Node, op: str) -> tuple[list[Node], list[Node]]:
    """The operands and operators of ``a && b && c``, gathered without recursion."""
    operands, operators = [], []
    while isinstance(node, Binary) and node.op == op:
        operands.append(node.right)
        operators.append(node)
        node = node.left
    operands.append(node)
    return operands[::-1], operators[::-1]


def _concat_code(left: str, right: str) -> str:
    """``left & right`` skipping a blank side; constants (``_k…``) are never blank."""
    if left.startswith("_k") and right.startswith("_k"):
        return f"{left} + {right}"
    if left.startswith("_k"):
        return f"{left} if {right} is None else {left} + {right}"
    if right.startswith("_k"):
        return f"{right} if {left} is None else {left} + {right}"
    return f"{right} if {left} is None else ({left} if {right} is None else {left} + {right})"


def _expected(where: str, expected: list[str], received: str) -> str:
    return (
        f"Incorrect parameter type for {where}. Expected "
        f"{', '.join(T.display(t) for t in expected)}, received {T.display(received)}"
    )


def _arg_info(node: Node, type_: str) -> ArgInfo:
    if isinstance(node, Literal):
        return ArgInfo(type_, node.line, node.column, is_literal=True, value=node.value)
    if (isinstance(node, Unary) and node.op == "-" and isinstance(node.operand, Literal)
            and node.operand.type == T.NUMBER):  # fmt: skip
        return ArgInfo(type_, node.line, node.column, is_literal=True, value=-node.operand.value)
    path = node.path if isinstance(node, Field) else None
    return ArgInfo(type_, node.line, node.column, path=path)


# -- special forms -----------------------------------------------------------------------


def _compile_if(c: _Compiler, function: Function, node: Call) -> tuple[str, str]:
    if len(node.args) != 3:
        c.check_call(function, node, [T.ANY] * len(node.args))
    test = c.condition(node.args[0], "function 'IF()'")
    out = c.temp()
    types = [T.CHECKBOX]
    c.emit(f"if {test}:")
    for branch in node.args[1:]:
        c.depth += 1
        type_, code = c.compile(branch)
        c.emit(f"{out} = {code}")
        c.depth -= 1
        types.append(type_)
        if branch is node.args[1]:
            c.emit("else:")
    return c.check_call(function, node, types), out


def _compile_logical(c: _Compiler, function: Function, node: Call) -> tuple[str, str]:
    if not node.args:
        c.check_call(function, node, [])
    return c.logical(function.name, list(node.args))


def _compile_case(c: _Compiler, function: Function, node: Call) -> tuple[str, str]:
    count = len(node.args)
    if count < 4 or count % 2:
        raise c.fail(
            "Incorrect number of parameters for function 'CASE()'. "
            f"Expected {4 if count < 4 else count - 1}, received {count}",
            node,
        )

    def refuse(arg: Node) -> FormulaTypeError:
        return c.fail("Incorrect argument type for function 'CASE()'.", arg)

    subject_type, subject = c.compile(node.args[0])
    if subject_type in (T.CHECKBOX, T.GEOLOCATION):
        raise refuse(node.args[0])
    if subject_type == T.ANY:
        c.site(node)
    out, matched = c.temp(), c.temp()
    c.emit(f"{matched} = False")
    result_type = T.NULL
    pairs = [(node.args[i], node.args[i + 1]) for i in range(1, count - 1, 2)]
    for value_node, result_node in pairs:
        c.emit(f"if not {matched}:")
        c.depth += 1
        value_type, value = c.compile(value_node)
        if value_type in (T.CHECKBOX, T.GEOLOCATION):
            raise refuse(value_node)
        if subject_type == T.PICKLIST and not isinstance(value_node, Literal):
            raise c.fail(
                "Incorrect parameter type for function 'CASE()'. "
                "Picklist values must be text literals",
                value_node,
            )
        try:
            ops.comparison_check("=", subject_type, value_type)
        except TypeError:
            raise c.fail(
                _expected("function 'CASE()'", [subject_type], value_type), value_node
            ) from None
        textual = T.TEXT in {ops.operand_type(subject_type), ops.operand_type(value_type)}
        if T.ANY in (subject_type, value_type):
            c.emit(f"if _compare('=', {subject}, {value}, {textual}) is True:")
        elif textual:
            c.emit(f"if ({subject} or '') == ({value} or ''):")
        else:
            c.emit(f"if {subject} is not None and {value} is not None and {subject} == {value}:")
        c.depth += 1
        c.emit(f"{matched} = True")
        result_type = _case_result(c, result_node, result_type, out)
        c.depth -= 2
    c.emit(f"if not {matched}:")
    c.depth += 1
    result_type = _case_result(c, node.args[-1], result_type, out)
    c.depth -= 1
    return result_type, out


def _case_result(c: _Compiler, node: Node, so_far: str, out: str) -> str:
    type_, code = c.compile(node)
    if type_ in (T.CHECKBOX, T.GEOLOCATION):
        raise c.fail("Incorrect argument type for function 'CASE()'.", node)
    c.emit(f"{out} = {code}")
    if so_far in (T.NULL, T.ANY) or type_ in (T.NULL, T.ANY) or type_ == so_far:
        return type_ if so_far in (T.NULL,) or (so_far == T.ANY and type_ != T.NULL) else so_far
    if {so_far, type_} == {T.TEXT, T.PICKLIST}:
        return T.TEXT
    raise c.fail(_expected("function 'CASE()'", [so_far], type_), node)


def _compile_change(c: _Compiler, function: Function, node: Call) -> tuple[str, str]:
    arg_types, codes = c.compile_args(node)
    result_type = c.check_call(function, node, arg_types)
    field: Field = node.args[0]  # type: ignore[assignment]  # checked: a bare field
    path, _ = c.schema.resolve(field.path)
    helper = "_is_changed" if function.name == "ISCHANGED" else "_prior_value"
    out = c.temp()
    c.site(node)
    c.emit(f"{out} = {helper}(prior, {c.bind(path)}, {codes[0]})")
    return result_type, out


def _compile_null_tests(c: _Compiler, function: Function, node: Call) -> tuple[str, str]:
    arg_types, codes = c.compile_args(node)
    result_type = c.check_call(function, node, arg_types)
    text = ops.operand_type(arg_types[0]) == T.TEXT
    out = c.temp()
    if function.name == "ISNULL":
        c.emit(f"{out} = False" if text else f"{out} = {codes[0]} is None")
    else:  # NULLVALUE
        c.emit(f"{out} = {codes[0]}" if text else
               f"{out} = {codes[1]} if {codes[0]} is None else {codes[0]}")  # fmt: skip
    return result_type, out


_SPECIAL = {
    "IF": _compile_if,
    "AND": _compile_logical,
    "OR": _compile_logical,
    "CASE": _compile_case,
    "ISCHANGED": _compile_change,
    "PRIORVALUE": _compile_change,
    "ISNULL": _compile_null_tests,
    "NULLVALUE": _compile_null_tests,
}


# -- run-time helpers the generated code calls ---------------------------------------------


def _is_changed(prior: Any, path: str, current: Any) -> bool:
    if prior is None:
        return False
    before = lookup(prior, path)
    if isinstance(current, str) or isinstance(before, str):
        return (current or "") != (before or "")
    return current != before


def _prior_value(prior: Any, path: str, current: Any) -> Any:
    return current if prior is None else lookup(prior, path)


_RUNTIME = {
    "_Decimal": Decimal,
    "_ZERO": Decimal(0),
    "_minus": T.NUMBER_CONTEXT.minus,
    "_NORMAL": _NORMAL,
    "_normalize": T.normalize,
    "_lookup": lookup,
    "_dispatch": ops.dispatch_binary,
    "_compare": ops.dispatch_compare,
    "_ordered": ops.ordered,
    "_as_checkbox": ops.as_checkbox,
    "_as_number": ops.as_number,
    "_expect": ops.expect_type,
    "_is_changed": _is_changed,
    "_prior_value": _prior_value,
    "_FormulaError": FormulaError,
    "_no_value": _no_value,
    "_partial": functools.partial,
    "_EvalEnv": EvalEnv,
    "_utcnow": utcnow,
    "_UTC": dt.UTC,
    "_to_utc": T.to_utc,
}


def _build(source: str, compiler: _Compiler, result: str, type_: str, limits: Limits) -> Any:
    """Write, compile and return the ``evaluate`` function (and its source)."""
    sites = tuple(compiler.sites)

    def locate(error: FormulaError, site: int) -> FormulaError:
        line, column = sites[site]
        return error.located(source, line, column)

    def wrap(error: Exception, site: int) -> FormulaRuntimeError:
        line, column = sites[site]
        message = str(error) or type(error).__name__
        return FormulaRuntimeError(f"Error evaluating the formula: {message}",
                                   source=source, line=line, column=column)  # fmt: skip

    def too_long(text: str) -> FormulaRuntimeError:
        return FormulaRuntimeError(
            f"Text is too long ({len(text):,} characters). "
            f"Maximum length is {limits.max_text:,} characters",
            source=source,
        )

    lines = [
        "def evaluate(values=None, prior=None, *, now=None, tz=None):",
        "    if values.__class__ is dict: get = values.get",
        "    elif values is None: get = _no_value",
        "    else: get = _partial(_lookup, values)",
    ]
    if compiler.uses_clock:  # one clock reading per evaluation
        lines.append("    if now is None: now = _utcnow()")
        lines.append("    elif now.tzinfo is not _UTC: now = _to_utc(now)")
    if compiler.needs_env:
        lines.append("    env = _EvalEnv(_limits, tz)")
    lines += ["    _s = 0", "    try:", *compiler.lines, f"        result = {result}"]
    lines += [
        "    except _FormulaError as error:",
        "        raise _locate(error, _s) from None",
        "    except Exception as error:",
        "        raise _wrap(error, _s) from error",
    ]
    if type_ in (T.TEXT, T.ANY):
        lines.append("    if result.__class__ is str and len(result) > _max_text: "
                     "raise _too_long(result)")  # fmt: skip
    lines.append("    return result")
    python = "\n".join(lines) + "\n"
    namespace = {
        **_RUNTIME,
        **compiler.names,
        "_locate": locate,
        "_wrap": wrap,
        "_too_long": too_long,
        "_limits": limits,
        "_max_text": limits.max_text,
    }
    exec(compile(python, "<formula>", "exec"), namespace)  # noqa: S102 - our own code only
    return python, namespace["evaluate"]


def _result_check(type_: str, expected: str | None, source: str) -> None:
    if expected is None:
        return
    wanted = T.type_name(expected)
    if type_ in (T.ANY, T.NULL) or ops.operand_type(type_) == ops.operand_type(wanted):
        return
    raise FormulaTypeError(
        f"Formula result is data type ({T.display(type_)}), incompatible with expected "
        f"data type ({wanted}).",
        source=source,
        line=1,
        column=1,
    )


@functools.lru_cache(maxsize=4096)
def _compile_cached(
    source: str,
    schema: tuple[tuple[str, str], ...] | None,
    expected: str | None,
    registry: FunctionRegistry,
    registry_version: int,
    limits: Limits,
) -> Formula:
    tree = parse(source, limits)
    compiler = _Compiler(source, _Schema(schema), registry)
    type_, result = compiler.compile(tree)
    _result_check(type_, expected, source)
    python, evaluate = _build(source, compiler, result, type_, limits)
    formula = Formula(source, type_, tuple(compiler.fields), tuple(compiler.called), python,
                      evaluate, limits)  # fmt: skip
    formula.reads_clock = compiler.uses_clock
    return formula


def compile_formula(
    source: str,
    schema: Mapping[str, str] | None = None,
    *,
    expected: str | None = None,
    functions: FunctionRegistry | None = None,
    limits: Limits | None = None,
) -> Formula:
    """Parse, type-check and compile a formula (cached by all of its arguments).

    ``schema`` maps field names and paths (``Amount``, ``Account.Name``,
    ``$Steps.triage.severity``) to type names; without one, fields are ``Any`` and
    checked when evaluated.  ``expected`` is the type the result must have, e.g.
    ``"Checkbox"`` for a condition.  ``functions`` is the registry to call into
    (default: the built-ins and what plugins registered).

    Raises :class:`FormulaSyntaxError` or :class:`FormulaTypeError`.
    """
    if not isinstance(source, str):
        raise FormulaSyntaxError(f"A formula must be text, not {type(source).__name__}")
    registry = FUNCTIONS if functions is None else functions
    key = None if schema is None else tuple(sorted((str(k), str(v)) for k, v in schema.items()))
    try:
        return _compile_cached(source, key, expected, registry, registry.version,
                               limits or DEFAULT_LIMITS)  # fmt: skip
    except RecursionError:
        raise FormulaSyntaxError("Formula is too complex to compile", source=source) from None
