"""Read YAML definition files, keeping where every key and value stands.

PyYAML's safe composer gives nodes with marks; we build the Python data from them
ourselves so that each value path (a tuple of keys and indices) maps to its position,
and so that hostile input (alias bombs, deep nesting, huge documents) is refused with a
clear error before it costs memory.  Every problem is a :class:`DefinitionError`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import DefinitionError
from .spec import Position

#: A value's place in a document: mapping keys and list indices from the root.
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Limits:
    """How much a definition file may hold (beyond this it is refused, not parsed)."""

    max_nodes: int = 100_000  # per document, counting every alias expansion
    max_depth: int = 50
    max_document_bytes: int = 1_000_000
    max_file_bytes: int = 10_000_000


DEFAULT_LIMITS = Limits()


class _LimitError(Exception):
    def __init__(self, mark: yaml.Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


@dataclass(frozen=True)
class _Span:
    """Where a text scalar's source starts and ends, and its style (``"``, ``|``, …)."""

    start: int
    end: int
    style: str | None
    value: str


class _Source:
    """A file's text with its line starts, to turn character indices into positions."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def position(self, index: int) -> Position:
        line = bisect.bisect_right(self.line_starts, index) - 1
        return Position(self.file, line + 1, index - self.line_starts[line] + 1)

    def mark(self, mark: yaml.Mark) -> Position:
        return Position(self.file, mark.line + 1, mark.column + 1)


@dataclass
class YamlDocument:
    """One YAML document: its data, text, content hash, and positions by value path."""

    file: str
    data: Any
    text: str
    hash: str
    position: Position
    values: dict[Path, Position] = field(default_factory=dict, repr=False)
    keys: dict[Path, Position] = field(default_factory=dict, repr=False)
    spans: dict[Path, _Span] = field(default_factory=dict, repr=False)
    source: _Source | None = field(default=None, repr=False)

    def data_at(self, path: Path, default: Any = None) -> Any:
        """The raw value at ``path``, or ``default`` when there is none."""
        value = self.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return default
        return value

    def value_position(self, path: Path) -> Position:
        """Where the value at ``path`` starts (or its closest ancestor, if it is absent)."""
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, self.position)

    def key_position(self, path: Path) -> Position:
        """Where the mapping key naming ``path`` starts (its value's position for items)."""
        return self.keys.get(path) or self.value_position(path)

    def formula_position(self, path: Path, line: int | None, column: int | None,
                         skip: int = 0) -> Position:  # fmt: skip
        """The file position of ``line``/``column`` inside the formula at ``path``.

        ``skip`` is how many characters of the value precede the formula (1 for ``=``).
        Quoted, block and multi-line scalars are mapped character by character.
        """
        span = self.spans.get(path)
        if span is None or self.source is None or line is None:
            return self.value_position(path)
        formula_lines = span.value[skip:].split("\n")
        line = min(max(line, 1), len(formula_lines))
        offset = skip + sum(len(text) + 1 for text in formula_lines[: line - 1])
        offset += max((column or 1) - 1, 0)
        return self.source.position(_source_index(self.source.text, span, offset))


def _content_start(text: str, span: _Span) -> int:
    """Index of the first character of a scalar's content in the file."""
    if span.style in ('"', "'"):
        return span.start + 1
    if span.style in ("|", ">"):
        newline = text.find("\n", span.start, span.end)
        return span.end if newline < 0 else newline + 1
    return span.start


def _source_index(text: str, span: _Span, offset: int) -> int:
    """The file index of character ``offset`` of a scalar's value.

    Walks the value and its source together: equal characters advance both, runs of
    white space (line folding, indentation) match each other, and anything else in the
    source (quotes doubled, escapes) is skipped.
    """
    value, j, end = span.value, _content_start(text, span), span.end
    beyond = max(offset - len(value), 0)
    offset = min(offset, len(value))
    i = 0
    while i < offset and j < end:
        if value[i] == text[j]:
            i, j = i + 1, j + 1
        elif value[i].isspace() and text[j].isspace():
            while i < offset and value[i].isspace():
                i += 1
            while j < end and text[j].isspace():
                j += 1
        else:
            j += 1
    # Land on the character itself, not on the indentation before it.
    if offset < len(value) and not value[offset].isspace():
        while j < end and text[j].isspace():
            j += 1
    return min(j + beyond, len(text))


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing nesting deeper than the limit while composing."""

    def __init__(self, text: str, limits: Limits) -> None:
        super().__init__(text)
        self.limits = limits
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        self.depth += 1
        try:
            if self.depth > self.limits.max_depth:
                raise _LimitError(
                    self.peek_event().start_mark,
                    f"the document is nested deeper than {self.limits.max_depth} levels",
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_COLLECTION_TAGS = ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")


class _Builder:
    """Builds a document's Python data from its nodes, recording every position."""

    def __init__(self, loader: _Loader, source: _Source, limits: Limits) -> None:
        self.loader = loader
        self.source = source
        self.limits = limits
        self.nodes = 0
        self.values: dict[Path, Position] = {}
        self.keys: dict[Path, Position] = {}
        self.spans: dict[Path, _Span] = {}
        self.errors: list[DefinitionError] = []

    def build(self, node: yaml.Node, path: Path, depth: int = 1) -> Any:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise _LimitError(
                node.start_mark,
                f"the document has more than {self.limits.max_nodes:,} values"
                " (aliases expanding too much?)",
            )
        if depth > self.limits.max_depth:
            raise _LimitError(
                node.start_mark,
                f"the document is nested deeper than {self.limits.max_depth} levels"
                " (a recursive alias?)",
            )
        self.values[path] = self.source.mark(node.start_mark)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _COLLECTION_TAGS:
            self.errors.append(DefinitionError(self.values[path], f"unsupported tag {node.tag!r}"))
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            return self.build_mapping(node, path, depth)
        return self.build_scalar(node, path)

    def build_scalar(self, node: yaml.Node, path: Path) -> Any:
        try:
            value = self.loader.construct_object(node)
        except ValueError:
            value = node.value  # looked like a date but is none (2026-02-30): keep the text
        except yaml.YAMLError as error:
            problem = getattr(error, "problem", None) or str(error)
            self.errors.append(DefinitionError(self.values[path], f"invalid value: {problem}"))
            return node.value
        if isinstance(value, str):
            self.spans[path] = _Span(node.start_mark.index, node.end_mark.index, node.style, value)
        return value

    def build_mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict:
        merged: dict = {}  # from merge keys (<<: *anchor); the mapping's own keys win
        result: dict = {}
        for key_node, value_node in node.value:
            position = self.source.mark(key_node.start_mark)
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged.update(self.build_merge(value_node, path, depth))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.errors.append(DefinitionError(position, "a key must be a plain value"))
                continue
            key = self.loader.construct_object(key_node)
            if key in result:
                self.errors.append(DefinitionError(position, f"duplicate key {key!r}"))
                continue
            self.keys[(*path, key)] = position
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return {**{k: v for k, v in merged.items() if k not in result}, **result}

    def build_merge(self, node: yaml.Node, path: Path, depth: int) -> dict:
        """The keys a merge (``<<``) brings: from one mapping, or a list of them."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict = {}
        for source in reversed(sources):  # the first mapping listed wins
            if not isinstance(source, yaml.MappingNode):
                position = self.source.mark(source.start_mark)
                self.errors.append(DefinitionError(position, "<< must merge a mapping"))
                continue
            self.nodes += 1
            merged.update(self.build_mapping(source, path, depth + 1))
        return merged


def content_hash(data: Any) -> str:
    """SHA-256 of the canonical JSON of ``data``: equal for equal content, any layout."""
    canonical = json.dumps(
        json_safe(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def json_safe(value: Any) -> Any:
    """``value`` with dates and times as ISO text and keys as text, ready for JSON."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _events(loader: _Loader) -> Iterator[tuple[yaml.Event, yaml.Node, yaml.Event]]:
    """Each document's start event, root node and end event."""
    loader.get_event()  # stream start
    while not loader.check_event(yaml.StreamEndEvent):
        start = loader.get_event()
        root = loader.compose_node(None, None)
        end = loader.get_event()
        loader.anchors = {}
        yield start, root, end


def _document_text(text: str, begin: int, start: yaml.Event, end: yaml.Event) -> str:
    """The document's own lines: after its ``---`` line, comments included."""
    if start.explicit:
        newline = text.find("\n", start.end_mark.index)
        begin = len(text) if newline < 0 else newline + 1
    lines = text[begin : end.start_mark.index].splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines) + "\n" if lines else ""


def read_documents(
    file: str, text: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[YamlDocument], list[DefinitionError]]:
    """Parse every document of a YAML file: the documents read, and the problems found.

    A syntax error ends the file (the documents before it are still returned); a
    document over a limit is refused with an error at the place it was detected.
    """
    text = text.removeprefix("\ufeff")  # a byte order mark is not content
    source = _Source(file, text)
    if len(text.encode()) > limits.max_file_bytes:
        message = f"the file is larger than {limits.max_file_bytes:,} bytes"
        return [], [DefinitionError(Position(file, 1, 1), message)]
    loader = _Loader(text, limits)
    documents: list[YamlDocument] = []
    errors: list[DefinitionError] = []
    begin = 0
    try:
        for start, root, end in _events(loader):
            doc_text = _document_text(text, begin, start, end)
            begin = end.end_mark.index
            if root is None:
                continue
            position = source.mark(root.start_mark)
            if len(doc_text.encode()) > limits.max_document_bytes:
                message = f"the document is larger than {limits.max_document_bytes:,} bytes"
                errors.append(DefinitionError(position, message))
                continue
            builder = _Builder(loader, source, limits)
            try:
                data = builder.build(root, ())
            except _LimitError as error:
                errors.append(DefinitionError(source.mark(error.mark), error.message))
                continue
            if data is None:  # an empty document: only comments, or nothing
                continue
            errors += builder.errors
            documents.append(YamlDocument(
                file, data, doc_text, content_hash(data), position,
                builder.values, builder.keys, builder.spans, source,
            ))  # fmt: skip
    except _LimitError as error:
        errors.append(DefinitionError(source.mark(error.mark), error.message))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = source.mark(mark) if mark else Position(file, 1, 1)
        context = f" ({error.context})" if error.context else ""
        errors.append(DefinitionError(where, f"invalid YAML: {error.problem}{context}"))
    except yaml.YAMLError as error:
        errors.append(DefinitionError(Position(file, 1, 1), f"invalid YAML: {error}"))
    return documents, errors
