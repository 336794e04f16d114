"""Definition files as the deploy page shows them after a refusal: numbered lines, the
lines with errors marked, and each error's message next to its line.

Long files are shortened to the lines around the errors (with a gap marked where lines
are left out), so that a big paste does not bury the few lines that matter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..definitions.errors import DefinitionError

#: A file of at most this many lines is listed whole; a longer one only around errors.
MAX_WHOLE_LINES = 400
#: Lines shown before and after each error line of a shortened file.
CONTEXT_LINES = 4


@dataclass(frozen=True)
class ListedLine:
    """A line of a listed file: its number (0 marks lines left out), its text, and the
    errors found on it (``column: message``)."""

    number: int
    text: str = ""
    errors: tuple[str, ...] = ()

    @property
    def is_gap(self) -> bool:
        return self.number == 0


@dataclass(frozen=True)
class Listing:
    """A file with its lines and an id prefix for links to them (``src-1-line-7``)."""

    file: str
    anchor: str
    lines: tuple[ListedLine, ...]
    error_count: int

    def line_anchor(self, number: int) -> str:
        """The id of a line, for links from the list of errors."""
        return f"{self.anchor}-line-{number}"


def listing(file: str, text: str, errors: Iterable[DefinitionError], anchor: str) -> Listing:
    """``text`` (the file ``file``) with the ``errors`` in it at their lines.

    An error past the last line (the end of the file) is shown on an empty line after it.
    """
    texts = text.split("\n")
    by_line: dict[int, list[str]] = {}
    for error in errors:
        if error.position.file == file and error.position.line >= 1:
            message = f"column {error.position.column}: {error.message}"
            by_line.setdefault(error.position.line, []).append(message)
    texts += [""] * (max(by_line, default=0) - len(texts))
    shown = shown_numbers(len(texts), sorted(by_line))
    lines: list[ListedLine] = []
    for number in shown:
        if lines and number != lines[-1].number + 1:
            lines.append(ListedLine(0))
        lines.append(ListedLine(number, texts[number - 1], tuple(by_line.get(number, ()))))
    if shown and shown[-1] < len(texts):
        lines.append(ListedLine(0))
    if shown and shown[0] > 1:
        lines.insert(0, ListedLine(0))
    count = sum(len(messages) for messages in by_line.values())
    return Listing(file, anchor, tuple(lines), count)


def shown_numbers(total: int, error_lines: Sequence[int]) -> list[int]:
    """The numbers of the lines to show: all of a short file, else those near errors."""
    if total <= MAX_WHOLE_LINES or not error_lines:
        return list(range(1, min(total, MAX_WHOLE_LINES) + 1))
    near: set[int] = set()
    for line in error_lines:
        near.update(range(max(line - CONTEXT_LINES, 1), min(line + CONTEXT_LINES, total) + 1))
    return sorted(near)


def listings(
    sources: Sequence[tuple[str, str]], errors: Sequence[DefinitionError]
) -> list[Listing]:
    """Every file of a refused deploy, listed with its errors."""
    return [
        listing(file, text, errors, f"src-{number}")
        for number, (file, text) in enumerate(sources, start=1)
    ]
