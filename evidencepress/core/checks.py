"""Deployment checks for the settings our security relies on (`manage.py check --deploy`).

Django's own security checks (security.W0xx) cover HSTS, cookies, SSL redirect and the like;
these add what Django cannot know about: lockout, second factor, CSP, session lifetime,
password policy and how uploaded documents are served. IDs: evidencepress.S001-S009, and
S020-S023 for the guards of issue #14 (privileges, lockout address, restricted content),
S030 for the shared rate-limit store (not a deployment-only check).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

AXES_BACKENDS = {"axes.backends.AxesStandaloneBackend", "axes.backends.AxesBackend"}
OTP_MIDDLEWARE = "django_otp.middleware.OTPMiddleware"
STAFF_MIDDLEWARE = "evidencepress.core.middleware.StaffSessionMiddleware"
CSP_MIDDLEWARE = "evidencepress.core.middleware.ContentSecurityPolicyMiddleware"
UNSAFE_SCRIPT_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"}


def _warning(msg: str, hint: str, number: int) -> Warning:
    return Warning(msg, hint=hint, id=f"evidencepress.S{number:03d}")


def _directives() -> dict[str, Any]:
    policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
    return dict(policy.get("DIRECTIVES") or {})


@register(Tags.security, deploy=True)
def check_login_protection(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Lockout backend first, lockout middleware last, second factor enforced on the admin."""
    messages: list[CheckMessage] = []
    backends = list(settings.AUTHENTICATION_BACKENDS)
    if not backends or backends[0] not in AXES_BACKENDS:
        messages.append(
            _warning(
                "The login lockout backend is not first in AUTHENTICATION_BACKENDS.",
                "Put axes.backends.AxesStandaloneBackend first.",
                1,
            )
        )
    middleware = list(settings.MIDDLEWARE)
    if not middleware or middleware[-1] != "axes.middleware.AxesMiddleware":
        messages.append(
            _warning(
                "axes.middleware.AxesMiddleware is not the last middleware.",
                "Without it a locked-out login gets no lockout response.",
                2,
            )
        )
    if (
        OTP_MIDDLEWARE not in middleware
        or STAFF_MIDDLEWARE not in middleware
        or middleware.index(STAFF_MIDDLEWARE) < middleware.index(OTP_MIDDLEWARE)
    ):
        messages.append(
            _warning(
                "The admin does not require a second factor.",
                f"Add {OTP_MIDDLEWARE} and then {STAFF_MIDDLEWARE} to MIDDLEWARE.",
                3,
            )
        )
    return messages


@register(Tags.security, deploy=True)
def check_content_security_policy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The public CSP forbids inline script and framing."""
    directives = _directives()
    script = set(directives.get("script-src") or directives.get("default-src") or ["*"])
    problems = []
    if CSP_MIDDLEWARE not in settings.MIDDLEWARE:
        problems.append("the CSP middleware is missing")
    if script & UNSAFE_SCRIPT_SOURCES:
        problems.append(f"script-src allows {', '.join(sorted(script & UNSAFE_SCRIPT_SOURCES))}")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append("frame-ancestors is not 'none'")
    if directives.get("object-src") != ["'none'"]:
        problems.append("object-src is not 'none'")
    if not problems:
        return []
    return [
        _warning(
            "The Content-Security-Policy is weaker than designed: " + "; ".join(problems) + ".",
            "See CONTENT_SECURITY_POLICY in settings/base.py and docs/security.md.",
            4,
        )
    ]


@register(Tags.security, deploy=True)
def check_session_lifetime(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Sessions end after at most 30 idle minutes and 12 hours in all."""
    too_long = settings.SESSION_COOKIE_AGE > 30 * 60 or not settings.SESSION_SAVE_EVERY_REQUEST
    absolute = getattr(settings, "SESSION_ABSOLUTE_AGE", None)
    if too_long or absolute is None or absolute > 12 * 60 * 60:
        return [
            _warning(
                "Staff sessions may outlive 30 idle minutes or 12 hours.",
                "Set SESSION_COOKIE_AGE <= 1800, SESSION_SAVE_EVERY_REQUEST = True and "
                "SESSION_ABSOLUTE_AGE <= 43200.",
                5,
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_password_policy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """At least 12 characters and the common-password list."""
    names = {v["NAME"].rsplit(".", 1)[-1]: v for v in settings.AUTH_PASSWORD_VALIDATORS}
    minimum = names.get("MinimumLengthValidator", {}).get("OPTIONS", {}).get("min_length", 8)
    if (
        "MinimumLengthValidator" not in names
        or minimum < 12
        or "CommonPasswordValidator" not in names
    ):
        return [
            _warning(
                "The password policy is weaker than 12 characters plus the common-password list.",
                "See AUTH_PASSWORD_VALIDATORS in settings/base.py.",
                6,
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_uploaded_content(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Documents are downloaded through Wagtail's view, never rendered in our origin."""
    if (
        getattr(settings, "WAGTAILDOCS_SERVE_METHOD", None) != "serve_view"
        or getattr(settings, "WAGTAILDOCS_INLINE_CONTENT_TYPES", None) != []
        or not getattr(settings, "WAGTAILDOCS_BLOCK_EMBEDDED_CONTENT", True)
        or "svg" in getattr(settings, "WAGTAILIMAGES_EXTENSIONS", [])
    ):
        return [
            _warning(
                "Uploaded documents or images could be rendered inline in the site's origin.",
                'Use WAGTAILDOCS_SERVE_METHOD = "serve_view", WAGTAILDOCS_INLINE_CONTENT_TYPES '
                "= [], WAGTAILDOCS_BLOCK_EMBEDDED_CONTENT = True and no SVG images.",
                7,
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_no_shared_passwords(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Wagtail's shared page/collection passwords are stored in plain text: keep them off."""
    page = getattr(settings, "WAGTAIL_PRIVATE_PAGE_OPTIONS", {}).get("SHARED_PASSWORD", True)
    docs = getattr(settings, "WAGTAILDOCS_PRIVATE_COLLECTION_OPTIONS", {}).get(
        "SHARED_PASSWORD", True
    )
    if page or docs:
        return [
            _warning(
                "Shared-password privacy is enabled for pages or document collections.",
                'Set {"SHARED_PASSWORD": False} in WAGTAIL_PRIVATE_PAGE_OPTIONS and '
                "WAGTAILDOCS_PRIVATE_COLLECTION_OPTIONS.",
                8,
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_cross_origin_opener(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Cross-Origin-Opener-Policy: same-origin (Django only checks that the value is valid)."""
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY != "same-origin":
        return [
            _warning(
                "SECURE_CROSS_ORIGIN_OPENER_POLICY is not 'same-origin'.",
                "Other sites could keep a handle on our windows.",
                9,
            )
        ]
    return []


# --- Issue #14: sign-in behind proxies, who grants privileges, the second factor on restricted
# content, Summary editors' confinement (docs/security.md). IDs S020-S023, apart from S001-S009
# so that checks added elsewhere do not collide.
USERS_APP = "evidencepress.core.users_app.UsersConfig"
CLIENT_IP = "evidencepress.core.client.client_ip"
CONFINEMENT_MIDDLEWARE = "evidencepress.core.confinement.RoleConfinementMiddleware"


@register(Tags.security, deploy=True)
def check_privilege_guards(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The settings the issue #14 guards hang on are still in place."""
    messages: list[CheckMessage] = []
    if USERS_APP not in settings.INSTALLED_APPS:
        messages.append(
            _warning(
                "Wagtail's user and group admin is not EvidencePress's.",
                f'Put "{USERS_APP}" in INSTALLED_APPS in place of "wagtail.users": without it '
                "Admins can make superusers and Summary editors.",
                20,
            )
        )
    if getattr(settings, "AXES_CLIENT_IP_CALLABLE", None) != CLIENT_IP:
        messages.append(
            _warning(
                "The login lockout does not use the client address rule.",
                f'Set AXES_CLIENT_IP_CALLABLE = "{CLIENT_IP}": behind a proxy, five failures '
                "would otherwise lock an account out from every address.",
                21,
            )
        )
    if getattr(settings, "WAGTAIL_FRONTEND_LOGIN_URL", None) != "wagtailadmin_login":
        messages.append(
            _warning(
                "Restricted pages send readers to a sign-in other than the admin's.",
                'Set WAGTAIL_FRONTEND_LOGIN_URL = "wagtailadmin_login" (lockout, second factor).',
                22,
            )
        )
    if CONFINEMENT_MIDDLEWARE not in settings.MIDDLEWARE:
        messages.append(
            _warning(
                "Summary editors are not confined to their own admin views.",
                f"Add {CONFINEMENT_MIDDLEWARE} to MIDDLEWARE after the second-factor middleware.",
                23,
            )
        )
    return messages


PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.caches)
def check_shared_rate_limit_store(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Rate limits hold only when every process counts in one store (core/ratelimit.py)."""
    backend = (getattr(settings, "CACHES", {}).get("ratelimit") or {}).get("BACKEND", "")
    if backend and backend not in PER_PROCESS_CACHES:
        return []
    return [
        _warning(
            "The 'ratelimit' cache is missing or kept per process: each worker would count "
            "its own limit.",
            "Set REDIS_URL, or leave settings.base's database-backed 'ratelimit' cache.",
            30,
        )
    ]
