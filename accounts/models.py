from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy


class Preferences(models.Model):
    """What a signed-in customer chose for themselves: kept with the account, used at each sign-in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    language = models.CharField(
        gettext_lazy("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=gettext_lazy("The language of the shop's pages for them; empty until they choose one"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = gettext_lazy("preferences")
        verbose_name_plural = gettext_lazy("preferences")

    def __str__(self) -> str:
        return f"Preferences of {self.user}"
