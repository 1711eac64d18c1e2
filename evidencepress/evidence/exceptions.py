"""The evidence app's exceptions, all in one place.

    EvidenceError              anything the evidence app refuses or cannot do
    └── ApiError               a JSON API request cannot be answered: `status` is the HTTP status
                               (400, 404, ...) and `message` the text of the JSON error (api.py)

Bad input in forms and models is reported with Django's ValidationError, naming the field.
`ApiError` stays importable from `evidence.api`.
"""

from __future__ import annotations


class EvidenceError(Exception):
    """Base of the evidence app's exceptions."""


class ApiError(EvidenceError):
    """An API request that gets an error response instead of data."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
