from django.conf import settings
from django.http import HttpRequest


def shop(request: HttpRequest) -> dict:
    from checkout import cart

    has_session = settings.SESSION_COOKIE_NAME in request.COOKIES
    return {
        "cart_count": cart.count(request.session) if has_session else 0,
        "SHOP_NAME": settings.SHOP_NAME,
        "SUPPORT_EMAIL": settings.SUPPORT_EMAIL,
        "DEBUG": settings.DEBUG,
    }
