"""The JavaScript's strings in the page's language: Django's JavaScript catalog (gettext, ngettext,
interpolate for static/js/*.js; the strings live in locale/<lang>/LC_MESSAGES/djangojs.po).

A same-origin script, so the Content-Security-Policy (script-src 'self') allows it as it is. Its
address carries the language (/ar/jsi18n/ under i18n_patterns), so one address is one catalog and
nginx, like the browser, may keep it: an hour as for the static files whose names carry no hash,
then a revalidation that costs a 304 while the process that answers has not changed (the catalog
only changes with a deploy, which restarts the processes).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.views.decorators.cache import cache_control
from django.views.decorators.http import last_modified
from django.views.i18n import JavaScriptCatalog

# Whole seconds: Last-Modified has no finer unit, and If-Modified-Since is compared with it.
_STARTED = datetime.now(UTC).replace(microsecond=0)

# Only the shop's own strings (LOCALE_PATHS): packages=["core"] leaves out the admin's and other
# apps' JavaScript catalogs, which no page of the shop uses.
javascript_catalog = cache_control(public=True, max_age=3600)(
    last_modified(lambda request, **kwargs: _STARTED)(JavaScriptCatalog.as_view(packages=["core"]))
)
