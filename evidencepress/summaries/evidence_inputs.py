"""Gather a topic's evidence as plain data and draft a reader's summary from it (a selector).

The only Django-side step of drafting: it reads the topic report (`evidence.topic_reports`), the
sourced facts about the topic's treatment and the publications to cite, then hands plain data to
the pure `matching` and `drafting` modules. A fixed number of queries whatever the number of
cases: the topic report's, plus one each for facts, publications and treatment names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from evidencepress.evidence.models import EvidenceFact, Publication, Topic, Treatment
from evidencepress.evidence.querysets import unshown_publication_fields
from evidencepress.evidence.references import publication_reference as ama_reference
from evidencepress.evidence.rulesets import active_safety_rules
from evidencepress.evidence.synthesis import synthesise
from evidencepress.evidence.topic_definition import definition_for
from evidencepress.evidence.topic_reports import TopicReport, topic_report

from .drafting import (
    Draft,
    DraftInputs,
    Fact,
    Reference,
    case_groups,
    draft_summary,
    publications_to_cite,
)
from .matching import Situation, match_cases
from .phrasing import Phrases
from .safety import FiredRule, ReaderAnswers, answers_from_situation, evaluate


def publication_reference(publication: Publication) -> Reference:
    """A publication as a citation (AMA style, `evidence.references`) with its best link."""
    formatted = ama_reference(publication)
    return Reference(
        key=f"publication-{publication.pk}",
        citation=formatted.text,
        url=formatted.pubmed_url or formatted.doi_url,
        is_demo=publication.is_demo,
    )


def treatment_facts(topic: Topic) -> tuple[Fact, ...]:
    """Sourced facts about the topic's treatment, from every topic about the same treatment.

    Side-effect facts are usually read in reports on other conditions (a drug's side effects in
    its licensed use), so they are stored on a safety topic and shared by topics with the same
    treatment.
    """
    rows = (
        EvidenceFact.objects.filter(topic__treatment__iexact=topic.treatment)
        .select_related("publication")
        .defer(*unshown_publication_fields("publication__"))
        .order_by("kind", "sort_order", "topic__slug", "key")
    )
    return tuple(
        Fact(
            key=f"{fact.topic_id}-{fact.key}",
            kind=fact.kind,
            statement=fact.statement,
            reference=publication_reference(fact.publication),
        )
        for fact in rows
    )


def _case_references(publication_ids: Iterable[int]) -> dict[int, Reference]:
    publications = (
        Publication.objects.for_display().filter(pk__in=set(publication_ids)).order_by("pk")
    )
    return {publication.pk: publication_reference(publication) for publication in publications}


def draft_inputs(report: TopicReport, situation: Situation) -> DraftInputs:
    """The plain data a draft is written from, for one topic report and one situation."""
    topic = report.topic
    definition = definition_for(topic)
    matches = match_cases(situation, report.cases, definition)
    groups = case_groups(situation, report.cases, matches, Phrases(definition, situation.for_whom))
    cited = {pub for group in groups for pub in publications_to_cite(group)}
    slugs = {*situation.prior_treatments, *situation.current_treatments}
    slugs.update(slug for m in matches for slug in m.case.concurrent_treatments)
    names = dict(Treatment.objects.filter(slug__in=slugs).values_list("slug", "name"))
    return DraftInputs(
        topic_name=topic.name,
        treatment=topic.treatment,
        condition=topic.condition,
        topic_synthesis=report.synthesis,
        topic_cases=report.cases,
        matches=matches,
        similar_synthesis=synthesise([m.case for m in matches], vocabulary=definition.vocabulary),
        certainty=report.certainty,
        gaps=report.gaps,
        definition=definition,
        facts=treatment_facts(topic),
        case_references=_case_references(cited),
        treatment_names=names,
    )


def fired_rules(topic: Topic, reader: ReaderAnswers) -> tuple[FiredRule, ...]:
    """The topic's approved safety rules that the reader's answers and free text meet."""
    from .forms import questionnaire_for  # the questions the reader was asked

    return evaluate(active_safety_rules(topic), reader, questionnaire_for(topic))


def draft_for_topic(
    topic: Topic, situation: Situation, *, reader: ReaderAnswers | None = None
) -> Draft:
    """Draft the plain-language summary of `topic` for a reader in `situation`.

    `reader` is everything the reader answered, free text included (`safety.reader_answers`
    of a stored request); without it the safety rules read the situation alone.
    """
    inputs = draft_inputs(topic_report(topic), situation)
    fired = fired_rules(topic, reader or answers_from_situation(situation))
    return draft_summary(situation, replace(inputs, fired_rules=fired))
