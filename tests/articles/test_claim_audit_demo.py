"""The claim audit on the corrected demo pages: nothing to find, and the command says so."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from evidencepress.demo.loader import load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(wagtail_tree: Any) -> dict[str, int]:
    return load_demo()


def test_audit_claims_all_passes_on_the_corrected_demo(demo: dict[str, int]) -> None:
    out = io.StringIO()
    call_command("audit_claims", "--all", stdout=out)
    assert "0 finding(s)" in out.getvalue(), out.getvalue()
