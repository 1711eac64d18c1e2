"""Who may hand out privileges: superuser status and the privileged groups are for superusers.

Admins manage users and groups (core/roles.py), but a user manager who could make anyone a
superuser, or a member of "Summary editors" (readers' personal health data), could make
themselves that too. So, for anyone who is not a superuser:

- the "superuser" box on the user forms is locked, and the privileged groups are not offered;
- privileged accounts (superusers, members of a privileged group) cannot be edited, deleted,
  deactivated or given roles: changing their email or password would take the account over;
- privileged groups cannot be edited, renamed, deleted or re-created under their name.

Enforced by the user and group views (core/users.py) and the bulk actions
(core/wagtail_hooks.py); docs/security.md, tests/security/test_privileges.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db.models import QuerySet

from .roles import SUMMARY_EDITORS

PRIVILEGED_GROUPS = frozenset({SUMMARY_EDITORS})


def grants_privileges(user: Any) -> bool:
    """True when this user may grant superuser status and privileged groups."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_superuser
    )


def is_privileged_group(group: Group | str) -> bool:
    name = group if isinstance(group, str) else group.name
    return name.strip().casefold() in {g.casefold() for g in PRIVILEGED_GROUPS}


def is_privileged_account(account: Any) -> bool:
    """A superuser, or a member of a privileged group."""
    if account is None or account.pk is None:
        return False
    if account.is_superuser:
        return True
    return bool(account.groups.filter(name__in=PRIVILEGED_GROUPS).exists())


def may_manage_account(user: Any, account: Any) -> bool:
    """May `user` change, delete, (de)activate or assign roles to `account`?"""
    return grants_privileges(user) or not is_privileged_account(account)


def may_manage_group(user: Any, group: Group) -> bool:
    return grants_privileges(user) or not is_privileged_group(group)


def grantable_groups(user: Any) -> QuerySet[Group]:
    """The groups `user` may put someone into."""
    groups = Group.objects.order_by("name")
    if grants_privileges(user):
        return groups
    return groups.exclude(name__in=PRIVILEGED_GROUPS)
