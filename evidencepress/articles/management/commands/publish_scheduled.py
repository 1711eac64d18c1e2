"""Wagtail's `publish_scheduled`, refusing first any scheduled revision that was not approved.

This app comes before `wagtail` in INSTALLED_APPS, so this command replaces Wagtail's; it runs
it unchanged after `services.unapproved_schedules_cancel()`. (`page.publish` refuses such a
revision anyway; cancelling first keeps one bad schedule from stopping the others.)
"""

from __future__ import annotations

from typing import Any

from wagtail.management.commands.publish_scheduled import Command as WagtailCommand

from evidencepress.articles.services import unapproved_schedules_cancel


class Command(WagtailCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        if not options.get("dryrun"):
            for revision_id in unapproved_schedules_cancel():
                self.stderr.write(
                    f"Revision {revision_id} was scheduled without clinical review and "
                    "editorial sign-off: its go-live was cancelled."
                )
        super().handle(*args, **options)
