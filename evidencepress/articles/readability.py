"""Reading level of plain text: Flesch–Kincaid grade and SMOG, computed by textstat.

textstat counts English syllables with the CMU Pronouncing Dictionary from NLTK, which it
downloads on first use. EvidencePress never reaches the network at run time, so we make textstat
use its own offline fallback for every word, Pyphen's English hyphenation patterns. Grades differ
from the CMU count by a fraction of a grade on ordinary prose.

Formulas: Flesch–Kincaid grade (Kincaid JP et al., Naval Technical Training Command report 8-75,
1975) and SMOG (McLaughlin GH. J Reading 1969;12:639-46).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType


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
    text = text.strip()
    if not text:
        return ReadingLevel(0.0, 0.0, 0, 0)
    textstat = offline_textstat()
    return ReadingLevel(
        flesch_kincaid_grade=float(textstat.flesch_kincaid_grade(text)),
        smog=float(textstat.smog_index(text)),
        words=int(textstat.lexicon_count(text)),
        sentences=int(textstat.sentence_count(text)),
    )
