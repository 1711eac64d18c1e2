"""Signals the evidence app sends, for apps above it to receive (evidence imports none of them).

topic_definition_applied
    Sent by `evidence.topics.apply_definition` when a topic definition changed what is stored
    (a new TopicVersion), with sender=Topic and the keyword arguments `topic` (the Topic, saved),
    `version` (the new TopicVersion) and `definition` (the TopicDefinition as applied). Sent inside
    the application's transaction after every write, so a receiver's own writes commit or roll
    back with the definition, and a receiver that raises undoes the whole application. Not sent
    when a definition is applied again unchanged.
"""

from __future__ import annotations

from django.dispatch import Signal

topic_definition_applied = Signal()
