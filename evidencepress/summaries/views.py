"""Public pages: the request form, its confirmation, and the reader's withdrawal link."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from evidencepress.core.audit import audit_record
from evidencepress.core.client import client_ip
from evidencepress.core.exceptions import RateLimitUnavailable
from evidencepress.core.middleware import text_fields_only
from evidencepress.core.views import csrf_failure_retry
from evidencepress.evidence.models import Topic

from . import ratelimit
from .crypto import EncryptionUnavailable
from .forms import CONSENT_VERSION, HONEYPOT_FIELD, SummaryRequestForm, consent_sentence
from .services import summary_request_for_token, summary_request_submit, summary_request_withdraw

logger = logging.getLogger(__name__)

UNAVAILABLE = (
    "Sorry, we cannot accept requests at the moment because of a technical problem. "
    "Nothing you typed was saved. Please try again later."
)


def _client_address(request: HttpRequest) -> str:
    """The reader's address, by the same rule as the sign-in lockout (core/client.py)."""
    return client_ip(request) or "unknown"


def _too_many(request: HttpRequest) -> HttpResponse:
    response = render(request, "summaries/too_many.html", status=429)
    response["Retry-After"] = "3600"
    return response


def _typed_again(request: HttpRequest) -> HttpResponse:
    """After a failed CSRF check: the form again, filled from the post with a fresh token.

    Only re-shown, never stored or logged; Django's widgets escape every value.
    """
    slug = request.POST.get("topic", "")
    form = SummaryRequestForm(topic=Topic.objects.filter(slug=slug).first())
    initial = {}
    for name, field in form.fields.items():
        if name == HONEYPOT_FIELD or name not in request.POST:
            continue
        multiple = isinstance(field, forms.MultipleChoiceField)
        initial[name] = request.POST.getlist(name) if multiple else request.POST.get(name)
    form = SummaryRequestForm(initial=initial, topic=form.chosen_topic)
    return _form_page(request, form, csrf_retry=True)


def _form_page(
    request: HttpRequest, form: SummaryRequestForm, *, status: int = 200, **extra: Any
) -> HttpResponse:
    """The form page: the topic chooser (a GET form) above the chosen topic's questions."""
    context = {"form": form, "topics": Topic.objects.order_by("name"), **extra}
    return render(request, "summaries/request_form.html", context, status=status)


@text_fields_only
@csrf_failure_retry(_typed_again)
@never_cache
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def request_form(request: HttpRequest) -> HttpResponse:
    address = _client_address(request)
    if request.method != "POST":
        slug = request.GET.get("topic", "")
        chosen = Topic.objects.filter(slug=slug).first() if isinstance(slug, str) else None
        return _form_page(request, SummaryRequestForm(topic=chosen))
    if ratelimit.is_limited("address", address):
        return _too_many(request)
    form = SummaryRequestForm(request.POST)
    if not form.is_valid():
        # 200 with the errors beside their fields (test plan D5), not a 4xx page.
        return _form_page(request, form)
    if form.is_spam:
        # Looks like success to the bot; nothing is stored.
        try:
            ratelimit.take("address", address)
            audit_record(action="summary_request.honeypot")
        except (DatabaseError, RateLimitUnavailable) as exc:  # the bot need not know
            logger.error("honeypot submission not counted: %s: %s", type(exc).__name__, exc)
        return redirect("summaries:request_sent")
    email = form.cleaned_data["email"]
    try:
        # Counted before anything is stored, each in one atomic statement shared by every
        # process: simultaneous submissions cannot all slip under the limit (plan test I2).
        if not ratelimit.take("address", address) or not ratelimit.take("email", email):
            return _too_many(request)
        summary_request_submit(
            topic=form.cleaned_data["topic"],
            email=email,
            situation=form.situation(),
            detail=form.cleaned_data["detail"],
            consent_version=CONSENT_VERSION,
        )
    except (EncryptionUnavailable, DatabaseError, RateLimitUnavailable) as exc:
        # Fail closed (plan test I5): the write was atomic, so nothing was stored; the reader
        # is told so, and the log gets the error's type and text only (never the form data).
        logger.error("summary request refused: %s: %s", type(exc).__name__, exc)
        form.add_error(None, UNAVAILABLE)
        return _form_page(request, form, status=503)
    return redirect("summaries:request_sent")


@never_cache
def request_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "summaries/request_sent.html", {"consent_sentence": consent_sentence()})


@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        withdrawn = summary_request_withdraw(token=token)
        template = (
            "summaries/withdraw_done.html" if withdrawn else "summaries/withdraw_unknown.html"
        )
        response = render(request, template, status=200 if withdrawn else 404)
    elif summary_request_for_token(token) is None:
        response = render(request, "summaries/withdraw_unknown.html", status=404)
    else:
        response = render(request, "summaries/withdraw_confirm.html")
    # The token is in the address: never pass it on to another site.
    response["Referrer-Policy"] = "no-referrer"
    return response
