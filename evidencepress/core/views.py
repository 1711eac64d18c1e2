"""Second-factor views (verify a TOTP code after the password, enrol an authenticator) and the
reader-facing page for a failed CSRF check.

The second-factor services live in evidencepress/core/otp.py; StaffSessionMiddleware sends
every signed-in but unverified user here before any other admin page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlencode, urlsplit

import django_otp
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import otp
from .forms import TokenForm


def _next_url(request: HttpRequest) -> str:
    """The `next` parameter when it points into this site, else the admin home page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("wagtailadmin_home")


def _login_redirect(request: HttpRequest) -> HttpResponseRedirect:
    query = urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('wagtailadmin_login')}?{query}")


@never_cache
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Ask for the current code from the user's authenticator after the password login."""
    if not request.user.is_authenticated:
        return _login_redirect(request)
    next_url = _next_url(request)
    if request.user.is_verified():
        return HttpResponseRedirect(next_url)
    if not otp.confirmed_totp_devices(request.user):
        return HttpResponseRedirect(f"{reverse('core:otp_setup')}?{urlencode({'next': next_url})}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if otp.totp_throttled(request.user):
            form.add_error("token", "Too many wrong codes. Wait a minute, then try again.")
        else:
            device = otp.totp_verify(user=request.user, token=form.cleaned_data["token"])
            if device is not None:
                django_otp.login(request, device)
                return HttpResponseRedirect(next_url)
            form.add_error("token", "That code did not match. Codes change every 30 seconds.")
    return render(request, "core/otp_verify.html", {"form": form, "next": next_url})


@never_cache
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: show the QR code and key, confirm with a first code."""
    if not request.user.is_authenticated:
        return _login_redirect(request)
    next_url = _next_url(request)
    try:
        device = otp.totp_enrolment_device(user=request.user)
    except ValueError:
        messages.info(request, "This account already has an authenticator. Enter its code.")
        return HttpResponseRedirect(f"{reverse('core:otp_verify')}?{urlencode({'next': next_url})}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if otp.totp_confirm(device=device, token=form.cleaned_data["token"]):
            django_otp.login(request, device)
            messages.success(request, "Your authenticator is set up.")
            return HttpResponseRedirect(next_url)
        form.add_error("token", "That code did not match. Check the app shows EvidencePress.")
    context = {"form": form, "next": next_url, "secret": otp.totp_secret_for_display(device)}
    return render(request, "core/otp_setup.html", context)


@never_cache
@require_GET
def otp_setup_qr(request: HttpRequest) -> HttpResponse:
    """The enrolment QR code as an SVG image (same origin, so the strict CSP allows it)."""
    if not request.user.is_authenticated:
        raise Http404
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        raise Http404
    response = HttpResponse(otp.totp_qr_svg(device), content_type="image/svg+xml")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


# --- A failed CSRF check ------------------------------------------------------------------

CSRF_RETRY = "csrf_retry"
RetryHandler = Callable[[HttpRequest], HttpResponse]
View = TypeVar("View", bound=Callable[..., HttpResponse])


def csrf_failure_retry(handler: RetryHandler) -> Callable[[View], View]:
    """Mark a public form view: when its CSRF check fails on a post from our own pages,
    `csrf_failure` answers with `handler(request)` (which re-shows the form with what the reader
    typed and a fresh token) instead of the general page, so nothing typed is lost."""

    def mark(view: View) -> View:
        setattr(view, CSRF_RETRY, handler)
        return view

    return mark


def _posted_from_our_pages(request: HttpRequest) -> bool:
    """True when the browser says the form was sent from this site (Origin, or Sec-Fetch-Site).

    A post from another site must never fill our form: it would let that site choose, say, the
    email address a reader's summary goes to.
    """
    if request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin":
        return True
    origin = request.META.get("HTTP_ORIGIN", "")
    if not origin or origin == "null":
        return False
    parts = urlsplit(origin)
    return bool(parts.scheme == request.scheme and parts.netloc == request.get_host())


@never_cache
@sensitive_post_parameters()
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the site's own page in plain words (403), never Django's technical one."""
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        view = None
    handler: RetryHandler | None = getattr(view, CSRF_RETRY, None)
    if handler is not None and request.method == "POST" and _posted_from_our_pages(request):
        response = handler(request)
        response.status_code = 403
        return response
    return render(request, "403_csrf.html", status=403)
