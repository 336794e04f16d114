"""The engine's refusal: an action it will not take, with the HTTP status that fits."""

from __future__ import annotations

from collections.abc import Mapping


class EngineError(Exception):
    """An action the engine refuses; ``code`` is the HTTP status that fits (400, 404, 409).

    ``errors`` maps fields to what is wrong with them (a form refused), when it helps.
    """

    def __init__(self, message: str, code: int = 409, *, errors: Mapping[str, str] | None = None
                 ) -> None:  # fmt: skip
        super().__init__(message)
        self.message = message
        self.code = code
        self.errors = dict(errors or {})
