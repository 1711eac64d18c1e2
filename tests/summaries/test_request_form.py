"""The public request form: plain-word errors, consent, honeypot, limits, minimal storage."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from evidencepress.core.models import AuditEvent
from evidencepress.evidence.topic_definition import schema
from evidencepress.summaries.forms import CONSENT_VERSION, UNSENDABLE_LOCAL_PART, SummaryRequestForm
from evidencepress.summaries.models import SummaryRequest

URL = "/summaries/request/"
DPIA = Path(__file__).resolve().parents[2] / "docs" / "dpia.md"


def valid_post(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "topic": "imiquimod-angiosarcoma",
        "setting": "scalp_face",
        "site": "scalp",
        "lesion_size_mm": "15",
        "lesion_count": "1",
        "lesion_depth": "superficial",
        "surgery_possible": "no",
        "prior_treatments": ["radiotherapy"],
        "prior_treatments_other": "",
        "current_treatments": ["paclitaxel"],
        "current_treatments_other": "",
        "question": "Could the cream help?",
        "detail": "short",
        "email": "reader@example.com",
        "consent": "on",
        "website": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_form_page_is_plain_accessible_and_defaults_to_the_demo_topic(
    client: Client, topic: Any
) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ask for a summary tailored to you" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert re.search(r'<option value="imiquimod-angiosarcoma" selected>', html)
    # Hints are tied to their inputs for screen readers.
    assert 'aria-describedby="id_site_hint"' in html
    assert "deleted 30 days after the summary is sent or declined" in html
    assert "no-store" in response["Cache-Control"]
    assert "information, not medical advice" in html


def test_valid_request_is_stored_encrypted_with_consent_and_shows_what_happens_next(
    client: Client, topic: Any
) -> None:
    response = client.post(URL, valid_post(), REMOTE_ADDR="203.0.113.9", follow=True)
    assert response.status_code == 200
    assert "What happens next" in response.content.decode()
    stored = SummaryRequest.objects.get()
    assert stored.email == "reader@example.com"
    assert stored.topic == topic
    assert stored.status == SummaryRequest.Status.NEW
    assert stored.situation["prior_treatments"] == ["radiotherapy"]
    assert stored.situation["current_treatments"] == ["paclitaxel"]
    assert stored.situation["lesion_size_mm"] == 15
    assert stored.consent_version == CONSENT_VERSION
    assert stored.consented_at is not None and stored.consented_at.utcoffset().total_seconds() == 0
    event = AuditEvent.objects.get(action="summary_request.submitted")
    assert event.source_ip is None  # the reader's IP is not kept, even in the audit
    assert "reader@example.com" not in str(event.detail)


def test_nothing_but_the_form_fields_is_stored(client: Client, topic: Any) -> None:
    # Extra fields (mass assignment) are ignored; the client's address is not on the request.
    client.post(
        URL,
        valid_post(
            status="sent",
            is_staff="1",
            sent_at="2020-01-01",
            consent_version="forged",
            withdraw_token_hash="x" * 64,
        ),
        REMOTE_ADDR="198.51.100.77",
        HTTP_USER_AGENT="CanaryAgent/1.0",
    )
    stored = SummaryRequest.objects.get()
    assert stored.status == "new" and stored.sent_at is None
    assert stored.consent_version == CONSENT_VERSION
    assert stored.withdraw_token_hash == ""
    values = [str(getattr(stored, f.attname)) for f in SummaryRequest._meta.concrete_fields]
    assert not any("198.51.100.77" in v or "CanaryAgent" in v for v in values)
    assert set(stored.situation) == {
        "setting", "site", "lesion_size_mm", "lesion_count", "lesion_depth",
        "surgery_possible", "prior_treatments", "prior_treatments_other",
        "current_treatments", "current_treatments_other", "question", "for_whom",
    }  # fmt: skip


def test_without_consent_the_request_is_refused_with_the_reason_beside_the_box(
    client: Client, topic: Any
) -> None:
    response = client.post(URL, valid_post(consent=None))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tick this box to agree, or we cannot write your summary." in html
    assert 'id="id_consent_error"' in html
    assert SummaryRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "", "Write your email address, so that we can send you the summary."),
        ("email", "not-an-email", "Write an email address like name@example.com."),
        ("lesion_size_mm", "1.5cm", "Write the size as a whole number of millimetres, like 15."),
        ("lesion_size_mm", "0", "The size must be at least 1 millimetre."),
        ("lesion_count", "many", "Write the number as a whole number, like 3."),
        ("prior_treatments", ["snake-oil"], "Choose treatments from the list only."),
        ("topic", "no-such-topic", "Choose one of the topics in the list."),
        ("question", "x" * 2001, "at most 2000 characters"),
        ("site", "s" * 101, "at most 100 characters"),
        ("prior_treatments_other", "t" * 301, "at most 300 characters"),
        ("email", "a" * 250 + "@example.com", "at most 254 characters"),
    ],
)
def test_bad_answers_get_a_plain_error_next_to_the_field(
    client: Client, topic: Any, field: str, value: Any, message: str
) -> None:
    response = client.post(URL, valid_post(**{field: value}))
    assert response.status_code == 200
    html = response.content.decode()
    error = re.search(
        rf'<span class="error-message" id="id_{field}_error">(.*?)</span>', html, re.S
    )
    assert error is not None, f"no error shown beside {field}"
    assert message in error.group(1).replace("&#x27;", "'")
    assert f"id_{field}_error" in re.search(rf'<[^>]+name="{field}"[^>]*>', html).group(0)
    assert SummaryRequest.objects.count() == 0


def test_not_sure_everywhere_is_a_valid_request(client: Client, topic: Any) -> None:
    data = valid_post(
        setting="unsure",
        site="",
        lesion_size_mm="",
        lesion_count="",
        lesion_depth="unknown",
        surgery_possible="unsure",
        prior_treatments=None,
        current_treatments=None,
        question="",
    )
    response = client.post(URL, data)
    assert response.status_code == 302
    assert SummaryRequest.objects.get().situation["lesion_size_mm"] is None


def test_a_filled_honeypot_looks_successful_but_stores_nothing(client: Client, topic: Any) -> None:
    response = client.post(URL, valid_post(website="http://spam.example"), follow=True)
    assert response.status_code == 200
    assert "What happens next" in response.content.decode()
    assert SummaryRequest.objects.count() == 0
    assert AuditEvent.objects.filter(action="summary_request.honeypot").count() == 1


def test_csrf_is_required(topic: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(URL, valid_post())
    assert response.status_code == 403
    assert SummaryRequest.objects.count() == 0


@override_settings(SUMMARIES_RATE_LIMIT_PER_ADDRESS=(5, 3600))
def test_one_address_may_send_five_requests_an_hour(client: Client, topic: Any) -> None:
    for number in range(5):
        response = client.post(
            URL, valid_post(email=f"r{number}@example.com"), REMOTE_ADDR="192.0.2.1"
        )
        assert response.status_code == 302
    response = client.post(URL, valid_post(email="r6@example.com"), REMOTE_ADDR="192.0.2.1")
    assert response.status_code == 429
    assert "Please wait before sending another request" in response.content.decode()
    assert response["Retry-After"] == "3600"
    assert SummaryRequest.objects.count() == 5
    other = client.post(URL, valid_post(email="r7@example.com"), REMOTE_ADDR="192.0.2.2")
    assert other.status_code == 302


def test_one_email_may_send_three_requests_a_day_and_the_key_hides_it(
    client: Client, topic: Any
) -> None:
    for number in range(3):
        response = client.post(
            URL, valid_post(email="Same@Example.com"), REMOTE_ADDR=f"192.0.2.{number + 10}"
        )
        assert response.status_code == 302
    response = client.post(URL, valid_post(email="same@example.com"), REMOTE_ADDR="192.0.2.99")
    assert response.status_code == 429
    assert SummaryRequest.objects.count() == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key, value FROM core_ratelimit_cache")
        rows = cursor.fetchall()
    assert rows and not any("example.com" in (k + v).lower() or "192.0.2" in k for k, v in rows)


def test_invalid_attempts_do_not_use_up_the_limit(client: Client, topic: Any) -> None:
    for _ in range(6):
        client.post(URL, valid_post(consent=None), REMOTE_ADDR="192.0.2.50")
    assert client.post(URL, valid_post(), REMOTE_ADDR="192.0.2.50").status_code == 302


@override_settings(SUMMARIES_ENCRYPTION_KEYS=[], SUMMARIES_ENCRYPTION_KEY_FILE="")
def test_without_a_key_submission_is_refused_and_public_pages_still_work(
    client: Client, topic: Any
) -> None:
    response = client.post(URL, valid_post())
    assert response.status_code == 503
    assert "we cannot accept requests at the moment" in response.content.decode()
    assert SummaryRequest.objects.count() == 0
    assert client.get(URL).status_code == 200
    assert client.get(reverse("summaries:request_sent")).status_code == 200


def test_form_fields_match_the_approved_list_in_the_dpia() -> None:
    text = DPIA.read_text(encoding="utf-8")
    section = text.split("<!-- approved-fields:start -->")[1].split("<!-- approved-fields:end -->")[
        0
    ]
    approved = re.findall(r"^\|\s*`([a-z_]+)`", section, re.M)
    assert approved, "docs/dpia.md lists no approved fields"
    # The topic's questions go after "for_whom"; a topic may ask any key the schema allows.
    fixed = list(SummaryRequestForm.base_fields)
    at = fixed.index("for_whom") + 1
    keys = schema()["$defs"]["question"]["properties"]["key"]["enum"]
    assert approved == [*fixed[:at], *keys, *fixed[at:]], (
        "The request form's fields differ from docs/dpia.md: update the DPIA first."
    )


# --- Issue #14: one mailbox, deliverable addresses, no file parts ---------------------------


def test_plus_addressed_variants_count_as_one_mailbox(client: Client, topic: Any) -> None:
    variants = [
        "same.person+1@example.com",
        "Same.Person+two@EXAMPLE.com",
        "same.person@example.com",
    ]
    for number, email in enumerate(variants):
        response = client.post(URL, valid_post(email=email), REMOTE_ADDR=f"192.0.2.{number + 20}")
        assert response.status_code == 302
    fourth = client.post(
        URL, valid_post(email="same.person+4@example.com"), REMOTE_ADDR="192.0.2.40"
    )
    assert fourth.status_code == 429
    # Delivery uses the address exactly as the reader typed it.
    assert sorted(r.email for r in SummaryRequest.objects.all()) == sorted(variants)
    other = client.post(
        URL, valid_post(email="other.person+1@example.com"), REMOTE_ADDR="192.0.2.41"
    )
    assert other.status_code == 302


def test_the_counting_identity_keeps_internationalised_addresses_apart_but_whole() -> None:
    from evidencepress.summaries.ratelimit import email_identity

    assert email_identity("zoë+test@exämple.org") == email_identity("ZOË@xn--exmple-cua.org")
    assert email_identity("zoë@example.org") != email_identity("zoe@example.org")
    assert email_identity("a+b+c@example.org") == "a@example.org"


def test_an_internationalised_domain_is_taken_and_sent_as_punycode(
    client: Client, topic: Any
) -> None:
    response = client.post(URL, valid_post(email="zoe+test@exämple.org"))
    assert response.status_code == 302
    assert SummaryRequest.objects.get().email == "zoe+test@exämple.org"


@pytest.mark.parametrize("email", ["zoë+test@example.org", "josé@example.com", "用户@例子.中国"])
def test_an_address_with_letters_we_cannot_send_to_gets_a_plain_explanation(
    client: Client, topic: Any, email: str
) -> None:
    """RFC 6531 local parts: Django's mail backend cannot deliver them, so the form says why
    instead of "Write an email address like name@example.com" (issue 15 §2)."""
    response = client.post(URL, valid_post(email=email))
    assert response.status_code == 200
    errors = response.context["form"].errors["email"]
    assert errors == [UNSENDABLE_LOCAL_PART]
    assert "letters such as ë or ü before the @" in UNSENDABLE_LOCAL_PART
    assert email in response.content.decode()  # what the reader typed stays in the field
    assert SummaryRequest.objects.count() == 0


@pytest.mark.parametrize(
    "email",
    [
        "x@localhost",
        "x@[127.0.0.1]",
        "x@[IPv6:::1]",
        "x@intranet",
        "x@printer.local",
        "x@mail.localhost",
        "x@db.internal",
        "x@127.0.0.1",
    ],
)
def test_addresses_that_reach_no_public_mailbox_are_refused(
    client: Client, topic: Any, email: str
) -> None:
    response = client.post(URL, valid_post(email=email))
    assert response.status_code == 200
    errors = response.context["form"].errors["email"]
    assert len(errors) == 1 and ("ordinary email address" in errors[0] or "like" in errors[0])
    assert SummaryRequest.objects.count() == 0


def test_a_multipart_post_with_a_file_is_refused_before_anything_is_spooled(
    topic: Any, monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.files.uploadhandler import FileUploadHandler

    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # any file part would go to disk
    started: list[str] = []
    real_new_file = FileUploadHandler.new_file

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        started.append(type(self).__name__)
        return real_new_file(self, *args, **kwargs)

    monkeypatch.setattr(FileUploadHandler, "new_file", spy)
    data = {**valid_post(), "scan": SimpleUploadedFile("scan.pdf", b"%PDF-1.4 " + b"x" * 200_000)}

    def post_with_a_token() -> Any:
        # Like an attacker who opened the form first: the CSRF cookie and token are valid, so
        # CsrfViewMiddleware reads the body (with Django's upload handlers) to check the token.
        strict = Client(enforce_csrf_checks=True)
        strict.get(URL)
        token = strict.cookies["csrftoken"].value
        return strict.post(URL, {**data, "csrfmiddlewaretoken": token})

    response = post_with_a_token()  # the test client sends multipart/form-data
    assert response.status_code == 415
    assert "This form takes typed answers only" in response.content.decode()
    assert started == [] and list(tmp_path.iterdir()) == []
    assert SummaryRequest.objects.count() == 0

    # Control: without the guard the same post is spooled (so the spy can see it).
    settings.MIDDLEWARE = [
        entry for entry in settings.MIDDLEWARE if not entry.endswith("TextFieldsOnlyMiddleware")
    ]
    post_with_a_token()
    assert started, "the control post should have reached an upload handler"


def test_the_ordinary_form_post_is_not_multipart_and_still_works(
    client: Client, topic: Any
) -> None:
    page = client.get(URL).content.decode()
    assert 'enctype="multipart' not in page
    response = client.post(
        URL,
        "&".join(
            f"{key}={value}"
            for key, value in valid_post(
                prior_treatments="radiotherapy", current_treatments="paclitaxel"
            ).items()
        ),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 302
