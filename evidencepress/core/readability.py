"""Reading level of plain text: Flesch–Kincaid grade and SMOG, computed by textstat.

The one place a reading grade is computed. It lives in core, not in evidence, because grading
prose is not knowledge about the evidence: it is a text utility that both domain apps above it
need (`articles` grades an article page while it is edited, `summaries` grades a reader's draft
whether it was generated or edited by hand), and core is the layer every app may import. Pure:
imports nothing from Django.

Two choices, both so that the grade measures what a reader reads:

- Syllables are counted with Pyphen's English hyphenation patterns only. textstat would otherwise
  download NLTK's CMU Pronouncing Dictionary on first use, and EvidencePress never reaches the
  network at run time. Grades differ from the CMU count by a fraction of a grade on ordinary prose.
- Plain text made from headings, list items and blocks has lines without a full stop; textstat
  would run them into the next sentence and report an inflated grade. Every line that does not
  end a sentence is ended with a full stop, and a leading list bullet is dropped, before grading
  (`prose`).

Formulas: Flesch–Kincaid grade, 0.39 × words per sentence + 11.8 × syllables per word − 15.59
(Kincaid JP et al., Naval Technical Training Command research branch report 8-75, 1975), and
SMOG (McLaughlin GH. J Reading 1969;12:639-46).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import ModuleType

_SENTENCE_END = (".", "!", "?", ":", ";")


def offline_textstat() -> ModuleType:
    """textstat, switched to its offline syllable counter (imported on first use).

    textstat pulls in NLTK and SciPy (about 100 MB), so it is imported here rather than when the
    app starts. count_syllables falls back to Pyphen when the dictionary lookup raises TypeError,
    which a missing dictionary (None) does: no download is attempted.
    """
    import textstat
    from textstat.backend.counts import _count_syllables

    _count_syllables.get_cmudict = lambda lang: None
    module: ModuleType = textstat
    return module


def prose(text: str) -> str:
    """`text` as textstat should see it: blank lines dropped, every line one sentence."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = re.sub(r"^[-*•]\s+", "", raw.strip())
        if not line:
            continue
        if not line.endswith(_SENTENCE_END):
            line += "."
        lines.append(line)
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ReadingLevel:
    flesch_kincaid_grade: float
    smog: float
    words: int
    sentences: int

    @property
    def grade(self) -> float:
        """The stricter (higher) of the two grades."""
        return max(self.flesch_kincaid_grade, self.smog)


def reading_level(text: str) -> ReadingLevel:
    """Flesch–Kincaid grade and SMOG index of `text` (US school grades), with word counts."""
    text = prose(text)
    if not text:
        return ReadingLevel(0.0, 0.0, 0, 0)
    textstat = offline_textstat()
    return ReadingLevel(
        flesch_kincaid_grade=float(textstat.flesch_kincaid_grade(text)),
        smog=float(textstat.smog_index(text)),
        words=int(textstat.lexicon_count(text)),
        sentences=int(textstat.sentence_count(text)),
    )
