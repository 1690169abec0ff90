"""Everyone else's URLs: every customer-facing pattern with an id or a token, from the URL
resolver, opened as another customer, an anonymous visitor, or with a wrong or truncated token,
answers 404 (or sends to sign in), never the owner's data. Each pattern's expected answers are
in ANSWERS below, status and body (or the exact redirect), checked against the owner's own view
first. A pattern this test cannot fill or has no answers for fails it (tests/urlsweep.py), so a
new page cannot slip through unnoticed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from accounts.tests.conftest import bought_esim, make_customer
from checkout.services import marketing
from checkout.tests.conftest import make_package
from core.models import OutboxEmail
from esims import links
from giftcards import services as giftcards
from giftcards.models import GiftCard

from . import urlsweep

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("url-sweep")]


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
    cart_token: str
    unsubscribe_token: str

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
        cart_token=marketing.cart_link_token(order),
        unsubscribe_token=marketing.unsubscribe_token(marketing.give_consent(email, "checkout")),
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


@dataclass(frozen=True)
class Answer:
    """What a page must answer: its status, and the exact redirect or a text only that page has."""

    status: int
    location: str = ""
    shows: str = ""

    def problem(self, response, owner: World | None = None) -> str | None:
        """Why the response is not this answer (or shows the owner's secrets), or None."""
        body = response.content.decode(errors="replace")
        leaked = [s for s in owner.secrets() if s and s in body] if owner else []
        if leaked:
            return f"{response.status_code} showing {leaked}"
        if response.status_code != self.status:
            where = f" to {response['Location']}" if response.has_header("Location") else ""
            return f"answered {response.status_code}{where}, not {self.status}"
        if self.location and response["Location"] != self.location:
            return f"{response.status_code} to {response['Location']}, not to {self.location}"
        if self.shows and self.shows not in body:
            return f"{response.status_code} without {self.shows!r}"
        return None


NOT_FOUND = Answer(404, shows="We couldn't find that page")  # the shop's 404 page
LINK_REFUSED = Answer(404, shows="This link is not valid.")  # the signed links' own refusal


def sign_in(url: str) -> Answer:
    return Answer(302, location=f"{reverse('account_login')}?next={url}")


def staff_sign_in(url: str) -> Answer:
    return Answer(302, location=f"/admin/login/?next={url}")


# Per private pattern, what each visitor gets: the owner (or whoever holds the token), another
# customer, an anonymous visitor, and anyone with a wrong or truncated token or order number.
# A function of (the owner's world, the URL). A wrong value that no longer matches the pattern
# (e.g. %00 in allauth's keys) gets the shop's 404 page from the resolver instead.
Expect = dict[str, Callable[[World, str], Answer]]
ANSWERS: dict[str, Expect] = {
    "account_confirm_email": {
        # The shop's own pages since issue 21 (templates/account/), not allauth's wording.
        "owner": lambda w, url: Answer(200, shows=f"Is <strong>{w.email}</strong> your email address?"),
        "wrong": lambda w, url: Answer(200, shows="This link has expired or is not valid."),
    },
    "account_reset_password_from_key": {
        # A right key is kept in the session and swapped out of the URL at once.
        "owner": lambda w, url: Answer(
            302, location=reverse("account_reset_password_from_key", args=[w.uidb36, "set-password"])
        ),
        "wrong": lambda w, url: Answer(200, shows="This link has expired or was already used."),
    },
    **{
        name: {"owner": owner, "bob": lambda w, url: NOT_FOUND, "anonymous": lambda w, url: sign_in(url)}
        for name, owner in {
            "accounts:esim_detail": lambda w, url: Answer(200, shows=w.iccid[-4:]),
            "accounts:esim_usage": lambda w, url: Answer(200, shows='"current"'),
            "accounts:esim_refresh": lambda w, url: Answer(
                302, location=f"/account/esims/{w.esim_pk}/#usage"
            ),
            "accounts:esim_topup": lambda w, url: Answer(
                302, location=f"/account/esims/{w.esim_pk}/#top-ups"
            ),
            "accounts:esim_share": lambda w, url: Answer(200, shows="/esim/install/"),
            "accounts:auto_topup_on": lambda w, url: Answer(
                302, location=f"/account/esims/{w.esim_pk}/#auto-topup"
            ),
            "accounts:auto_topup_off": lambda w, url: Answer(
                302, location=f"/account/esims/{w.esim_pk}/#auto-topup"
            ),
            "giftcards:account_revoke": lambda w, url: Answer(200, shows=f"•••• {w.card_code[-4:]}"),
        }.items()
    },
    "accounts:order_receipt": {
        "owner": lambda w, url: Answer(200, shows=f"Receipt {w.order_number}"),
        "bob": lambda w, url: NOT_FOUND,
        "anonymous": lambda w, url: sign_in(url),
        "wrong": lambda w, url: NOT_FOUND,
    },
    "accounts:order_open": {  # "track your data": the order's one eSIM
        "owner": lambda w, url: Answer(302, location=f"/account/esims/{w.esim_pk}/"),
        "bob": lambda w, url: NOT_FOUND,
        "anonymous": lambda w, url: sign_in(url),
        "wrong": lambda w, url: NOT_FOUND,
    },
    "accounts:signed_topups": {
        "owner": lambda w, url: Answer(200, shows="<h1>Top up your eSIM</h1>"),
        "wrong": lambda w, url: LINK_REFUSED,
    },
    "accounts:shared_install": {
        "owner": lambda w, url: Answer(200, shows="<h1>Install your eSIM</h1>"),
        "wrong": lambda w, url: LINK_REFUSED,
    },
    # The outbox is staff-only: the owner is refused too.
    "outbox_message": {name: lambda w, url: staff_sign_in(url) for name in ("owner", "bob", "anonymous")},
    "checkout:order_detail": {
        "owner": lambda w, url: Answer(200, shows=f"Order {w.order_number}"),
        "bob": lambda w, url: NOT_FOUND,
        "anonymous": lambda w, url: NOT_FOUND,
        "wrong": lambda w, url: NOT_FOUND,
        # A right ?t= is traded for the session at once: the same page without it.
        "token": lambda w, url: Answer(302, location=url),
    },
    "checkout:order_status": {
        "owner": lambda w, url: Answer(200, shows='"status": "completed"'),
        "bob": lambda w, url: NOT_FOUND,
        "anonymous": lambda w, url: NOT_FOUND,
        "wrong": lambda w, url: NOT_FOUND,
        "token": lambda w, url: Answer(200, shows='"status": "completed"'),
    },
    # The abandoned-cart email's links: whoever holds the signed token.
    "checkout:cart_from_email": {  # a paid order: nothing put back, the (empty) cart
        "owner": lambda w, url: Answer(302, location="/cart/"),
        "wrong": lambda w, url: LINK_REFUSED,
    },
    "checkout:unsubscribe": {  # GET: the page with one button (unsubscribing is a POST)
        "owner": lambda w, url: Answer(200, shows="Stop emails about offers?"),
        "wrong": lambda w, url: LINK_REFUSED,
    },
    "checkout:order_pay": {  # paid already: back to the order
        "owner": lambda w, url: Answer(302, location=f"/orders/{w.order_number}/"),
        "bob": lambda w, url: NOT_FOUND,
        "anonymous": lambda w, url: NOT_FOUND,
        "wrong": lambda w, url: NOT_FOUND,
        "token": lambda w, url: Answer(302, location=f"/orders/{w.order_number}/"),
    },
}


def _matches_a_pattern(url: str) -> bool:
    try:
        resolve(url)
    except Resolver404:
        return False
    return True


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
    # And each says what every visitor gets: the owner; bob and an anonymous visitor unless a
    # token is the key; a wrong value of each secret (and of an order number).
    assert set(ANSWERS) == {r.name for r in routes}
    for route in routes:
        token = bool(set(route.params) & urlsweep.TOKEN_PARAMS)
        wanted = {"owner"}
        if not token:
            wanted |= {"bob", "anonymous"}
        if token or "number" in route.params:
            wanted |= {"wrong"}
        assert wanted <= set(ANSWERS[route.name]), (route.name, wanted - set(ANSWERS[route.name]))


def test_nobody_else_opens_anything(worlds, client):
    alice, bob = worlds
    routes = urlsweep.private_routes()
    failures: list[str] = []
    owner_client = Client()
    owner_client.force_login(alice.user)
    # So that her keys are live ones, and a refused wrong key means something: Django's reset token
    # is made over last_login, which signing in just changed; allauth confirms only an address
    # not verified yet.
    alice.reset_key = default_token_generator.make_token(type(alice.user).objects.get(pk=alice.user.pk))
    EmailAddress.objects.filter(user=alice.user).update(verified=False)
    other = Client()
    other.force_login(bob.user)

    def check(what: str, response, answer: Answer, owner: World | None = alice) -> None:
        problem = answer.problem(response, owner)
        if problem:
            failures.append(f"{what}: {problem}")

    for route in routes:
        url = urlsweep.fill(route, alice)
        answers = ANSWERS[route.name]
        token = bool(set(route.params) & urlsweep.TOKEN_PARAMS)
        # The control: the fill is right, so a refusal below means refused, not a broken URL.
        owner_sees = answers["owner"](alice, url)
        check(
            f"{route.name} as its owner at {url}",
            _open(Client() if token else owner_client, url),
            owner_sees,
            None,
        )
        if not token:  # else a valid token is the key: whoever holds it may open the page
            for who, visitor in (("bob", other), ("anonymous", Client())):
                check(f"{route.name} as {who} at {url}", _open(visitor, url), answers[who](alice, url))
        for param in route.params:
            attribute = urlsweep.FILLERS[route.name][param]
            if param not in urlsweep.TOKEN_PARAMS and attribute != "order_number":
                continue
            # A wrong secret, as anyone; a wrong order number, as the owner (signed in, so that
            # the answer is about the number, not about signing in).
            visitor = Client() if param in urlsweep.TOKEN_PARAMS else owner_client
            for bad in _wrong(alice(attribute)):
                bad_url = urlsweep.fill(route, lambda a, at=attribute, b=bad: b if a == at else alice(a))
                wrong = answers["wrong"](alice, bad_url) if _matches_a_pattern(bad_url) else NOT_FOUND
                check(f"{route.name} with a wrong {param} at {bad_url}", _open(visitor, bad_url), wrong)
        if "token" in answers:  # the order link's ?t= token
            for bad in _wrong(alice.order_token):
                check(f"{route.name} with a wrong ?t=", _open(Client(), f"{url}?t={bad}"), NOT_FOUND)
            good = _open(Client(), f"{url}?t={alice.order_token}")
            check(f"{route.name} with the right ?t=", good, answers["token"](alice, url), None)
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
