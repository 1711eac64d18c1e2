"""The safety rules' evaluator (summaries.safety) and the checks of rules as data (pure)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidencepress.evidence.safety_rules import check_rules
from evidencepress.evidence.topic_definition import TopicDefinitionError, parse_definition
from evidencepress.summaries.safety import (
    FiredRule,
    ReaderAnswers,
    ages_in_text,
    evaluate,
    is_unknown,
    missing_statements,
    reader_answers,
    sizes_in_text,
)

DEMO = (
    Path(__file__).resolve().parents[2]
    / "evidencepress/demo/data/topics/imiquimod-angiosarcoma.json"
)
DEMO_DATA = json.loads(DEMO.read_text(encoding="utf-8"))
DEFINITION = parse_definition(DEMO_DATA)
RULES = DEFINITION.safety_rules


def stored(**answers: object) -> dict[str, object]:
    """A stored request's answers, everything "not sure" unless given."""
    base: dict[str, object] = {
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
        "question": "",
        "for_whom": "self",
    }
    base.update(answers)
    return base


def fired_ids(**answers: object) -> set[str]:
    fired = evaluate(RULES, reader_answers(stored(**answers)), DEFINITION.questionnaire)
    return {rule.id for rule in fired}


def fired(rule_id: str, **answers: object) -> FiredRule:
    rules = evaluate(RULES, reader_answers(stored(**answers)), DEFINITION.questionnaire)
    return next(rule for rule in rules if rule.id == rule_id)


# --- the five drafts issue #15 §2 found wanting ---------------------------------------------


def test_nodular_scalp_lesion_after_radiation_asking_to_replace_radiation() -> None:
    ids = fired_ids(
        setting="scalp_face",
        site="scalp",
        lesion_size_mm=40,
        lesion_depth="nodular",
        prior_treatments=["radiotherapy"],
        question="Could the cream replace more radiation?",
    )
    assert {"beyond-reach", "instead-of"} <= ids
    assert "nothing-known" not in ids
    reasons = " ".join(fired("beyond-reach", lesion_depth="nodular").reasons)
    assert "A lump (nodule)" in reasons  # the reader's own answer, as the form showed it


def test_pregnant_reader_fires_pregnancy_from_free_text_only() -> None:
    rule = fired("pregnancy", setting="scalp_face", question="I'm 20 weeks pregnant. Is it safe?")
    assert "pregnant" in " ".join(rule.reasons)
    assert any("tell their care team" in s for s in rule.statements)


def test_caregiver_who_knows_nothing_is_told_what_would_help() -> None:
    ids = fired_ids(for_whom="other", question="My dad has this. What can you tell me?")
    assert "nothing-known" in ids
    reasons = fired("nothing-known").reasons
    assert any("Where did the angiosarcoma start?" in r for r in reasons)


def test_a_size_in_the_free_text_counts_as_known() -> None:
    assert "nothing-known" not in fired_ids(question="It is about 3 cm wide.")
    assert "beyond-reach" in fired_ids(question="It is 6 x 4 cm now.")
    assert "beyond-reach" not in fired_ids(question="It is 2 cm now.")


def test_lymphoedema_arm_is_not_beyond_reach_because_of_swelling() -> None:
    ids = fired_ids(
        setting="lymphoedema",
        site="left arm",
        lesion_size_mm=15,
        lesion_depth="superficial",
        question="My arm has been swollen for years and now there are purple patches.",
    )
    assert "beyond-reach" not in ids and "nothing-known" not in ids


def test_child_by_age_or_words() -> None:
    assert "child" in fired_ids(question="She is 9 years old.")
    assert "child" in fired_ids(question="My 15-year-old son has it on his cheek.")
    assert "child" not in fired_ids(question="I am 72 years old.")


def test_immune_suppression_from_medicine_names() -> None:
    rule = fired("immune-suppression", current_treatments_other="tacrolimus after a transplant")
    assert any("other treatments now" in r for r in rule.reasons)


def test_nothing_fires_for_a_plain_known_situation() -> None:
    assert (
        fired_ids(
            setting="scalp_face",
            site="scalp",
            lesion_size_mm=12,
            lesion_count=1,
            lesion_depth="superficial",
            surgery_possible="no",
            question="Could the cream work for me?",
        )
        == set()
    )


# --- properties -------------------------------------------------------------------------------

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10)
FILLER = st.lists(st.sampled_from(["the", "on", "my", "cream", "skin", "scalp", "is"]), max_size=8)


@given(word=WORDS, before=FILLER, after=FILLER, upper=st.booleans())
def test_a_word_rule_fires_on_the_word_anywhere_in_any_case(
    word: str, before: list[str], after: list[str], upper: bool
) -> None:
    rule = {"id": "w", "title": "W", "when": {"text": [word]}, "statements": ["S."], "flag": "F"}
    text = " ".join([*before, word.upper() if upper else word, *after])
    result = evaluate([rule], ReaderAnswers({}, {"question": text}))
    assert [r.id for r in result] == ["w"]
    assert word in result[0].reasons[0].lower()


@given(word=WORDS, prefix=WORDS)
def test_a_word_rule_matches_whole_words_only(word: str, prefix: str) -> None:
    rule = {"id": "w", "title": "W", "when": {"text": [word]}, "statements": ["S."], "flag": "F"}
    assert evaluate([rule], ReaderAnswers({}, {"question": f"{prefix}{word}x"})) == ()


@given(text=st.text(max_size=200), more=st.text(max_size=200))
def test_more_free_text_never_unfires_a_text_rule(text: str, more: str) -> None:
    text_rules = [r for r in RULES if "text" in r["when"]]
    before = {r.id for r in evaluate(text_rules, ReaderAnswers({}, {"question": text}))}
    after = {r.id for r in evaluate(text_rules, ReaderAnswers({}, {"question": f"{text} {more}"}))}
    assert before <= after


ANSWER_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.lists(st.text(max_size=10), max_size=3),
)


@settings(max_examples=200)
@given(
    answers=st.dictionaries(
        st.sampled_from(
            ["setting", "lesion_depth", "lesion_size_mm", "lesion_count", "for_whom", "site"]
        ),
        ANSWER_VALUES,
    ),
    text=st.text(max_size=300),
)
def test_any_answers_evaluate_without_error_and_every_fired_rule_says_why(
    answers: dict[str, object], text: str
) -> None:
    for rule in evaluate(RULES, ReaderAnswers(answers, {"question": text})):
        assert rule.reasons and all(reason.strip() for reason in rule.reasons)
        assert rule.statements


@given(answers=st.dictionaries(st.sampled_from(["lesion_depth", "setting"]), ANSWER_VALUES))
def test_not_is_the_opposite_of_its_condition(answers: dict[str, object]) -> None:
    inner = {"answer": "lesion_depth", "in": ["nodular"]}
    plain = {"id": "a", "title": "A", "when": inner, "statements": ["S."], "flag": "F"}
    negated = {**plain, "id": "b", "when": {"not": inner}}
    ids = {r.id for r in evaluate([plain, negated], ReaderAnswers(answers))}
    assert len(ids) == 1


@given(number=st.integers(min_value=1, max_value=400))
def test_sizes_in_text_read_centimetres_and_millimetres(number: int) -> None:
    assert sizes_in_text(f"about {number} cm across") == [(number * 10, f"{number} cm")]
    assert sizes_in_text(f"it is {number}mm")[0][0] == number


def test_ages_in_text() -> None:
    assert [a for a, _ in ages_in_text("aged 15, and a 6 months old baby")] == [15, 0.5]
    assert ages_in_text("a lesion aged 4 cm") == []


def test_a_number_answer_that_is_not_a_number_never_fires() -> None:
    rule = {
        "id": "n",
        "title": "N",
        "when": {"answer": "lesion_size_mm", "at_least": 51},
        "statements": ["S."],
        "flag": "F",
    }
    for value in (None, "", "abc", float("nan"), True, "unsure"):
        assert evaluate([rule], ReaderAnswers({"lesion_size_mm": value})) == ()
    assert evaluate([rule], ReaderAnswers({"lesion_size_mm": "60"}))


def test_a_rule_that_cannot_be_read_fires_and_says_so() -> None:
    broken = {"id": "x", "title": "X", "when": {"odd": 1}, "statements": ["S."], "flag": "F"}
    (result,) = evaluate([broken], ReaderAnswers({}))
    assert "could not be read" in result.reasons[0]


def test_is_unknown() -> None:
    assert all(is_unknown(v) for v in (None, "", "unsure", "Unknown", " Not sure ", ()))
    assert not any(is_unknown(v) for v in (False, 0, "nodular", ("x",)))


@given(
    spacing=st.sampled_from([" ", "\n", "  ", "\n- "]),
    upper=st.booleans(),
)
def test_missing_statements_ignores_wrapping_and_case_but_not_rewording(
    spacing: str, upper: bool
) -> None:
    rule = fired("pregnancy", question="pregnant")
    text = "\n\n".join(spacing.join(statement.split(" ")) for statement in rule.statements)
    text = text.upper() if upper else text
    assert missing_statements([rule], f"Title\n\n{text}\n\nSources") == {}
    reworded = text.replace("TELL" if upper else "tell", "ask", 1)
    assert missing_statements([rule], reworded) == {"pregnancy": (rule.statements[0],)}


# --- rules as data are checked ---------------------------------------------------------------


def _with_rules(rules: list[dict[str, object]]) -> dict[str, object]:
    data = copy.deepcopy(DEMO_DATA)
    data["safety_rules"] = rules
    return data


def test_demo_rules_are_valid_and_give_no_dose() -> None:
    assert check_rules(DEMO_DATA["safety_rules"], DEMO_DATA["questionnaire"]) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.append(copy.deepcopy(r[0])), "is used by another rule"),
        (
            lambda r: r[0]["when"]["any"][0]["in"].append("bumpy"),
            "'bumpy' is not an answer to lesion_depth",
        ),
        (lambda r: r[0]["statements"].append("Use it 3 times a week."), "must not give a dose"),
        (lambda r: r[1]["when"]["text"].append("**"), "has no letters"),
        (lambda r: r[0].pop("flag"), "'flag' is a required property"),
        (lambda r: r[0].update(when={"answer": "mood", "in": ["x"]}), "is not valid"),
    ],
)
def test_bad_rules_are_refused_naming_the_key(change: object, message: str) -> None:
    rules = copy.deepcopy(DEMO_DATA["safety_rules"])
    change(rules)  # type: ignore[operator]
    with pytest.raises(TopicDefinitionError) as raised:
        parse_definition(_with_rules(rules), source="topic.json")
    assert any("safety_rules" in p and message in p for p in raised.value.problems), (
        raised.value.problems
    )
    assert any(message in p for p in check_rules(rules, DEMO_DATA["questionnaire"]))


def test_rules_that_are_not_a_list_are_refused() -> None:
    assert check_rules({"id": "x"}) == ["rules: the rules must be a list (JSON array) of rules"]
