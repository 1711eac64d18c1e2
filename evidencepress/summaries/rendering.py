"""Turn a summary's plain text into safe HTML: every character of the text is escaped.

Paragraphs are separated by blank lines; lines starting with "- " or "• " become list items.
Pure: no Django imports, so it is used alike for the admin preview, the email and the PDF.
"""

from __future__ import annotations

import html


def _paragraph_html(block: str) -> str:
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    if lines and all(line.startswith(("- ", "• ")) for line in lines):
        items = "".join(f"<li>{html.escape(line[2:].strip())}</li>" for line in lines)
        return f"<ul>{items}</ul>"
    return "<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>"


def text_to_html(text: str) -> str:
    """Escaped HTML for `text` (blank-line paragraphs, dash lists, line breaks kept)."""
    blocks = [block for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return "\n".join(_paragraph_html(block) for block in blocks)
