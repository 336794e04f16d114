"""Formula errors: values a person can act on.

Every error knows the formula text, the line and column where the problem is, and the
message in Salesforce's wording.  ``str(error)`` shows the source line with a caret::

    Incorrect parameter type for function 'IF()'. Expected Boolean, received Text
      IF("yes", 1, 2)
         ^
"""

from __future__ import annotations


class FormulaError(Exception):
    """Base class of every formula error.

    Attributes:
        message: what is wrong, without position (Salesforce's wording where it has one).
        source: the formula text, or ``None`` when unknown.
        line, column: 1-based position of the problem, or ``None`` when unknown.
    """

    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.line = line
        self.column = column

    def located(self, source: str, line: int | None, column: int | None) -> FormulaError:
        """Attach the formula text and a position, unless the error already has one."""
        if self.source is None:
            self.source = source
        if self.line is None and line is not None:
            self.line, self.column = line, column
        return self

    def caret(self) -> str:
        """The source line holding the error and a caret under its column ('' if unknown)."""
        if self.source is None or self.line is None:
            return ""
        lines = self.source.splitlines() or [""]
        if not 1 <= self.line <= len(lines):
            return ""
        text = lines[self.line - 1]
        column = max(1, self.column or 1)
        # Tabs keep their width so the caret lines up under them.
        pad = "".join("\t" if ch == "\t" else " " for ch in text[: column - 1])
        return f"  {text}\n  {pad}^"

    def to_dict(self) -> dict:
        """A JSON-ready description: kind, message, line, column."""
        return {
            "kind": self.kind,
            "message": self.message,
            "line": self.line,
            "column": self.column,
        }

    def __str__(self) -> str:
        where = f" (line {self.line}, column {self.column})" if self.line is not None else ""
        caret = self.caret()
        return f"{self.message}{where}" + (f"\n{caret}" if caret else "")


class FormulaSyntaxError(FormulaError):
    """The text is not a formula: a bad token, a missing or extra one, or a limit breached."""

    kind = "syntax"


class FormulaTypeError(FormulaError):
    """The formula parses, but names, argument counts or types do not fit."""

    kind = "type"


class FormulaRuntimeError(FormulaError):
    """Evaluation failed: division by zero, an invalid date, unparsable text, a time-out."""

    kind = "runtime"
