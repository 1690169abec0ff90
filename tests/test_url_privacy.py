"""Everyone else's URLs: every customer-facing pattern with an id or a token, from the URL
resolver, opened as another customer, an anonymous visitor, or with a wrong or truncated token,
answers 404 (or sends to sign in), never the owner's data. A pattern this test cannot fill fails
it (tests/urlsweep.py), so a new page cannot slip through unnoticed."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.test import Client
from django.urls import reverse

from accounts.tests.conftest import bought_esim, make_customer
from checkout.tests.conftest import make_package
from core.models import OutboxEmail
from esims import links
from giftcards import services as giftcards
from giftcards.models import GiftCard

from . import urlsweep

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("url-sweep")]

LOGIN_PATHS = (reverse("account_login"), "/admin/login/")


@dataclass
class World:
    """One customer's things, each a value some URL pattern takes."""

    user: object
    email: str
    iccid: str
    order_number: str
    order_token: str
    esim_pk: int
    topup_token: str
    install_token: str
    card_id: int
    card_code: str
    outbox_pk: int
    email_key: str
    uidb36: str
    reset_key: str

    def __call__(self, attribute: str) -> str:
        return str(getattr(self, attribute))

    def secrets(self) -> list[str]:
        """What must never appear on a page someone else opens."""
        return [self.email, self.iccid, self.order_token, self.card_code, self.iccid[-4:]]


def make_world(email: str, package) -> World:
    user = make_customer(email)
    order, esim = bought_esim(package, customer=user)
    card, code = giftcards.issue(2500, actor="test", customer=user)
    outbox = OutboxEmail.objects.create(to=email, subject=f"For {email}", body_text="x", raw=b"x")
    address = EmailAddress.objects.get(user=user)
    return World(
        user=user,
        email=email,
        iccid=esim.iccid,
        order_number=order.number,
        order_token=order.access_token,
        esim_pk=esim.pk,
        topup_token=links.make_token(esim, links.TOPUP),
        install_token=links.make_token(esim, links.INSTALL),
        card_id=card.pk,
        card_code=code,
        outbox_pk=outbox.pk,
        email_key=EmailConfirmationHMAC(address).key,
        uidb36=user_pk_to_url_str(user),
        reset_key=default_token_generator.make_token(user),
    )


@pytest.fixture
def worlds(roamify, db):
    package = make_package()
    return make_world("alice@example.com", package), make_world("bob@example.com", package)


def _open(client: Client, url: str):
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    return response


def _refused(response, owner: World) -> str | None:
    """Why the answer leaks or is wrong, or None when it refused properly."""
    if response.status_code == 302:
        if not response["Location"].startswith(LOGIN_PATHS):
            return f"302 to {response['Location']}, not to sign in"
        return None
    body = response.content.decode(errors="replace")
    leaked = [s for s in owner.secrets() if s and s in body]
    if leaked:
        return f"{response.status_code} showing {leaked}"
    # Third-party (allauth) key pages answer a bad key with their own 200 "invalid link" page.
    if response.status_code == 404 or (response.status_code == 200 and "invalid" in body.lower()):
        return None
    return f"answered {response.status_code}"


def _wrong(value: str) -> list[str]:
    # %00: a NUL byte once decoded, which PostgreSQL refuses in a query (it once made a 500 here).
    return [
        value[:-1],
        value[: len(value) // 2],
        value[:-1] + ("A" if value[-1] != "A" else "B"),
        "x",
        value[:-1] + "%00",
    ]


def test_every_private_pattern_is_known():
    routes = urlsweep.private_routes()
    unknown = [r.route for r in routes if r.name not in urlsweep.FILLERS]
    assert not unknown, f"add these patterns to tests/urlsweep.py FILLERS (or PUBLIC): {unknown}"
    assert len(routes) >= 14
    # Every filler still matches a pattern: a renamed page must not leave a dead entry.
    assert set(urlsweep.FILLERS) <= {r.name for r in routes}


def test_nobody_else_opens_anything(worlds, client):
    alice, bob = worlds
    routes = urlsweep.private_routes()
    failures: list[str] = []
    owner_client = Client()
    owner_client.force_login(alice.user)
    other = Client()
    other.force_login(bob.user)
    for route in routes:
        url = urlsweep.fill(route, alice)
        # The control: the fill is right, so a 404 below means refused, not a broken URL.
        if route.name not in ("outbox_message",):  # staff-only: the owner is refused too
            control = _open(Client() if set(route.params) & urlsweep.TOKEN_PARAMS else owner_client, url)
            if control.status_code == 404:
                failures.append(f"{route.name}: the owner got 404 at {url}")
        for who, visitor in (("bob", other), ("anonymous", Client())):
            if set(route.params) & urlsweep.TOKEN_PARAMS:
                continue  # a valid token is the key: whoever holds it may open the page
            problem = _refused(_open(visitor, url), alice)
            if problem:
                failures.append(f"{route.name} as {who}: {problem} at {url}")
        for param in route.params:
            attribute = urlsweep.FILLERS[route.name][param]
            if param not in urlsweep.TOKEN_PARAMS and attribute != "order_number":
                continue
            for bad in _wrong(alice(attribute)):
                bad_url = urlsweep.fill(route, lambda a, at=attribute, b=bad: b if a == at else alice(a))
                problem = _refused(_open(Client(), bad_url), alice)
                if problem:
                    failures.append(f"{route.name} with a wrong {param}: {problem} at {bad_url}")
        if route.name.startswith("checkout:order"):  # the order link's ?t= token
            for bad in _wrong(alice.order_token):
                problem = _refused(_open(Client(), f"{url}?t={bad}"), alice)
                if problem:
                    failures.append(f"{route.name} with a wrong ?t=: {problem}")
            good = _open(Client(), f"{url}?t={alice.order_token}")
            if good.status_code == 404:
                failures.append(f"{route.name}: the right ?t= token got 404")
    assert not failures, "\n".join(failures)


def test_bob_keeps_his_own(worlds):
    """The sweep changed nothing of bob's or alice's (a POST as someone else does nothing)."""
    alice, bob = worlds
    other = Client()
    other.force_login(bob.user)
    for route in urlsweep.private_routes():
        if not set(route.params) & urlsweep.TOKEN_PARAMS:
            other.post(urlsweep.fill(route, alice), {"action": "send"})
    card = GiftCard.objects.get(pk=alice.card_id)
    assert card.revoked_at is None and card.balance_cents == 2500
    assert not card.revoke_challenges.exists()
