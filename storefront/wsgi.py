import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
application = get_wsgi_application()

from .warmup import web_process  # noqa: E402 - needs the settings get_wsgi_application loaded

web_process()  # before the first request, not during it (storefront/warmup.py)
