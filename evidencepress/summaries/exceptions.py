"""The summaries app's exceptions, all in one place.

    SummariesError                       anything the summaries app refuses or cannot do
    ├── SummaryRequestError              an action is not allowed for a request now (services)
    ├── EncryptionUnavailable            no usable key: personal data can be neither stored nor
    │                                    read (crypto, keys); also a RuntimeError
    └── DeliveryFailed                   the email was not handed to the mail server; nothing
                                         was marked as sent (delivery); also a RuntimeError

Each message says what went wrong in plain words; views show SummaryRequestError's to editors.
The names stay importable from the modules that raise them (services, crypto, delivery).
"""

from __future__ import annotations


class SummariesError(Exception):
    """Base of the summaries app's exceptions."""


class SummaryRequestError(SummariesError):
    """The action is not allowed for this request now; the message says why, in plain words."""


class EncryptionUnavailable(SummariesError, RuntimeError):
    """No usable encryption key: personal data can be neither stored nor read."""


class DeliveryFailed(SummariesError, RuntimeError):
    """The email could not be handed to the mail server; nothing was marked as sent."""
