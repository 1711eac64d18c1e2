"""A5: a crash while handling a reader's request leaks none of their health data.

The request form is posted with four canaries (email, question, body site, "other
treatment"), and saving is made to fail. The reader gets the generic 500 page; the log records
and the error email Django sends to ADMINS contain none of the canaries.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core import mail
from django.test import Client, override_settings

from evidencepress.summaries import views

from ..summaries.conftest import topic
from ..summaries.test_request_form import URL, valid_post

__all__ = ["topic"]

CANARIES = {
    "email": "canary-mail-4411@example.com",
    "question": "CANARY-QUESTION-8812 my scalp lesion",
    "site": "CANARY-SITE-3307 left temple",
    "prior_treatments_other": "CANARY-OTHER-5120",
}


def _boom(**kwargs: Any) -> None:
    raise RuntimeError("storage failed")


@pytest.mark.django_db
@override_settings(DEBUG=False, ADMINS=[("Operations", "ops@example.org")])
def test_a_500_while_saving_a_request_leaks_no_canary(
    topic: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(views, "summary_request_submit", _boom)
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.DEBUG):
        response = client.post(URL, valid_post(**CANARIES))

    assert response.status_code == 500, response.context and response.context["form"].errors
    body = response.content.decode()
    assert "Traceback" not in body and "storage failed" not in body

    admin_mail = [m for m in mail.outbox if "ops@example.org" in m.to]
    assert admin_mail, "the crash must reach the error email (else this test proves nothing)"
    mail_text = "".join(
        m.subject + m.body + "".join(str(a[0]) for a in getattr(m, "alternatives", []))
        for m in admin_mail
    )
    assert "storage failed" in mail_text  # the report itself is there
    assert "question = '********************'" in mail_text  # POST shown, values masked

    records = [r for r in caplog.records if r.name.startswith("django")]
    assert records, "the crash must be logged"
    log_text = caplog.text + "".join(str(r.__dict__) for r in caplog.records)

    leaks = {
        (where, name)
        for where, text in (("page", body), ("mail", mail_text), ("log", log_text))
        for name, canary in CANARIES.items()
        if canary.split()[0].lower() in text.lower()
    }
    assert leaks == set()
