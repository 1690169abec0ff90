"""The names of what staff do to the catalog, as the audit log records them.

One vocabulary for every `audit.record` the catalog writes (services and admin alike). The values
are the strings already stored in `AuditEntry.action`, so old entries and new ones read the same.
"""

from __future__ import annotations

from django.db import models


class CatalogAction(models.TextChoices):
    """An action by staff on a destination, a package or the sync (`AuditEntry.action`)."""

    DESTINATION_CHANGE = "destination.change", "Destination changed"
    PRICE_OVERRIDE = "package.price_override", "Price override set"
    PRICE_RISE_APPROVED = "package.price_rise_approved", "Price rise approved"
    SYNC_STARTED = "catalog.sync_started", "Sync started by hand"
