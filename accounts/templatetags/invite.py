"""The account's small "Invite friends, get $5" link: the reward as the settings say it."""

from __future__ import annotations

from django import template
from django.conf import settings

from core.money import format_money

register = template.Library()


@register.simple_tag
def referral_reward() -> str:
    return format_money(settings.REFERRAL_REWARD_CENTS)
