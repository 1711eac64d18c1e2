"""Reading grade of a plain-language summary: Flesch–Kincaid grade and SMOG, via textstat.

Pure: imports nothing from Django.

- Flesch–Kincaid grade: 0.39 × words per sentence + 11.8 × syllables per word − 15.59
  (Kincaid JP et al., Naval Technical Training Command research branch report 8-75, 1975).
- SMOG index (McLaughlin GH. J Reading 1969;12:639-46).

Two adjustments, both so that the grade measures what a reader reads:
- Syllables are counted with Pyphen's English hyphenation patterns only. textstat 0.7.13 would
  otherwise download NLTK's CMU dictionary on first use, and EvidencePress never reaches the
  network at run time (`evidencepress/articles/readability.py` makes the same choice, so an
  article and a summary are graded alike).
- A summary's plain text has headings and list items without a full stop; textstat would run
  them into the next sentence and report an inflated grade. Every line that does not end a
  sentence is ended with a full stop before grading. The "Sources" section (citations, journal
  names) is not prose and is left out.
"""

from __future__ import annotations

import re

# textstat switched to its offline syllable counter, imported on first use (pure: no Django).
from evidencepress.articles.readability import offline_textstat

SOURCES_HEADING = "Sources"
_SENTENCE_END = (".", "!", "?", ":", ";")


def gradable_text(text: str) -> str:
    """The prose of a summary as textstat should see it: sources cut, every line a sentence."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line == SOURCES_HEADING:
            break
        if not line:
            continue
        line = re.sub(r"^[-*•]\s+", "", line)
        if not line.endswith(_SENTENCE_END):
            line += "."
        lines.append(line)
    return "\n".join(lines)


def grade(text: str) -> float:
    """Flesch–Kincaid grade (US school grade) of a summary's prose; 0 for empty text."""
    prose = gradable_text(text)
    return float(offline_textstat().flesch_kincaid_grade(prose)) if prose else 0.0


def smog(text: str) -> float:
    """SMOG index of a summary's prose; 0 for empty text (SMOG needs 30 sentences to be valid)."""
    prose = gradable_text(text)
    return float(offline_textstat().smog_index(prose)) if prose else 0.0
