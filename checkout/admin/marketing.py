"""Who said yes to offers: the consent the abandoned-cart email asks for, read-only (a customer
changes it themselves: the account's toggle, an unsubscribe link)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from core.admin_tools import ReadOnlyMixin

from ..models import MarketingConsent


@admin.register(MarketingConsent)
class MarketingConsentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("email", "says_yes", "consented_at", "withdrawn_at", "source")
    list_filter = ("source", ("withdrawn_at", admin.EmptyFieldListFilter))
    search_fields = ("email",)
    ordering = ("-updated_at",)

    @admin.display(description=gettext_lazy("Offers by email"), boolean=True)
    def says_yes(self, obj: MarketingConsent) -> bool:
        return obj.active
