"""Parsing: formula text to a small syntax tree, with syntax errors people can act on.

The grammar is ``formula.lark`` (LALR, contextual lexer).  A transformer given to the
parser builds the tree bottom-up while parsing, so no recursion depends on how deeply a
formula nests; the depth is measured as the tree is built and checked against the limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import types as T
from .errors import FormulaSyntaxError
from .runtime import DEFAULT_LIMITS, Limits

# -- the tree ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """A position in the source (1-based line and column) and the subtree's depth."""

    line: int
    column: int
    depth: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Any
    type: str


@dataclass(frozen=True, slots=True)
class Field(Node):
    path: str


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str  # as written
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # "+", "-", "*", "/", "^", "&", "=", "<>", "<", "<=", ">", ">=", "&&", "||"
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "-", "+", "!" or "NOT"
    operand: Node


# -- text literals -----------------------------------------------------------------------

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "N": "\n", "R": "\r", "T": "\t",
            '"': '"', "'": "'", "\\": "\\"}  # fmt: skip


def decode_string(token: str) -> str:
    """The value of a text literal: quotes removed, escapes decoded (FORMULAS.md §8.7)."""
    body = token[1:-1]
    if "\\" not in body:
        return body
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# -- building the tree while parsing -----------------------------------------------------


def _depth(*children: Node) -> int:
    return 1 + max((c.depth for c in children), default=0)


def _binary(op: str):
    def build(self: _Build, children: list) -> Binary:
        left, token, right = children
        # A left-associative chain (a + b + c …) counts as one level of nesting.
        depth = max(left.depth if isinstance(left, Binary) else left.depth + 1, right.depth + 1)
        return Binary(token.line, token.column, depth,
                      token.value if op == "?" else op, left, right)  # fmt: skip

    return build


class _Build(Transformer):
    """Builds :class:`Node` objects; holds no state, so one instance serves every thread."""

    def number(self, children: list[Token]) -> Literal:
        (tok,) = children
        return Literal(tok.line, tok.column, 1, Decimal(tok.value), T.NUMBER)

    def string(self, children: list[Token]) -> Literal:
        (tok,) = children
        return Literal(tok.line, tok.column, 1, decode_string(tok.value) or None, T.TEXT)

    def true(self, children: list[Token]) -> Literal:
        return Literal(children[0].line, children[0].column, 1, True, T.CHECKBOX)

    def false(self, children: list[Token]) -> Literal:
        return Literal(children[0].line, children[0].column, 1, False, T.CHECKBOX)

    def null(self, children: list[Token]) -> Literal:
        return Literal(children[0].line, children[0].column, 1, None, T.NULL)

    def field(self, children: list[Token]) -> Field:
        (tok,) = children
        _check_path(tok)
        return Field(tok.line, tok.column, 1, tok.value)

    def call(self, children: list) -> Call:
        name, args = children[0], children[1] if len(children) > 1 else None
        args = tuple(args or ())
        return Call(name.line, name.column, _depth(*args), name.value, args)

    def arguments(self, children: list[Node]) -> list[Node]:
        return children

    def _unary(self, op: str, children: list) -> Unary:
        operand = children[-1]
        token = children[0]
        text = op if op in "-+" else token.value.upper()
        return Unary(token.line, token.column, _depth(operand), text, operand)

    def neg(self, children: list) -> Unary:
        return self._unary("-", children)

    def pos(self, children: list) -> Unary:
        return self._unary("+", children)

    def not_(self, children: list) -> Unary:
        return self._unary("!", children)

    compare = _binary("?")
    add = _binary("+")
    sub = _binary("-")
    concat = _binary("&")
    pow = _binary("^")
    mul = _binary("*")
    div = _binary("/")
    and_ = _binary("&&")
    or_ = _binary("||")


def _check_path(tok: Token) -> None:
    if any(not part for part in tok.value.split(".")):
        raise FormulaSyntaxError(
            f"Syntax error. Field name '{tok.value}' has an empty part",
            line=tok.line,
            column=tok.column,
        )


_GRAMMAR = resources.files(__package__).joinpath("formula.lark").read_text(encoding="utf-8")

# Every operator is a named terminal, so the tree keeps its position for error carets.
_PARSER = Lark(
    _GRAMMAR,
    parser="lalr",
    lexer="contextual",
    propagate_positions=True,
    maybe_placeholders=False,
    transformer=_Build(),
)

# -- syntax errors -----------------------------------------------------------------------

_TOKEN_TEXT = {"RPAR": ")", "LPAR": "(", "COMMA": ",", "$END": "end of formula"}


def _syntax_error(source: str, error: UnexpectedInput) -> FormulaSyntaxError:
    unclosed = _unclosed_comment(source)
    if unclosed is not None:
        line = source.count("\n", 0, unclosed) + 1
        column = unclosed - (source.rfind("\n", 0, unclosed) + 1) + 1
        return FormulaSyntaxError(
            "Syntax error. Missing '*/' to close the comment",
            source=source,
            line=line,
            column=column,
        )
    line, column = getattr(error, "line", None), getattr(error, "column", None)
    if isinstance(error, UnexpectedCharacters):
        pos = error.pos_in_stream
        ch = source[pos]
        if source.startswith("/*", pos):
            message = "Syntax error. Missing '*/' to close the comment"
        elif ch in "\"'":
            message = _string_problem(source, pos)
        elif ch == "\\":
            message = "Syntax error. Found '\\' outside a text literal"
        else:
            message = f"Syntax error. Found '{ch}'"
        return FormulaSyntaxError(message, source=source, line=line, column=column)
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        expected = getattr(error, "expected", set()) or set()
        if "RPAR" in expected and _open_parens(source) > 0:
            message = "Syntax error. Missing ')'"
        else:
            message = "Syntax error. Missing expression at the end of the formula"
        end_line = source.count("\n") + 1
        end_column = len(source) - (source.rfind("\n") + 1) + 1
        return FormulaSyntaxError(message, source=source, line=end_line, column=end_column)
    token = error.token  # an UnexpectedToken: the other kinds were handled above
    unbalanced = token.type == "RPAR" and _open_parens(source[: token.start_pos]) <= 0
    if unbalanced or (token.type == "COMMA" and token.type not in error.expected):
        message = f"Syntax error. Extra '{token.value}'"
    else:
        message = f"Syntax error. Found '{token.value}'"
    return FormulaSyntaxError(message, source=source, line=token.line, column=token.column)


def _code_positions(source: str) -> Iterator[tuple[int, str]]:
    """(index, character) for every character outside text literals and comments;
    an unclosed comment yields ``"/*"`` at its start and ends the walk."""
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in "\"'":
            end = i + 1
            while end < n and source[end] != ch:
                end += 2 if source[end] == "\\" else 1
            i = end + 1
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                yield i, "/*"
                return
            i = end + 2
        else:
            yield i, ch
            i += 1


def _open_parens(source: str) -> int:
    """How many parentheses are open at the end of ``source`` (text and comments aside)."""
    depth = 0
    for _, ch in _code_positions(source):
        depth += {"(": 1, ")": -1}.get(ch, 0)
    return depth


def _unclosed_comment(source: str) -> int | None:
    """The index of a ``/*`` that is never closed, if any."""
    for index, ch in _code_positions(source):
        if ch == "/*":
            return index
    return None


def _string_problem(source: str, pos: int) -> str:
    quote = source[pos]
    i = pos + 1
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            nxt = source[i + 1 : i + 2]
            if not nxt:
                break
            if nxt not in _ESCAPES:
                return (
                    f"Syntax error. Invalid escape sequence '\\{nxt}' in text; "
                    "use \\\\ for a backslash"
                )
            i += 2
            continue
        if ch in "\r\n":
            return f"Syntax error. Missing {quote} before the end of the line"
        if ch == quote:
            break
        i += 1
    return f"Syntax error. Missing {quote} to close the text"


def parse(source: str, limits: Limits = DEFAULT_LIMITS) -> Node:
    """Parse formula text into a tree, enforcing the length and depth limits.

    Raises :class:`FormulaSyntaxError` with line, column and Salesforce's wording.
    """
    if not isinstance(source, str):
        raise FormulaSyntaxError(f"A formula must be text, not {type(source).__name__}")
    if len(source) > limits.max_length:
        raise FormulaSyntaxError(
            f"Formula is too long ({len(source):,} characters). "
            f"Maximum length is {limits.max_length:,} characters",
            source=source,
        )
    if not source.strip() or not _without_comments(source).strip():
        raise FormulaSyntaxError(
            "Syntax error. The formula is empty", source=source, line=1, column=1
        )
    try:
        tree = _PARSER.parse(source)
    except UnexpectedInput as error:
        raise _syntax_error(source, error) from None
    except FormulaSyntaxError as error:
        raise error.located(source, error.line, error.column) from None
    except Exception as error:  # lark wraps transformer errors in VisitError
        inner = getattr(error, "orig_exc", None)
        if isinstance(inner, FormulaSyntaxError):
            raise inner.located(source, inner.line, inner.column) from None
        raise
    if tree.depth > limits.max_depth:
        raise FormulaSyntaxError(
            f"Formula is nested too deeply ({tree.depth} levels). "
            f"Maximum depth is {limits.max_depth} levels",
            source=source,
            line=1,
            column=1,
        )
    return tree


def _without_comments(source: str) -> str:
    out, i = [], 0
    while True:
        start = source.find("/*", i)
        if start < 0:
            out.append(source[i:])
            return "".join(out)
        out.append(source[i:start])
        end = source.find("*/", start + 2)
        if end < 0:
            return "".join(out) + source[start:]
        i = end + 2
