"""WSGI entry point (gunicorn evidencepress.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evidencepress.settings.production")

django_application = get_wsgi_application()

from evidencepress.core.page_cache import PageCacheWSGI  # noqa: E402  (needs settings loaded)

# Stored public pages are answered here, before Django; see core/page_cache.py.
application = PageCacheWSGI(django_application)
