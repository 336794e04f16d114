"""What changed between two versions of a definition: their YAML, line by line.

:func:`diff_lines` compares two texts as ``diff -u`` does (with :mod:`difflib`), and
gives each line with its number in the old and the new text, so that a page can show
the changes as a table: removed lines, added lines, a few unchanged lines around them,
and a gap where unchanged lines are left out.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

#: Unchanged lines shown around each change.
CONTEXT = 3

SAME, ADDED, REMOVED, GAP = "same", "added", "removed", "gap"


@dataclass(frozen=True)
class DiffLine:
    """A line of a diff: ``kind`` is :data:`SAME`, :data:`ADDED`, :data:`REMOVED`, or
    :data:`GAP` (unchanged lines left out); ``old`` and ``new`` are its line numbers in
    each text (None where it is not in that text)."""

    kind: str
    text: str = ""
    old: int | None = None
    new: int | None = None

    @property
    def marker(self) -> str:
        """The mark ``diff -u`` puts before the line."""
        return {ADDED: "+", REMOVED: "-", SAME: " "}.get(self.kind, "")


def diff_lines(old: str, new: str, context: int = CONTEXT) -> list[DiffLine]:
    """The changes from ``old`` to ``new`` with ``context`` unchanged lines around each;
    empty when the texts have the same lines."""
    a, b = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    lines: list[DiffLine] = []
    end = 0  # the line of ``old`` the last group ended at
    for group in matcher.get_grouped_opcodes(context):
        if group[0][1] > end:  # unchanged lines left out before this group
            lines.append(DiffLine(GAP))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [DiffLine(SAME, a[i], i + 1, j1 + i - i1 + 1) for i in range(i1, i2)]
                continue
            lines += [DiffLine(REMOVED, a[i], old=i + 1) for i in range(i1, i2)]
            lines += [DiffLine(ADDED, b[j], new=j + 1) for j in range(j1, j2)]
        end = group[-1][2]
    if not any(line.kind in (ADDED, REMOVED) for line in lines):
        return []
    if end < len(a):
        lines.append(DiffLine(GAP))
    return lines
