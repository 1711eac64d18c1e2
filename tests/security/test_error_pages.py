"""A5: a crash while handling a reader's request leaks none of their health data.

The request form is posted with four canaries (email, question, body site, "other
treatment"), and saving is made to fail. The reader gets the generic 500 page; the log records
and the error email Django sends to ADMINS contain none of the canaries.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client, override_settings

from evidencepress.summaries import views
from evidencepress.summaries.models import SummaryRequest

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


# --- Issue #14: the reader's error pages are the site's own, in plain words -----------------

BRAND = 'class="brand"'  # the site's own header: base.html, not Django's bare page


def _typed_post(**overrides: Any) -> dict[str, Any]:
    typed = {
        "question": "Is it safe with my <b>heart</b> tablets? <script>alert(1)</script>",
        "site": "left temple",
        "email": "reader+csrf@example.com",
    }
    return valid_post(**{**typed, **overrides})


@pytest.mark.django_db
def test_a_missing_page_uses_the_site_page_in_plain_words(client: Client) -> None:
    response = client.get("/no-such-page-here/")
    body = response.content.decode()
    assert response.status_code == 404
    assert BRAND in body and "We cannot find that page" in body
    assert 'href="/search/"' in body


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_a_crash_uses_the_site_page_in_plain_words(
    topic: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "summary_request_submit", _boom)
    response = Client(raise_request_exception=False).post(URL, valid_post())
    body = response.content.decode()
    assert response.status_code == 500
    assert BRAND in body and "something went wrong on our side" in body
    assert "it was not saved" in body


@pytest.mark.django_db
def test_an_oversized_post_uses_the_site_page_in_plain_words(topic: Any, settings: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.get(URL)
    huge = _typed_post(question="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10))
    huge["csrfmiddlewaretoken"] = strict.cookies["csrftoken"].value
    body = "&".join(f"{key}={value}" for key, value in huge.items() if isinstance(value, str))
    response = strict.post(URL, body, content_type="application/x-www-form-urlencoded")
    text = response.content.decode()
    assert response.status_code == 400
    assert BRAND in text and "too long" in text and "Nothing was saved" in text


@pytest.mark.django_db
def test_a_failed_csrf_check_keeps_what_the_reader_typed(topic: Any) -> None:
    strict = Client(enforce_csrf_checks=True)  # no cookie: as after the cookie expired
    response = strict.post(URL, _typed_post(), HTTP_ORIGIN="http://testserver")
    body = response.content.decode()

    assert response.status_code == 403
    assert BRAND in body and "Your request has not been sent yet" in body
    # What they typed is back in the form, escaped; the hostile markup is inert.
    assert "Is it safe with my &lt;b&gt;heart&lt;/b&gt; tablets? &lt;script&gt;" in body
    assert "<script>alert(1)" not in body and "<b>heart" not in body
    assert 'value="left temple"' in body and 'value="reader+csrf@example.com"' in body
    assert re.search(r'value="radiotherapy"[^>]*checked', body)
    # A fresh token: sending the form again now works, once.
    assert "no-store" in response["Cache-Control"]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert token and strict.cookies["csrftoken"].value
    again = strict.post(URL, {**_typed_post(), "csrfmiddlewaretoken": token.group(1)})
    assert again.status_code == 302
    assert SummaryRequest.objects.get().situation["site"] == "left temple"


@pytest.mark.django_db
@pytest.mark.parametrize("origin", ["https://evil.example", "null", None])
def test_a_post_from_another_site_never_fills_our_form(topic: Any, origin: str | None) -> None:
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    response = Client(enforce_csrf_checks=True).post(URL, _typed_post(), **headers)
    body = response.content.decode()
    assert response.status_code == 403
    assert BRAND in body and "Your form was not sent" in body
    assert "heart" not in body and "left temple" not in body and "reader+csrf" not in body
    assert "CSRF" not in body  # plain words, not Django's technical page
    assert SummaryRequest.objects.count() == 0


@pytest.mark.django_db
def test_a_csrf_failure_elsewhere_gets_the_general_page(client: Client) -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/search/", {"q": "typed"}, HTTP_ORIGIN="http://testserver"
    )
    assert response.status_code == 403
    assert "Your form was not sent" in response.content.decode()
