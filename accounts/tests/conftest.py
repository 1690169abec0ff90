from __future__ import annotations

import itertools

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from checkout import services as checkout
from checkout.models import Order
from checkout.tests.conftest import make_package  # noqa: F401  (re-exported for the tests)
from checkout.tests.helpers import paid_order
from esims.models import Esim

_numbers = itertools.count(1)


def make_customer(email: str, password: str = "a long pass 123"):
    user = get_user_model().objects.create_user(username=email, email=email, password=password)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def bought_esim(package, customer=None, email: str | None = None) -> tuple[Order, Esim]:
    """An eSIM really bought upstream (the sandbox), through the shop's own fulfilment."""
    email = email or (customer.email if customer else "guest@example.com")
    order = paid_order(package, email=email)
    if customer is not None:
        Order.objects.filter(pk=order.pk).update(customer=customer)
    outcome = checkout.fulfil_order(order.pk)
    assert outcome.completed, outcome.message
    esim = order.esims.get()
    if customer is not None:
        Esim.objects.filter(pk=esim.pk).update(customer=customer)
        esim.refresh_from_db()
    order.refresh_from_db()
    return order, esim


def fake_esim(customer, **fields) -> Esim:
    """An eSIM row with no upstream behind it (for pages that must answer before asking upstream)."""
    n = next(_numbers)
    defaults = {
        "customer": customer,
        "email": customer.email if customer else "",
        "title": "Japan eSIM, 1 GB",
        "upstream_esim_id": f"fake-{n}",
        "iccid": f"8901000000000{n:06d}",
        "status": "READY",
        "lpa_code": "LPA:1$smdp.example$CODE",
        "with_top_up": True,
    }
    return Esim.objects.create(**{**defaults, **fields})


@pytest.fixture
def alice(db):
    return make_customer("alice@example.com")


@pytest.fixture
def bob(db):
    return make_customer("bob@example.com")
