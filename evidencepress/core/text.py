"""Invisible formatting characters in titles and typed text: removed on save, shown in the admin.

Bidirectional overrides, embeddings and isolates (U+202A–U+202E, U+2066–U+2069), direction
marks (U+200E, U+200F, U+061C) and zero-width characters (U+200B–U+200D, U+2060, U+FEFF) print
nothing, yet reorder or split what a person reads: `Safe\u202eevil` shows as "Safelive", and
U+200B makes two titles that look the same compare different. Nothing in a title or a reader's
answer needs them, so:

- `strip_invisible` removes them; model `clean()` methods and forms call it on titles and on
  readers' free text, so they are never stored from the admin or the request form;
- `reveal_invisible` shows each one as a visible `[U+202E]` marker, for admin listings of text
  that reached the database another way (an import, rows from before this rule). The template
  filters of the same names are in core/templatetags/text_tags.py.

Zero-width joiners (U+200C, U+200D) are part of spelling in some scripts and of emoji; in
titles and readers' answers here they are removed like the rest (the trade is documented in
docs/security.md).
"""

from __future__ import annotations

import re
from typing import Any

INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def strip_invisible(text: str) -> str:
    """`text` without bidirectional controls and zero-width characters."""
    return INVISIBLE.sub("", text)


def reveal_invisible(text: str) -> str:
    """`text` with each bidirectional control or zero-width character written as [U+XXXX]."""
    return INVISIBLE.sub(lambda match: f"[U+{ord(match.group()):04X}]", text)


def has_invisible(text: str) -> bool:
    return INVISIBLE.search(text) is not None


class VisibleTitleMixin:
    """For models (Wagtail pages included) whose `title`-like fields people read in lists:
    clean() removes invisible formatting characters from the fields named in
    `visible_text_fields`."""

    visible_text_fields: tuple[str, ...] = ("title",)

    def clean(self) -> None:
        for name in self.visible_text_fields:
            value: Any = getattr(self, name, None)
            if isinstance(value, str):
                setattr(self, name, strip_invisible(value))
        super().clean()  # type: ignore[misc]
