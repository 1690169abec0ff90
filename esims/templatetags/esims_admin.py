from django import template
from django.conf import settings

from ..models import PartnerBalance

register = template.Library()


@register.inclusion_tag("esims/admin_balance_banner.html", takes_context=True)
def low_balance_banner(context) -> dict:
    """The banner admin pages show while the Roamify balance is under ROAMIFY_LOW_BALANCE_CENTS."""
    request = context.get("request")
    if request is None or not request.user.is_staff:
        return {"row": None}
    row = PartnerBalance.objects.filter(pk=1).first()
    if row is None or row.balance_cents >= settings.ROAMIFY_LOW_BALANCE_CENTS:
        return {"row": None}
    return {"row": row, "threshold": settings.ROAMIFY_LOW_BALANCE_CENTS / 100}
