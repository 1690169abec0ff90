"""The language switcher's endpoint, at one address for every language (storefront/urls.py)."""

from django.urls import path

from . import language

urlpatterns = [path("setlang/", language.set_language, name="set_language")]
