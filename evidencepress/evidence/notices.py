"""The two notices shown wherever cases reach a reader or a curator, defined once.

Pure: imports nothing from Django. Templates use them through the `evidence_notices` tags.
"""

from __future__ import annotations

# Next to every invented, illustrative case, source or figure.
DEMO_LABEL = "Demonstration data — not medical evidence"
# How the demonstration label explains itself where there is room for a sentence.
DEMO_EXPLANATION = "Invented for the demonstration: not real patients"

# The one sentence every reader-facing page, summary, feed and API response carries.
NOT_ADVICE = "This is information, not medical advice."
# What it means, where there is room for more than the sentence.
NOT_ADVICE_REASON = (
    "Case reports describe what happened to a few people; they cannot tell you what will "
    "happen to you. Decide about any treatment together with your specialist."
)
NOT_ADVICE_FULL = f"{NOT_ADVICE} {NOT_ADVICE_REASON}"
