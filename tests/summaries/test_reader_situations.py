"""Twenty-four readers, in their own words, against the demo topic's safety rules (issue #15 §2).

Each reader's request goes the whole way: stored (encrypted) as the form stores it, drafted by
an editor from the evidence with the topic's approved rules, and read by the reviewer. For each,
what the draft MUST say (the statements of the rules that must fire, and the reviewer's flag for
each) and what it MUST NOT say (the statements of rules that must not fire; never a dose, never
a cure). Several readers answer nothing but their question (free text only).

The situations are new: none repeats the five of test_personas.py. The issue's five failed
drafts are here first, in the readers' words as the issue reports them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from evidencepress.evidence.models import Topic
from evidencepress.evidence.rulesets import safety_rules_approve_for_demo
from evidencepress.summaries import services
from evidencepress.summaries.selectors import request_fired_rules

from .conftest import submit

DEFINITION = json.loads(
    (
        Path(__file__).resolve().parents[2]
        / "evidencepress/demo/data/topics/imiquimod-angiosarcoma.json"
    ).read_text(encoding="utf-8")
)
RULES = {rule["id"]: rule for rule in DEFINITION["safety_rules"]}
NOTHING = {
    "setting": "unsure",
    "site": "",
    "lesion_size_mm": None,
    "lesion_count": None,
    "lesion_depth": "unknown",
    "surgery_possible": "unsure",
    "prior_treatments": [],
    "prior_treatments_other": "",
    "current_treatments": [],
    "current_treatments_other": "",
}
NEVER = re.compile(r"\b(?:cure[sd]?|\d+(?:\.\d+)?\s*mg|\d+\s*times a (?:day|week))\b", re.I)


@dataclass(frozen=True)
class Reader:
    words: str  # their question, as they wrote it
    answers: dict[str, Any] = field(default_factory=dict)  # the form's other answers
    must: frozenset[str] = frozenset()  # rules that must fire
    must_not: frozenset[str] = frozenset()  # rules that must not fire
    free_text_only: bool = False


def reader(words: str, must: str = "", must_not: str = "", **answers: Any) -> Reader:
    return Reader(
        words=words,
        answers=answers,
        must=frozenset(must.split()),
        must_not=frozenset(must_not.split()),
        free_text_only=not answers or set(answers) <= {"for_whom"},
    )


READERS: dict[str, Reader] = {
    # --- the five failed drafts ---------------------------------------------------------
    "nodular_scalp_after_radiation_asks_to_replace_radiation": reader(
        "I had radiation for this two years ago and now there is a 4 cm lump on my scalp. Could "
        "the cream replace more radiation?",
        must="beyond-reach instead-of",
        must_not="nothing-known pregnancy child immune-suppression",
        setting="scalp_face", site="scalp", lesion_size_mm=40, lesion_count=1,
        lesion_depth="nodular", surgery_possible="unsure", prior_treatments=["radiotherapy"],
    ),
    "lymphoedema_arm": reader(
        "My arm has been swollen since my breast cancer operation, and now there are purple "
        "patches on it. Do doctors use the cream for this?",
        must_not="beyond-reach nothing-known pregnancy child instead-of immune-suppression",
        setting="lymphoedema", site="left forearm", lesion_size_mm=15, lesion_count=2,
        lesion_depth="superficial", surgery_possible="no",
    ),
    "pregnant_free_text_only": reader(
        "I'm 14 weeks pregnant and they found angiosarcoma on my breast. Is the cream safe "
        "for the baby?",
        must="pregnancy nothing-known",
        must_not="beyond-reach instead-of immune-suppression",
    ),
    "caregiver_who_knows_nothing": reader(
        "My dad was just told he has this. Nobody has told us any details yet. What can you "
        "tell us?",
        must="nothing-known",
        must_not="beyond-reach pregnancy instead-of immune-suppression",
        for_whom="other",
    ),
    "caregiver_gives_a_size_in_words": reader(
        "My wife has it on her scalp, about 3 cm across. We don't know the type.",
        must_not="nothing-known beyond-reach pregnancy child",
        for_whom="other",
    ),
    # --- pregnancy, breastfeeding, trying for a baby -------------------------------------------
    "breastfeeding": reader(
        "I am breastfeeding my little one. Can I put the cream on my scalp?",
        must="pregnancy",
        must_not="beyond-reach instead-of nothing-known",
        setting="scalp_face", site="scalp", lesion_size_mm=10, lesion_depth="superficial",
    ),
    "trying_for_a_baby": reader(
        "We are trying for a baby. Does imiquimod affect that?",
        must="pregnancy",
        must_not="beyond-reach child immune-suppression",
        setting="scalp_face", site="forehead", lesion_size_mm=12, lesion_depth="superficial",
    ),
    "ivf_free_text_only": reader(
        "We start IVF next month. Is it okay to use the cream before that?",
        must="pregnancy nothing-known",
        must_not="beyond-reach child",
    ),
    "says_she_is_not_pregnant": reader(
        # Known limit, on purpose: the words fire the rule. Its statements read true for anyone
        # ("Anyone who is pregnant ..."), and the reviewer sees why it fired.
        "I'm not pregnant, I'm 68. I only want to know about the side effects.",
        must="pregnancy",
        must_not="child beyond-reach instead-of",
        setting="radiation", site="breast", lesion_size_mm=20, lesion_depth="superficial",
    ),
    # --- a child --------------------------------------------------------------------------------
    "child_by_age": reader(
        "My son is 12 years old and has a purple patch on his cheek. The biopsy said "
        "angiosarcoma. Would a cream be tried?",
        must="child",
        must_not="pregnancy beyond-reach nothing-known",
        for_whom="other", setting="scalp_face", site="cheek", lesion_size_mm=15,
        lesion_depth="superficial",
    ),
    "teenager_free_text_only": reader(
        "Our teenage daughter has been diagnosed. Could a cream be tried first?",
        must="child nothing-known",
        must_not="pregnancy beyond-reach",
        for_whom="other",
    ),
    # --- a weakened immune system ---------------------------------------------------------------
    "kidney_transplant": reader(
        "I had a kidney transplant ten years ago and take tacrolimus. Is imiquimod safe for me?",
        must="immune-suppression",
        must_not="beyond-reach nothing-known pregnancy child",
        setting="scalp_face", site="temple", lesion_size_mm=8, lesion_depth="superficial",
    ),
    "immune_medicine_in_other_treatments": reader(
        "Can I use the cream?",
        must="immune-suppression",
        must_not="pregnancy child instead-of",
        setting="scalp_face", site="scalp", lesion_size_mm=18, lesion_depth="superficial",
        current_treatments_other="methotrexate for rheumatoid arthritis",
    ),
    "hiv_free_text_only": reader(
        "I have HIV and my immune system is weak. Would the cream still work on the spot on my "
        "nose, which is about 1 cm?",
        must="immune-suppression",
        must_not="nothing-known beyond-reach pregnancy",
    ),
    # --- instead of another treatment -----------------------------------------------------------
    "rather_not_have_surgery": reader(
        "I would rather not have surgery. Could the cream be used instead?",
        must="instead-of",
        must_not="beyond-reach nothing-known pregnancy",
        setting="scalp_face", site="scalp", lesion_size_mm=15, lesion_depth="superficial",
        surgery_possible="yes",
    ),
    "wants_to_avoid_chemotherapy": reader(
        "The oncologist wants me to start paclitaxel. I want to avoid chemotherapy. Is the "
        "cream an alternative?",
        must="instead-of",
        must_not="pregnancy child",
        setting="scalp_face", site="scalp", lesion_size_mm=30, lesion_depth="superficial",
    ),
    "shouting_with_curly_apostrophes": reader(
        "I DON\u2019T WANT RADIOTHERAPY AGAIN. CAN THE CREAM REPLACE IT?",
        must="instead-of",
        must_not="pregnancy child immune-suppression",
        setting="radiation", site="chest wall", lesion_size_mm=25, lesion_depth="superficial",
        prior_treatments=["radiotherapy"],
    ),
    # --- beyond what a cream reaches ------------------------------------------------------------
    "large_by_the_number": reader(
        "Is the cream enough on its own?",
        must="beyond-reach",
        must_not="nothing-known pregnancy child",
        setting="scalp_face", site="scalp", lesion_size_mm=80, lesion_depth="superficial",
    ),
    "many_patches": reader(
        "There are several small marks. Could the cream treat them all?",
        must="beyond-reach",
        must_not="nothing-known pregnancy",
        setting="scalp_face", site="scalp", lesion_size_mm=10, lesion_count=6,
        lesion_depth="superficial",
    ),
    "size_written_in_centimetres": reader(
        "It's a purple bruise-like patch about 7 cm across on my scalp.",
        must="beyond-reach",
        must_not="nothing-known pregnancy child instead-of",
    ),
    "lump_in_their_words": reader(
        "There's a lump on my forehead that keeps bleeding. What can be done?",
        must="beyond-reach nothing-known",
        must_not="pregnancy child instead-of",
    ),
    "deep_after_radiotherapy": reader(
        "The doctor said it goes deep. What are my options?",
        must="beyond-reach",
        must_not="nothing-known pregnancy",
        setting="radiation", site="breast", lesion_size_mm=30, lesion_depth="deep",
    ),
    "stewart_treves_nodules_caregiver": reader(
        "Her leg has been swollen for years and now has raised bumps.",
        must="beyond-reach",
        must_not="nothing-known pregnancy child",
        for_whom="other", setting="lymphoedema", site="right leg", lesion_depth="nodular",
    ),
    # --- nothing applies --------------------------------------------------------------------------
    "small_flat_patch_fully_known": reader(
        "Could the cream work for me?",
        must_not="beyond-reach nothing-known pregnancy child instead-of immune-suppression",
        setting="scalp_face", site="nose", lesion_size_mm=9, lesion_count=1,
        lesion_depth="superficial", surgery_possible="no",
    ),
}  # fmt: skip


def test_there_are_at_least_twenty_new_readers_several_in_free_text_only() -> None:
    assert len(READERS) >= 20
    assert sum(r.free_text_only for r in READERS.values()) >= 5
    for name, one in READERS.items():
        assert one.must_not, f"{name}: no must-not"
        assert not one.must & one.must_not, name
        assert one.must | one.must_not <= set(RULES), name


@pytest.fixture
def rules(topic: Topic) -> None:
    safety_rules_approve_for_demo(topic=topic, rules=DEFINITION["safety_rules"])


@pytest.mark.parametrize("name", sorted(READERS))
def test_each_readers_draft_says_what_their_situation_needs(
    name: str, topic: Topic, rules: None, editor: Any, client: Client
) -> None:
    one = READERS[name]
    situation = {**NOTHING, **one.answers, "question": one.words}
    situation.setdefault("for_whom", "self")
    summary_request = submit(topic, situation=situation)
    services.summary_request_draft(summary_request=summary_request, user=editor)
    text = " ".join(summary_request.drafted_text.split())
    fired = {rule.id: rule for rule in request_fired_rules(summary_request)}

    for rule_id in one.must:
        assert rule_id in fired, f"{name}: {rule_id} did not fire"
        assert fired[rule_id].reasons, f"{name}: {rule_id} gives no reason"
        for statement in RULES[rule_id]["statements"]:
            assert statement in text, f"{name}: the draft lacks {statement!r}"
    for rule_id in one.must_not:
        assert rule_id not in fired, f"{name}: {rule_id} fired: {fired[rule_id].reasons}"
        for statement in RULES[rule_id]["statements"]:
            assert statement not in text, f"{name}: the draft says {statement!r}"
    assert ("Important for this situation" in text) == bool(fired), name
    assert not NEVER.search(text), f"{name}: {NEVER.search(text)}"

    # The reviewer sees each fired rule's flag and why, beside the draft.
    client.force_login(editor)
    page = client.get(f"/admin/summaries/{summary_request.public_id}/").content.decode()
    for rule_id in one.must:
        assert RULES[rule_id]["flag"].replace("'", "&#x27;") in page, f"{name}: no flag"
    for rule_id in one.must_not:
        assert RULES[rule_id]["flag"].replace("'", "&#x27;") not in page, name
    assert "missing from the draft" not in page
