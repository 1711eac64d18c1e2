"""Security middleware: the Content-Security-Policy per area, and the staff session rules.

- ContentSecurityPolicyMiddleware: django-csp's middleware with one documented relaxation for
  the Wagtail admin (it still ships a few inline scripts and inline styles), see docs/security.md.
  Public pages get the strict policy from settings.CONTENT_SECURITY_POLICY.
- PermissionsPolicyMiddleware: a `Permissions-Policy` header from settings.PERMISSIONS_POLICY
  (no camera, microphone, location, payment… for any page or anything it embeds).
- TextFieldsOnlyMiddleware: a view marked `@text_fields_only` (the public request form) parses
  a multipart body itself, before anything else reads request.POST, with an upload handler that
  stops at the first file part's headers: a file is never spooled to memory or disk
  (CsrfViewMiddleware would otherwise parse it, with Django's handlers, to find the token).
- StaffSessionMiddleware: a signed-in user must pass the second factor (TOTP, django-otp)
  before any admin page, and a session ends after settings.SESSION_ABSOLUTE_AGE seconds even
  when it is kept busy (the 30-minute idle limit is Django's SESSION_COOKIE_AGE, refreshed on
  every request by SESSION_SAVE_EVERY_REQUEST).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.contrib.auth import logout
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
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


class PermissionsPolicyMiddleware:
    """Send settings.PERMISSIONS_POLICY ({feature: [origins]}, [] meaning none) on every response
    that has not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        policy: dict[str, list[str]] = getattr(settings, "PERMISSIONS_POLICY", {})
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})" for feature, origins in policy.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response


ViewFunc = Callable[..., HttpResponseBase]
TEXT_FIELDS_ONLY = "text_fields_only"


def text_fields_only(view: ViewFunc) -> ViewFunc:
    """Mark a view whose form sends typed text only: TextFieldsOnlyMiddleware refuses any post
    to it that carries a file part, before the file is read."""
    setattr(view, TEXT_FIELDS_ONLY, True)
    return view


class _RefuseFileParts(FileUploadHandler):
    """Upload handler that stops the multipart parser at the first file part, keeping nothing."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        if self.request is not None:
            self.request.META[FILE_PART_REFUSED] = True
        # connection_reset: the rest of the body is not even read (and so not stored anywhere).
        raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        return None  # never reached: new_file stops the parser first

    def file_complete(self, file_size: int) -> None:
        return None


FILE_PART_REFUSED = "evidencepress.file_part_refused"


class TextFieldsOnlyMiddleware:
    """Refuse a post that carries a file part to a `@text_fields_only` view (a plain 415 page).

    Must come before CsrfViewMiddleware: its process_view reads request.POST, and parsing a
    multipart body with Django's handlers spools every file part to memory or, past
    FILE_UPLOAD_MAX_MEMORY_SIZE, to a temporary file on disk. Text-only multipart posts (what
    some tools send) still work.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: ViewFunc, view_args: Any, view_kwargs: Any
    ) -> HttpResponseBase | None:
        if not getattr(view_func, TEXT_FIELDS_ONLY, False):
            return None
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        if not request.content_type.startswith("multipart/"):
            return None
        request.upload_handlers = [_RefuseFileParts(request)]
        request.POST  # parse now, with only the refusing handler  # noqa: B018
        if request.META.get(FILE_PART_REFUSED):
            return render(request, "core/files_refused.html", status=415)
        return None


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
