"""Retention: personal data is deleted SUMMARIES_RETENTION_DAYS after a request is closed.

Run daily by the `purge_summary_requests` task (enqueue it from cron or a scheduler) or by
`python manage.py purge_requests`. Both call services.summary_request_purge.
"""

from __future__ import annotations

from django_tasks import task

from .services import summary_request_purge


@task()
def purge_summary_requests() -> int:
    """Background task: delete requests closed at least the retention period ago."""
    return summary_request_purge()
