"""Load definition files: YAML text in, validated specs out, or every error at once.

    >>> docs = load_definitions([("case.yaml", text)], step_types=types, active={},
    ...                         known_users=set())  # doctest: +SKIP

A deploy is all or nothing: :func:`load_definitions` returns documents only when none
has an error, and otherwise raises :class:`DefinitionErrors` listing all of them as
``file:line:column: message``, sorted.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from . import spec as S
from .errors import DefinitionError, DefinitionErrors
from .kinds import check_document
from .shapes import INVALID, Context, describe, suggestion
from .steptypes import StepType
from .validate import Active, Parsed, validate
from .yamlio import DEFAULT_LIMITS, Limits, read_documents

#: The name of every directory document (there is one directory of people).
DIRECTORY_NAME = "directory"


@dataclass(frozen=True)
class Document:
    """A validated definition document, ready to deploy.

    ``text`` is the document's own YAML (comments included), ``hash`` the SHA-256 of
    its canonical content (reformatting changes ``text``, not ``hash``), ``position``
    where it starts.  Directory documents are named ``"directory"``.
    """

    kind: str
    name: str
    spec: S.Spec
    text: str
    hash: str
    position: S.Position


def _kind(ctx: Context) -> str | None:
    """The document's kind, or None after reporting why it has none we know."""
    data = ctx.document.data
    if not isinstance(data, dict):
        ctx.error((), f"a definition must be a mapping with a kind, not {describe(data)}")
        return None
    kind = data.get("kind")
    if "kind" not in data:
        ctx.error((), "the document is missing required key 'kind'"
                  f" (one of: {', '.join(S.KINDS)})")  # fmt: skip
    elif kind not in S.KINDS:
        hint = suggestion(kind, S.KINDS) if isinstance(kind, str) else ""
        ctx.error(("kind",), f"unknown kind {kind!r}" + (hint if hint.startswith(" (") else
                  f"; use one of: {', '.join(S.KINDS)}"))  # fmt: skip
    else:
        return kind
    return None


def load_definitions(
    sources: list[tuple[str, str]],
    *,
    step_types: Mapping[str, StepType],
    active: Active | None = None,
    known_users: Collection[str] = (),
    known_teams: Mapping[str, Collection[str]] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Document]:
    """Parse and validate definition files: ``[(file name, YAML text), …]``.

    ``step_types`` are the installed step types by name; ``active`` the definitions
    already deployed and active, by kind then name (``{"object": {"Case": spec}}``),
    which this deploy's documents may refer to; ``known_users`` the user names that
    exist already (directory members may be these or users of this deploy);
    ``known_teams`` the queues and groups that exist already, by kind (``{"queue":
    names, "group": names}``), which SLA targets may name besides this deploy's.

    Returns the documents in file order.  Raises :class:`DefinitionErrors` with every
    problem of every file, sorted by file, line and column.
    """
    errors: list[DefinitionError] = []
    parsed: list[Parsed] = []
    for file, text in sources:
        documents, problems = read_documents(file, text, limits)
        errors += problems
        for document in documents:
            ctx = Context(document)
            kind = _kind(ctx)
            spec = check_document(ctx, step_types) if kind else INVALID
            if kind:
                parsed.append(Parsed(ctx, kind, spec))
            else:
                errors += ctx.errors
    validate(parsed, step_types=step_types, active=active or {}, known_users=known_users,
             known_teams=known_teams)  # fmt: skip
    for item in parsed:
        errors += item.ctx.errors
    if errors:
        raise DefinitionErrors(errors)
    return [_document(item) for item in parsed]


def _document(item: Parsed) -> Document:
    yaml = item.ctx.document
    name = item.name or DIRECTORY_NAME
    return Document(item.kind, name, item.spec, yaml.text, yaml.hash, yaml.position)
