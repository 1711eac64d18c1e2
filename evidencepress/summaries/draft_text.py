"""The text of a draft: sections and blocks, numbers that record their source, and rendering.

Pure: imports nothing from Django. A draft is a title and sections; a section is a heading and
blocks; a block is a paragraph or a list. The same structure is written three ways:

- `render_text`: the stored, editable plain text, a small subset of Markdown that reads well as
  it is: "# " the title, "## " a heading, "- " a list item, "1. " a numbered item, blank lines
  between blocks;
- `render_html`: the same as escaped HTML (every string through `html.escape`);
- `summaries.rendering` reads the plain text back (an editor's edit included) for the admin
  preview, the email and the PDF, so what is approved is what is shown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

NUMBER = re.compile(r"\d+(?:\.\d+)?")

Block = str | tuple[str, ...]  # a paragraph, or a list of items


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    blocks: tuple[Block, ...]
    ordered: bool = False  # lists are numbered (the sources)


@dataclass(frozen=True)
class Reference:
    """A source a draft may cite: a formatted citation and where to read it."""

    key: str  # stable, e.g. "publication-12"
    citation: str
    url: str = ""
    is_demo: bool = False


@dataclass(frozen=True)
class SourcedNumber:
    """A number as written in a draft, and where it came from."""

    value: str
    source: str


def format_number(value: float | int | Decimal) -> str:
    """One decimal place at most, half up; whole numbers without a decimal point."""
    rounded = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if rounded == rounded.to_integral_value():
        return str(int(rounded))
    return str(rounded)


def join(words: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def lower_first(name: str) -> str:
    """ "Aspirin" -> "aspirin", but "MRI scan" stays."""
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


class Writer:
    """Formats numbers and free text into a draft while recording where each number came from,
    and numbers the references in order of first citation."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, str], None] = {}
        self.references: list[Reference] = []
        # The publications a named group of cases cites, worked out once per draft.
        self.groups: dict[str, tuple[int, ...]] = {}

    def number(self, value: float | int | Decimal, source: str) -> str:
        text = format_number(value)
        self._numbers[(text, source)] = None
        return text

    def quote(self, text: str, source: str) -> str:
        """Free text from the data or the reader: every number in it is recorded as sourced."""
        for token in NUMBER.findall(text):
            self._numbers[(token, source)] = None
        return text

    def position(self, reference: Reference) -> int:
        """The reference's number in the list of sources (added on first citation)."""
        if reference not in self.references:
            self.references.append(reference)
        return self.references.index(reference) + 1

    def cite(self, references: Sequence[Reference]) -> str:
        """Citation marks for one or more references: "[1]", "[1, 3]"; "" for none."""
        if not references:
            return ""
        positions = sorted({self.position(reference) for reference in references})
        marks = ", ".join(self.number(p, "position in the list of sources") for p in positions)
        return f"[{marks}]"

    @property
    def numbers(self) -> tuple[SourcedNumber, ...]:
        return tuple(SourcedNumber(value, source) for value, source in self._numbers)


# --- rendering ---------------------------------------------------------------------------------


def _block_text(block: Block, ordered: bool) -> str:
    if isinstance(block, str):
        return block
    if ordered:
        return "\n".join(f"{position}. {item}" for position, item in enumerate(block, start=1))
    return "\n".join(f"- {item}" for item in block)


def render_text(title: str, sections: Sequence[Section]) -> str:
    """Plain text: "# " title, then "## " each heading and its blocks, blank lines between."""
    parts = [f"# {title}"] if title else []
    for section in sections:
        parts.append(f"## {section.heading}")
        parts.extend(_block_text(block, section.ordered) for block in section.blocks)
    return "\n\n".join(parts) + "\n"


def render_html(title: str, sections: Sequence[Section]) -> str:
    """The same content as HTML; every piece of text is escaped."""
    out = [f"<h1>{html.escape(title)}</h1>"]
    for section in sections:
        css = "summary-section summary-demo" if section.key == "demo" else "summary-section"
        out.append(f'<section class="{css}" id="summary-{section.key}">')
        out.append(f"<h2>{html.escape(section.heading)}</h2>")
        for block in section.blocks:
            if isinstance(block, str):
                out.append(f"<p>{html.escape(block)}</p>")
            else:
                tag = "ol" if section.ordered else "ul"
                items = "".join(f"<li>{html.escape(item)}</li>" for item in block)
                out.append(f"<{tag}>{items}</{tag}>")
        out.append("</section>")
    return "\n".join(out) + "\n"
