from django.conf import settings
from django.urls import include, path, re_path
from django.views.decorators.cache import cache_control
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls
from wagtail.documents.views import serve as wagtaildocs_serve

urlpatterns = [
    # Staff second factor (TOTP); before Wagtail's admin so its catch-all doesn't take it.
    path("admin/otp/", include("evidencepress.core.urls")),
    path("admin/", include(wagtailadmin_urls)),
    # Documents may sit in login-restricted collections: never let a shared cache keep them.
    re_path(
        r"^documents/(\d+)/(.*)$",
        cache_control(private=True, no_store=True)(wagtaildocs_serve.serve),
        name="wagtaildocs_serve",
    ),
    path("documents/", include(wagtaildocs_urls)),
    # Tailored summaries: the public request form and the reader's withdrawal link.
    path("summaries/", include("evidencepress.summaries.urls")),
    # Read-only JSON API for published topics (docs/api.md).
    path("api/v1/", include("evidencepress.evidence.api.urls")),
    # Feeds, sitemap.xml, robots.txt, search, public publication entries.
    path("", include("evidencepress.articles.public_urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [
    # Wagtail's front-end login form takes a password and nothing else: one sign-in for staff,
    # the admin's, with the lockout and the second factor (docs/security.md).
    path(
        "_util/login/",
        RedirectView.as_view(pattern_name="wagtailadmin_login", query_string=True),
        name="frontend_login",
    ),
    path("", include(wagtail_urls)),
]
