from __future__ import annotations

from django.conf import settings
from django.db import models


class EsimQuerySet(models.QuerySet):
    def owned_by(self, user) -> EsimQuerySet:
        return self.filter(customer=user) if user.is_authenticated else self.none()


class Esim(models.Model):
    """An eSIM delivered to a customer, as upstream made it."""

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="esims")
    email = models.EmailField(blank=True, db_index=True, help_text="Where its install details went")
    title = models.CharField(max_length=300, blank=True, help_text="What was bought, e.g. Japan eSIM, 5 GB")
    package_id_upstream = models.CharField(max_length=160, blank=True)
    upstream_esim_id = models.CharField(max_length=64, unique=True)
    upstream_order_id = models.CharField(max_length=64, blank=True)
    iccid = models.CharField(max_length=32, blank=True, db_index=True)
    status = models.CharField(max_length=20, blank=True)
    lpa_code = models.CharField(max_length=500, blank=True)
    smdp_address = models.CharField(max_length=255, blank=True)
    activation_code = models.CharField(max_length=255, blank=True)
    ios_install_url = models.URLField(max_length=1000, blank=True)
    android_install_url = models.URLField(max_length=1000, blank=True)
    apn_automatic = models.BooleanField(default=True)
    apn_name = models.CharField(max_length=100, blank=True)
    apn_username = models.CharField(max_length=100, blank=True)
    apn_password = models.CharField(max_length=100, blank=True)
    with_top_up = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EsimQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = "eSIM"

    def __str__(self) -> str:
        return self.iccid or self.upstream_esim_id

    @property
    def is_ready(self) -> bool:
        return bool(self.lpa_code)
