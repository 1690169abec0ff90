from django.conf import settings
from django.http import HttpRequest

from . import cart


def cart_count(request: HttpRequest) -> dict:
    # Reading the session of a visitor without one would create it.
    has_session = settings.SESSION_COOKIE_NAME in request.COOKIES
    return {"cart_count": cart.count(request.session) if has_session else 0}
