"""Give every existing topic a stored definition equal to what it used until now.

Until this migration every topic used one built-in case vocabulary and the summaries' built-in
questionnaire, matching and wording. `LEGACY` is that definition, frozen here as data (a
migration must not change when the code does): each topic gets it, with its own slug, name,
treatment, condition and description, as its definition and as its version 1. No case is
changed: every stored value is a value of this vocabulary (tests/evidence/test_topic_migration.py).
"""

from __future__ import annotations

import json
import re

from django.db import migrations

LEGACY_NOTE = "The vocabulary every topic used before topics were defined as data (migration)."

LEGACY = json.loads(
    r"""
{
    "format_version": 1,
    "kind": "treatment_condition",
    "treatment_words": [
        "imiquimod",
        "the cream"
    ],
    "vocabulary": {
        "settings": [
            {
                "value": "scalp_face",
                "label": "Scalp or face (head and neck, not radiation-associated)",
                "answer": "On the scalp or face",
                "phrase": "on the scalp or face"
            },
            {
                "value": "radiation",
                "label": "Radiation-associated (e.g. breast after radiotherapy)",
                "answer": "On the breast or chest, after radiotherapy (radiation-associated)",
                "phrase": "after radiotherapy (for example, to the breast)"
            },
            {
                "value": "lymphoedema",
                "label": "Lymphoedema-associated (Stewart–Treves)",
                "answer": "In a swollen arm or leg (lymphoedema-associated)",
                "phrase": "linked to lymphoedema"
            },
            {
                "value": "other",
                "label": "Other",
                "answer": "Somewhere else",
                "phrase": "in another setting"
            },
            {
                "value": "unknown",
                "label": "Not reported"
            }
        ],
        "extents": [
            {
                "value": "superficial",
                "label": "Superficial (patch or plaque)",
                "answer": "A flat or slightly raised patch on the skin"
            },
            {
                "value": "nodular",
                "label": "Nodular",
                "answer": "A lump (nodule)"
            },
            {
                "value": "deep",
                "label": "Deep or invasive",
                "answer": "It goes deep under the skin"
            },
            {
                "value": "widespread",
                "label": "Widespread or multifocal",
                "answer": "Many areas, or it has spread widely"
            },
            {
                "value": "unknown",
                "label": "Not reported",
                "answer": "Not sure"
            }
        ],
        "extent_groups": {
            "superficial": "local",
            "nodular": "local",
            "deep": "extensive",
            "widespread": "extensive"
        },
        "beyond_reach": [
            "deep",
            "widespread"
        ],
        "outcomes": [
            {
                "value": "complete",
                "label": "Complete response",
                "phrase": "cleared completely"
            },
            {
                "value": "partial",
                "label": "Partial response",
                "phrase": "got partly better"
            },
            {
                "value": "stable",
                "label": "Stable disease",
                "phrase": "stayed about the same"
            },
            {
                "value": "progression",
                "label": "Progression",
                "phrase": "got worse"
            },
            {
                "value": "unknown",
                "label": "Not reported"
            }
        ],
        "improved": [
            "complete",
            "partial"
        ],
        "assessments": [
            {
                "value": "clinical",
                "label": "Clinical examination"
            },
            {
                "value": "histological",
                "label": "Biopsy (histology)"
            },
            {
                "value": "clinical_histological",
                "label": "Clinical and biopsy"
            },
            {
                "value": "imaging",
                "label": "Imaging"
            },
            {
                "value": "unknown",
                "label": "Not reported"
            }
        ],
        "statuses": [
            {
                "value": "ned",
                "label": "Alive, no evidence of disease"
            },
            {
                "value": "awd",
                "label": "Alive with disease"
            },
            {
                "value": "dod",
                "label": "Died of disease"
            },
            {
                "value": "doc",
                "label": "Died of other causes"
            },
            {
                "value": "unknown",
                "label": "Not reported"
            }
        ],
        "severities": [
            {
                "value": "mild",
                "label": "Mild"
            },
            {
                "value": "moderate",
                "label": "Moderate"
            },
            {
                "value": "severe",
                "label": "Severe"
            },
            {
                "value": "life_threatening",
                "label": "Life-threatening"
            },
            {
                "value": "unknown",
                "label": "Not reported"
            }
        ],
        "site_regions": {
            "scalp": "head",
            "head": "head",
            "crown": "head",
            "vertex": "head",
            "temple": "face",
            "face": "face",
            "forehead": "face",
            "nose": "face",
            "cheek": "face",
            "ear": "face",
            "eyelid": "face",
            "lip": "face",
            "chin": "face",
            "jaw": "face",
            "neck": "neck",
            "breast": "chest",
            "chest": "chest",
            "wall": "chest",
            "trunk": "trunk",
            "back": "trunk",
            "abdomen": "trunk",
            "arm": "limb",
            "forearm": "limb",
            "hand": "limb",
            "leg": "limb",
            "thigh": "limb",
            "foot": "limb"
        }
    },
    "questionnaire": [
        {
            "key": "setting",
            "kind": "choice",
            "label": "Where did the angiosarcoma start?",
            "case_field": "setting",
            "options": [
                {
                    "value": "scalp_face",
                    "label": "On the scalp or face"
                },
                {
                    "value": "radiation",
                    "label": "On the breast or chest, after radiotherapy (radiation-associated)"
                },
                {
                    "value": "lymphoedema",
                    "label": "In a swollen arm or leg (lymphoedema-associated)"
                },
                {
                    "value": "other",
                    "label": "Somewhere else"
                },
                {
                    "value": "unsure",
                    "label": "Not sure"
                }
            ]
        },
        {
            "key": "site",
            "kind": "text",
            "label": "Where on the body is it now?",
            "help_text": "For example: scalp, nose, left breast. Leave empty if you are not sure.",
            "case_field": "site"
        },
        {
            "key": "lesion_size_mm",
            "kind": "number",
            "label": "How big is the largest patch or lump, in millimetres?",
            "help_text": "10 millimetres is 1 centimetre. Leave empty if you are not sure.",
            "case_field": "lesion_size_mm"
        },
        {
            "key": "lesion_count",
            "kind": "number",
            "label": "How many patches or lumps are there?",
            "help_text": "Leave empty if you are not sure.",
            "case_field": "lesion_count"
        },
        {
            "key": "lesion_depth",
            "kind": "choice",
            "label": "What does it look like?",
            "case_field": "lesion_depth",
            "options": [
                {
                    "value": "superficial",
                    "label": "A flat or slightly raised patch on the skin"
                },
                {
                    "value": "nodular",
                    "label": "A lump (nodule)"
                },
                {
                    "value": "deep",
                    "label": "It goes deep under the skin"
                },
                {
                    "value": "widespread",
                    "label": "Many areas, or it has spread widely"
                },
                {
                    "value": "unknown",
                    "label": "Not sure"
                }
            ]
        },
        {
            "key": "surgery_possible",
            "kind": "yes_no",
            "label": "Have your doctors said that surgery is possible?",
            "case_field": "surgery_candidate"
        }
    ],
    "matching": {
        "weights": {
            "setting": 3.0,
            "depth": 3.0,
            "size": 2.0,
            "surgery": 1.5,
            "prior_treatments": 1.5,
            "site": 1.0
        },
        "feature_names": {
            "setting": "the kind of angiosarcoma",
            "site": "where it is on the body",
            "depth": "how deep it goes",
            "size": "its size",
            "surgery": "whether surgery is possible",
            "prior_treatments": "treatments already tried"
        },
        "matched_labels": {
            "setting": "Same kind of angiosarcoma",
            "depth": "Same depth",
            "size": "Similar size",
            "surgery": "Same answer on surgery",
            "prior_treatments": "Some of the same past treatments",
            "site": "Same part of the body"
        },
        "size_bands": [
            {
                "up_to_mm": 20,
                "name": "small"
            },
            {
                "up_to_mm": 50,
                "name": "medium"
            }
        ],
        "similar_score": 0.6
    },
    "wording": {
        "condition_name": "angiosarcoma",
        "condition_kind": "the kind of angiosarcoma",
        "treatment_name": "imiquimod",
        "treatment_form": "the cream",
        "beyond_reach": "Topical treatment alone is unlikely to be enough."
    },
    "glossary": [
        {
            "term": "angiosarcoma",
            "meaning": "a rare cancer that starts in the lining of blood or lymph vessels."
        },
        {
            "term": "biopsy",
            "meaning": "a tiny piece of skin is taken and looked at under a microscope."
        },
        {
            "term": "case report",
            "meaning": "a doctor's write-up of what happened to one patient.",
            "forms": [
                "case reports"
            ]
        },
        {
            "term": "chemotherapy",
            "meaning": "medicine that kills fast-growing cells, often given by drip into a vein."
        },
        {
            "term": "erythema multiforme",
            "meaning": "a rare, severe rash with round, target-like spots. It needs a doctor soon."
        },
        {
            "term": "immune system",
            "meaning": "the body's own defence against germs and abnormal cells."
        },
        {
            "term": "lichen planus",
            "meaning": "an itchy rash of small, flat, purple bumps."
        },
        {
            "term": "lymphoedema",
            "meaning": "long-lasting swelling, often of an arm after breast cancer treatment.",
            "forms": [
                "lymphedema"
            ]
        },
        {
            "term": "paclitaxel",
            "meaning": "a chemotherapy drug, given by drip, used for angiosarcoma."
        },
        {
            "term": "psoriasis",
            "meaning": "a skin disease with red, scaly patches. Rarely, the cream can set it off."
        },
        {
            "term": "radiotherapy",
            "meaning": "treatment with strong X-rays aimed at the cancer.",
            "forms": [
                "radiation"
            ]
        },
        {
            "term": "recurrence",
            "meaning": "the cancer comes back after it had cleared."
        },
        {
            "term": "Stevens–Johnson syndrome",
            "meaning": "a rare, severe reaction with blisters on the skin, mouth and eyes. It needs urgent care.",
            "forms": [
                "stevens-johnson syndrome"
            ]
        },
        {
            "term": "topical",
            "meaning": "put on the skin, like a cream, rather than taken as a pill or a drip."
        },
        {
            "term": "vitiligo",
            "meaning": "pale patches where the skin has lost its colour."
        }
    ],
    "safety_rules": []
}
"""
)


def _slug(value: str) -> str:
    """The topic's slug as the definition format allows it (lower case words joined by -)."""
    words = re.findall(r"[a-z0-9]+", value.lower())
    return "-".join(words) or "topic"


def definition_of(topic) -> dict:
    data = json.loads(json.dumps(LEGACY))
    # Keys in the order of the published format, as an exported file has them.
    head = {
        "format_version": data.pop("format_version"),
        "slug": _slug(topic.slug),
        "name": topic.name or topic.slug,
        "kind": data.pop("kind"),
        "treatment": topic.treatment or "not given",
        "condition": topic.condition or "not given",
    }
    if topic.description:
        head["description"] = topic.description
    return {**head, **data}


def store_legacy(apps, schema_editor) -> None:
    Topic = apps.get_model("evidence", "Topic")
    TopicVersion = apps.get_model("evidence", "TopicVersion")
    for topic in Topic.objects.filter(definition={}).order_by("pk"):
        topic.definition = definition_of(topic)
        topic.save(update_fields=["definition"])
        if not TopicVersion.objects.filter(topic=topic).exists():
            TopicVersion.objects.create(
                topic=topic, number=1, data=topic.definition, note=LEGACY_NOTE
            )


def forget(apps, schema_editor) -> None:
    """Going back: the definitions and versions this migration stored are removed."""
    Topic = apps.get_model("evidence", "Topic")
    TopicVersion = apps.get_model("evidence", "TopicVersion")
    TopicVersion.objects.filter(number=1, note=LEGACY_NOTE).delete()
    for topic in Topic.objects.exclude(definition={}):
        if not TopicVersion.objects.filter(topic=topic).exists():
            topic.definition = {}
            topic.save(update_fields=["definition"])


class Migration(migrations.Migration):
    dependencies = [("evidence", "0009_topic_definition_versions")]

    operations = [migrations.RunPython(store_legacy, forget)]
