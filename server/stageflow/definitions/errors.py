"""Definition errors: each one says where (``file:line:column``) and what is wrong."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .spec import Position


@dataclass(frozen=True)
class DefinitionError:
    """One problem in a definition, at the key or value it concerns."""

    position: Position
    message: str

    def __str__(self) -> str:
        return f"{self.position}: {self.message}"

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order by file, line, column (then message, for a stable order)."""
        return (self.position.file, self.position.line, self.position.column, self.message)


class DefinitionErrors(Exception):
    """A deploy was refused: every problem found, sorted by file, line and column."""

    def __init__(self, errors: Iterable[DefinitionError]) -> None:
        self.errors = sorted(set(errors), key=DefinitionError.sort_key)
        super().__init__("\n".join(str(error) for error in self.errors))

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)
