"""A URL whose view fails, for the Sentry test (run in its own process)."""

from django.urls import path


def boom(request):
    raise RuntimeError("the view failed on purpose")


urlpatterns = [path("boom/", boom)]
