"""Keys to the JSON API: made by staff, shown once, stored as a SHA-256; each creation and change is
audited in the same transaction. The audit entry names the token by its prefix (public: it is in the
token and in admin) and never holds the token or its hash."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core import audit

from .. import codes
from ..events import ApiTokenAction
from ..models import ApiToken

AUDITED = ("name", "prefix", "scopes", "revoked_at")


def create_api_token(token: ApiToken, *, actor: Any) -> str:
    """Give an unsaved `ApiToken` (name and scopes set) its secret and save it; returns the token,
    which is not kept anywhere: the caller shows it once."""
    token.prefix, secret = codes.new_api_token()
    token.token_hash = codes.token_hash(secret)
    with transaction.atomic():
        token.save()
        audit.record(actor, ApiTokenAction.CREATE, token, {}, audit.snapshot(token, AUDITED))
    return secret


def change_api_token(token: ApiToken, *, actor: Any) -> ApiToken:
    """Save staff's changes to a token (name, scopes, revoked at), with what it was before."""
    with transaction.atomic():
        stored = ApiToken.objects.select_for_update().get(pk=token.pk)
        before = audit.snapshot(stored, AUDITED)
        token.save()
        after = audit.snapshot(token, AUDITED)
        changed = [name for name in AUDITED if before[name] != after[name]]
        if changed:
            revoked = token.revoked_at and not stored.revoked_at
            action = ApiTokenAction.REVOKE if revoked else ApiTokenAction.UPDATE
            audit.record(
                actor,
                action,
                token,
                {name: before[name] for name in changed},
                {name: after[name] for name in changed},
            )
    return token
