"""Fixtures for the security tests: staff users per role, TOTP codes, a clean axes state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from evidencepress.core import roles

from ..conftest import ensure_wagtail_tree, totp_code
from .production import production_settings

__all__ = ["PASSWORD", "totp_code"]

PASSWORD = "correct horse battery staple 42"


@pytest.fixture(autouse=True)
def _reset_axes(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every database test starts and ends with no recorded failures and no lockouts."""
    uses_db = {"db", "transactional_db"} & set(request.fixturenames)
    if uses_db:
        from axes.utils import reset

        request.getfixturevalue(sorted(uses_db)[0])
        reset()
    yield
    if uses_db:
        from axes.utils import reset

        reset()


@pytest.fixture
def prod(settings: object, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The production security settings (tests/security/production.py) for one test."""
    values = production_settings(str(tmp_path_factory.mktemp("prod")))
    for key, value in values.items():
        setattr(settings, key, value)
    return values


@pytest.fixture
def staff_roles(db: None) -> None:
    from wagtail.models import Collection

    ensure_wagtail_tree()
    if Collection.get_first_root_node() is None:  # flushed by an earlier transactional test
        Collection.add_root(name="Root")
    roles.ensure_roles()


def make_user(username: str, *, group: str | None = None, superuser: bool = False) -> object:
    user_model = get_user_model()
    if superuser:
        return user_model.objects.create_superuser(username, f"{username}@example.org", PASSWORD)
    user = user_model.objects.create_user(username, f"{username}@example.org", PASSWORD)
    if group is not None:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor(staff_roles: None) -> object:
    return make_user("edna", group=roles.EDITORS)


@pytest.fixture
def enrolled_editor(editor: object) -> tuple[object, TOTPDevice]:
    device = TOTPDevice.objects.create(user=editor, name="phone", confirmed=True)
    return editor, device
