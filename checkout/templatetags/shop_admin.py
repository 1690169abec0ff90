from django import template

register = template.Library()


@register.simple_tag
def shop_dashboard() -> dict:
    from checkout.admin import admin_dashboard

    return admin_dashboard()
