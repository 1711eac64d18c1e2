"""A small glossary of the medical words a summary cannot avoid, in plain words.

Pure: imports nothing from Django. A term is explained only when the summary uses it, so short
summaries stay short. Meanings are written for a reading age of about 12 and carry no numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    term: str
    meaning: str
    # Other spellings or forms that also count as using the term (lower case).
    forms: tuple[str, ...] = ()

    def used_in(self, text: str) -> bool:
        lowered = text.lower()
        return any(
            re.search(rf"(?<![a-z]){re.escape(form)}(?![a-z])", lowered)
            for form in (self.term.lower(), *self.forms)
        )


GLOSSARY: tuple[Term, ...] = (
    Term("angiosarcoma", "a rare cancer that starts in the lining of blood or lymph vessels."),
    Term("biopsy", "a tiny piece of skin is taken and looked at under a microscope."),
    Term("case report", "a doctor's write-up of what happened to one patient.", ("case reports",)),
    Term(
        "chemotherapy",
        "medicine that kills fast-growing cells, often given by drip into a vein.",
    ),
    Term(
        "erythema multiforme",
        "a rare, severe rash with round, target-like spots. It needs a doctor soon.",
    ),
    Term("immune system", "the body's own defence against germs and abnormal cells."),
    Term("lichen planus", "an itchy rash of small, flat, purple bumps."),
    Term(
        "lymphoedema",
        "long-lasting swelling, often of an arm after breast cancer treatment.",
        ("lymphedema",),
    ),
    Term("paclitaxel", "a chemotherapy drug, given by drip, used for angiosarcoma."),
    Term(
        "psoriasis",
        "a skin disease with red, scaly patches. Rarely, the cream can set it off.",
    ),
    Term(
        "radiotherapy",
        "treatment with strong X-rays aimed at the cancer.",
        ("radiation",),
    ),
    Term("recurrence", "the cancer comes back after it had cleared."),
    Term(
        "Stevens–Johnson syndrome",
        "a rare, severe reaction with blisters on the skin, mouth and eyes. It needs urgent care.",
        ("stevens-johnson syndrome",),
    ),
    Term("topical", "put on the skin, like a cream, rather than taken as a pill or a drip."),
    Term("vitiligo", "pale patches where the skin has lost its colour."),
)


def terms_used(text: str) -> tuple[Term, ...]:
    """The glossary terms that appear in text, in the glossary's (alphabetical) order."""
    return tuple(term for term in GLOSSARY if term.used_in(text))
