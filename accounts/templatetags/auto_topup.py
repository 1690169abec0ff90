"""What the automatic top-up section of an eSIM's page shows (the page's view stays as it is)."""

from __future__ import annotations

from django import template

from checkout.services import saved_cards

from .. import selectors

register = template.Library()


@register.simple_tag
def auto_topup_for(esim, user) -> dict:
    return {"rule": selectors.auto_topup_of(esim), "cards": saved_cards.cards_of(user)}
