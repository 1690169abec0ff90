from django import template

from ..models import PartnerBalance

register = template.Library()


@register.inclusion_tag("esims/admin_balance_banner.html", takes_context=True)
def low_balance_banner(context) -> dict:
    """The banner admin pages show while the Roamify balance is low (`esims.balance`): under the
    threshold, or paying for too few days of sales at the pace measured when it was last reported."""
    request = context.get("request")
    if request is None or not request.user.is_staff:
        return {"row": None}
    row = PartnerBalance.objects.filter(pk=1).first()
    reasons = row.low_reasons if row is not None else []
    return {"row": row if reasons else None, "reasons": reasons}
