"""Signed links to one eSIM that work without signing in, and expire.

- the top-up link (in the low-data email): opens the eSIM's top-ups;
- the install link (shared by its owner): opens the install details on another screen.

Each kind has its own salt, so one kind's token never opens the other's page. The token
carries the eSIM's id and a fingerprint of its ICCID: a link stops working if the id were
ever reused for another eSIM.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from .models import Esim

TOPUP = "topup"
INSTALL = "install"
_SALTS = {TOPUP: "esims.links.topup", INSTALL: "esims.links.install"}


class LinkError(ValueError):
    """The link is broken, tampered with or expired (the message says which, for the page)."""


@dataclass(frozen=True)
class LinkInfo:
    esim: Esim
    kind: str


def _max_age(kind: str) -> int:
    if kind == TOPUP:
        return settings.ESIM_TOPUP_LINK_DAYS * 86400
    return settings.ESIM_SHARE_LINK_HOURS * 3600


def _fingerprint(esim: Esim) -> str:
    return hashlib.sha256(f"{esim.pk}:{esim.iccid}:{esim.upstream_esim_id}".encode()).hexdigest()[:12]


def make_token(esim: Esim, kind: str) -> str:
    return signing.dumps({"e": esim.pk, "f": _fingerprint(esim)}, salt=_SALTS[kind], compress=True)


def max_age_seconds(kind: str) -> int:
    return _max_age(kind)


def read_token(token: str, kind: str) -> Esim:
    """The eSIM the token names; LinkError when it is expired, tampered with or unknown."""
    try:
        data = signing.loads(token[:500], salt=_SALTS[kind], max_age=_max_age(kind))
    except signing.SignatureExpired:
        raise LinkError(_("This link has expired.")) from None
    except signing.BadSignature:
        raise LinkError(_("This link is not valid.")) from None
    # Signed by us, yet read as untrusted: anything but an id we could have written is refused before
    # it reaches a query (a text id there was a 500).
    esim_id = data.get("e") if isinstance(data, dict) else None
    if type(esim_id) is not int or not 0 < esim_id < 2**63:
        raise LinkError(_("This link is not valid."))
    esim = Esim.objects.filter(pk=esim_id).first()
    if esim is None or data.get("f") != _fingerprint(esim):
        raise LinkError(_("This link is not valid."))
    return esim
