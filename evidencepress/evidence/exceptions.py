"""The evidence app's exceptions, all in one place.

    EvidenceError              anything the evidence app refuses or cannot do
    ├── ApiError               a JSON API request cannot be answered: `status` is the HTTP status
    │                          (400, 404, ...) and `message` the text of the JSON error (api.py)
    └── DefinitionRejected     a checked topic definition that cannot be applied to the stored
                               data (also a topic_definition.TopicDefinitionError; topics.py)

Bad input in forms and models is reported with Django's ValidationError, naming the field.
`ApiError` stays importable from `evidence.api`.
"""

from __future__ import annotations

from collections.abc import Mapping

from .topic_definition import TopicDefinitionError, dotted_path, line_of

KeyPath = tuple[str | int, ...]


class EvidenceError(Exception):
    """Base of the evidence app's exceptions."""


class ApiError(EvidenceError):
    """An API request that gets an error response instead of data."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class DefinitionRejected(TopicDefinitionError, EvidenceError):
    """A topic definition that is valid on its own but cannot be applied to what is stored:
    case values it would orphan, a value_map naming values it does not define, a name taken.

    `items` holds (key path, message) pairs, so a caller that has the file's text can name the
    line (evidence.topics.load_definition_text); `problems` reads "source: key.path: message".
    """

    def __init__(
        self,
        source: str,
        items: list[tuple[KeyPath, str]],
        lines: Mapping[KeyPath, int] | None = None,
    ) -> None:
        self.items = items
        where = (lambda path: f"{source}:{line_of(lines, path)}") if lines else (lambda _: source)
        super().__init__(
            source, [f"{where(path)}: {dotted_path(path)}: {msg}" for path, msg in items]
        )
