"""Security middleware: the Content-Security-Policy per area, and the staff session rules.

- ContentSecurityPolicyMiddleware: django-csp's middleware with one documented relaxation for
  the Wagtail admin (it still ships a few inline scripts and inline styles), see docs/security.md.
  Public pages get the strict policy from settings.CONTENT_SECURITY_POLICY.
- StaffSessionMiddleware: a signed-in user must pass the second factor (TOTP, django-otp)
  before any admin page, and a session ends after settings.SESSION_ABSOLUTE_AGE seconds even
  when it is kept busy (the 30-minute idle limit is Django's SESSION_COOKIE_AGE, refreshed on
  every request by SESSION_SAVE_EVERY_REQUEST).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse

# Where the admin relaxation applies, and what it replaces in the strict policy.
ADMIN_PREFIX = "/admin/"
ADMIN_POLICY_REPLACEMENTS: dict[str, list[str]] = {
    # Wagtail 8 renders inline <script> blocks for InlinePanel and the date/time widgets, and
    # style="" attributes in several admin templates; without these the editor breaks.
    "script-src": [SELF, UNSAFE_INLINE],
    "style-src": [SELF, UNSAFE_INLINE],
    # Icons and image previews in the admin use data: and blob: URLs.
    "img-src": [SELF, "data:", "blob:"],
    # The live preview panel shows the page in a same-origin iframe.
    "frame-src": [SELF],
}

# Session key holding the time (epoch seconds) of the password login.
AUTH_STARTED_SESSION_KEY = "evidencepress_auth_started"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp, strict everywhere except the documented admin relaxation.

    A response that Wagtail marked `X-Frame-Options: SAMEORIGIN` (the preview view) may be
    framed by our own origin; everything else has `frame-ancestors 'none'`.
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        replace: dict[str, list[str]] = {}
        if request.path_info.startswith(ADMIN_PREFIX):
            replace.update(ADMIN_POLICY_REPLACEMENTS)
        if response.get("X-Frame-Options", "").upper() == "SAMEORIGIN":
            replace["frame-ancestors"] = [SELF]
        if replace:
            parts.replace = {**replace, **(parts.replace or {})}
        return parts

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        """Add our policy; when a view set its own (Wagtail's document serve view sends
        `default-src 'none'`), keep it and add the framing rule, which default-src does not
        cover."""
        response = super().process_response(request, response)
        policy = response.get("Content-Security-Policy")
        if policy and "frame-ancestors" not in policy:
            framing = (
                "'self'"
                if response.get("X-Frame-Options", "").upper() == "SAMEORIGIN"
                else "'none'"
            )
            response["Content-Security-Policy"] = f"{policy}; frame-ancestors {framing}"
        return response


def otp_exempt_paths() -> tuple[str, ...]:
    """Admin paths a signed-in but not yet verified user may open (login, logout, OTP steps)."""
    return (
        reverse("wagtailadmin_login"),
        reverse("wagtailadmin_logout"),
        reverse("core:otp_verify"),
        reverse("core:otp_setup"),
        reverse("core:otp_setup_qr"),
        reverse("wagtailadmin_password_reset"),
        # Icons and translations the OTP pages themselves load: no data behind them.
        reverse("wagtailadmin_sprite"),
        reverse("wagtailadmin_javascript_catalog"),
    )


class StaffSessionMiddleware:
    """Second factor before the admin; absolute session lifetime for every signed-in user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if self._session_too_old(request):
                logout(request)
                return self._to_login(request)
            if (
                request.path_info.startswith(ADMIN_PREFIX)
                and not user.is_verified()
                and not request.path_info.startswith(otp_exempt_paths())
            ):
                return self._to_otp(request)
        return self.get_response(request)

    @staticmethod
    def _session_too_old(request: HttpRequest) -> bool:
        started = request.session.get(AUTH_STARTED_SESSION_KEY)
        if started is None:
            request.session[AUTH_STARTED_SESSION_KEY] = int(time.time())
            return False
        return time.time() - float(started) > settings.SESSION_ABSOLUTE_AGE

    @staticmethod
    def _to_login(request: HttpRequest) -> HttpResponse:
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('wagtailadmin_login')}?{query}")

    @staticmethod
    def _to_otp(request: HttpRequest) -> HttpResponse:
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('core:otp_verify')}?{query}")
