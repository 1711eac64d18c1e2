"""Wagtail's users app with our viewsets: listed in INSTALLED_APPS in place of "wagtail.users".

Its own module (not core/apps.py) so that Django still finds CoreConfig as core's only app
config.
"""

from wagtail.users.apps import WagtailUsersAppConfig


class UsersConfig(WagtailUsersAppConfig):  # type: ignore[misc]
    """Only superusers grant superuser status and the privileged groups (core/privileges.py,
    core/users.py)."""

    user_viewset = "evidencepress.core.users.UserViewSet"
    group_viewset = "evidencepress.core.users.GroupViewSet"
