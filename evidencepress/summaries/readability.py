"""Reading grade of a plain-language summary, by `core.readability` (the one grading function).

Pure: imports nothing from Django. What is summary-specific is only which text is graded: the
"Sources" section (citations, journal names) is not prose and is cut before grading. A generated
draft and the same text saved by an editor go through `grade` alike, so both get one grade.
"""

from __future__ import annotations

import re

from evidencepress.core.readability import reading_level

SOURCES_HEADING = "Sources"
# A draft's headings ("# ", "## ") and numbered items ("1. "): marks, not words.
_MARK = re.compile(r"^\s*(?:#{1,6}\s+|\d+\.\s+)")


def gradable_text(text: str) -> str:
    """The prose of a summary: everything before its "Sources" heading line, without the
    heading marks."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = _MARK.sub("", raw)
        if line.strip() == SOURCES_HEADING:
            break
        lines.append(line)
    return "\n".join(lines)


def grade(text: str) -> float:
    """Flesch–Kincaid grade (US school grade) of a summary's prose; 0 for empty text."""
    return reading_level(gradable_text(text)).flesch_kincaid_grade


def smog(text: str) -> float:
    """SMOG index of a summary's prose; 0 for empty text (SMOG needs 30 sentences to be valid)."""
    return reading_level(gradable_text(text)).smog
