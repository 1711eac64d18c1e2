"""Personal and group author names as reference managers write them (RIS, BibTeX, .nbib).

Stored as MEDLINE stores them: a person has a last name (with its particles: "van der Berg"), a
fore name and initials; a group has only a collective name. Pure: no Django.
"""

from __future__ import annotations

import re

from evidencepress.literature.records import Author

# Lower-case words that belong to a surname when they come before it ("Ludwig van Beethoven").
PARTICLES = frozenset(
    [
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "dei",
        "di",
        "da",
        "dos",
        "das",
        "du",
        "le",
        "la",
        "les",
        "ten",
        "ter",
        "zu",
        "bin",
        "ibn",
        "al",
        "el",
        "y",
    ]
)
# Words that make a name an organisation, not a person (MEDLINE CollectiveName values).
_GROUP_WORDS = frozenset(
    [
        "group",
        "groups",
        "society",
        "consortium",
        "consortia",
        "committee",
        "collaborative",
        "collaboration",
        "collaborators",
        "network",
        "investigators",
        "association",
        "organization",
        "organisation",
        "council",
        "institute",
        "foundation",
        "team",
        "program",
        "programme",
        "trial",
        "trials",
        "registry",
        "center",
        "centre",
        "university",
        "hospital",
        "department",
        "agency",
        "board",
        "panel",
        "force",
        "alliance",
        "federation",
        "academy",
        "college",
        "service",
        "initiative",
        "project",
        "unit",
        "laboratory",
        "office",
        "ministry",
        "authors",
        "writing",
        "working",
        "study",
        "studies",
        "members",
        "coalition",
        "partnership",
        "commission",
    ]
)
# Lower-case function words no personal name holds (particles aside).
_GROUP_GLUE = frozenset({"and", "&", "of", "for", "on", "the", "in", "und", "et"})
# "E", "MA", "E.", "M.A.", "J-P": initials written after a surname (MEDLINE's "Saqi MA").
_INITIALS = re.compile(r"^(?:[A-Z]\.?(?:-?[A-Z]\.?){0,3})$")
_SPLIT_PARTS = re.compile(r"[\s.\-]+")


def initials_of(fore_name: str) -> str:
    """MEDLINE-style initials of a fore name: "Jean-Pierre" → "JP", "Ayşe" → "A"."""
    return "".join(part[0] for part in _SPLIT_PARTS.split(fore_name) if part and part[0].isalpha())


def looks_collective(name: str) -> bool:
    """Whether a name cannot be a person's: an organisation's word, a digit, a joining word
    ("and", "of", "for"), or more words than any personal name in a citation."""
    words = name.replace(",", " ").split()
    if not words:
        return False
    if any(character.isdigit() for character in name):
        return True
    lowered = [word.strip(".()").lower() for word in words]
    if any(word in _GROUP_WORDS or word in _GROUP_GLUE for word in lowered):
        return True
    return len(words) > 5


def _inverted(last: str, fore: str) -> Author:
    fore = fore.strip()
    if fore and _INITIALS.match(fore.replace(" ", "")) and fore.replace(".", "").isupper():
        # "Barata, C." or "Saqi, MA": only initials were given.
        return Author(last_name=last.strip(), initials=_letters(fore))
    return Author(last_name=last.strip(), fore_name=fore, initials=initials_of(fore))


def person_or_group(name: str) -> Author:
    """One author as a reference manager wrote it, read the way the reference tools read it.

    "Last, First" and "Last, First, Suffix" (the RIS specification's form) are inverted names;
    "Last FM" (MEDLINE's display form, ending in initials) is a surname and initials; any other
    name is "First [particles] Last", as Zotero and JabRef read a name without a comma. A name
    that cannot be a person's (looks_collective) is a group. Suffixes (Jr, III) are dropped, as
    the MEDLINE XML reader drops <Suffix>.
    """
    name = " ".join(name.split()).strip().rstrip(",").strip()
    if not name:
        return Author()
    if looks_collective(name):
        return Author(collective_name=name)
    if "," in name:
        last, _, rest = name.partition(",")
        fore = rest.split(",")[0] if rest.count(",") else rest
        if _is_suffix(fore) and "," in rest:  # "Last, Jr., First" (BibTeX's order)
            fore = rest.split(",", 1)[1]
        return _inverted(last, fore)
    words = name.split(" ")
    if len(words) == 1:
        return Author(last_name=name)
    if _INITIALS.match(words[-1]) and not _INITIALS.match(words[0]):
        last = " ".join(words[:-1])
        return Author(last_name=last, initials=_letters(words[-1]))
    while len(words) > 2 and _is_suffix(words[-1]):
        words = words[:-1]
    cut = len(words) - 1
    while cut > 1 and words[cut - 1] in PARTICLES:
        cut -= 1
    fore, last = " ".join(words[:cut]), " ".join(words[cut:])
    return Author(last_name=last, fore_name=fore, initials=initials_of(fore))


def _letters(initials: str) -> str:
    """Initials written as initials: "M.A." or "MA" or "J-P" → "MA", "JP"."""
    return "".join(character for character in initials if character.isalpha())


def _is_suffix(word: str) -> bool:
    return word.strip().rstrip(".").lower() in {"jr", "sr", "ii", "iii", "iv", "v", "2nd", "3rd"}
