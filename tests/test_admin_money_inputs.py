"""Every money input in admin is typed as money: "7.49" is taken as $7.49, "7,4.9" is refused with a
clear message and changes nothing. The list below is every such input; a scan of the admin's forms
fails when a new one reads cents.

The order refund page's amount is a MoneyField too (checkout/admin/forms.py); that page is tested
with its own flow (checkout/tests), and the scan below covers its form.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse

from catalog.models import Package
from catalog.tests.factories import PackageFactory
from core.forms import MoneyField
from core.models import AuditEntry
from core.money import parse_money
from giftcards import services as giftcards
from giftcards.models import GiftCard

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgres")]

REFUSED = "Type an amount like 7.49: “7,4.9” is not one (commas only between thousands, as in 1,234.50)."


@dataclass
class MoneyInput:
    name: str
    setup: Callable[[], object]  # makes what the page is about; returns it
    url: Callable[[object], str]
    field: str
    other_fields: Callable[[object], dict]
    value_cents: Callable[[object], int | None]  # what the input changes, read back from the database
    before_cents: int | None  # that value before the post
    after_cents: int  # that value once "7.49" is taken


def _card() -> GiftCard:
    card, _ = giftcards.issue(1000, actor="test")
    return card


def _package() -> Package:
    return PackageFactory(wholesale_cents=300, retail_cents=499)


ISSUE_FIELDS = {
    "recipient_name": "",
    "recipient_email": "",
    "message": "",
    "send_on": "",
    "expires_on": "",
    "template_suffix": "globe",
    "note": "Apology",
}

MONEY_INPUTS = [
    MoneyInput(
        "gift card: issue by hand (Amount)",
        setup=lambda: None,
        url=lambda _: reverse("admin:giftcards_giftcard_add"),
        field="initial_value_cents",
        other_fields=lambda _: ISSUE_FIELDS,
        value_cents=lambda _: GiftCard.objects.values_list("initial_value_cents", flat=True).first(),
        before_cents=None,
        after_cents=749,
    ),
    MoneyInput(
        "gift card: adjust the balance (Change)",
        setup=_card,
        url=lambda card: reverse("admin:giftcards_giftcard_adjust", args=[card.pk]),
        field="amount_cents",
        other_fields=lambda _: {"reason": "Goodwill"},
        value_cents=lambda card: GiftCard.objects.get(pk=card.pk).balance_cents,
        before_cents=1000,
        after_cents=1749,
    ),
    MoneyInput(
        "package: price override",
        setup=_package,
        url=lambda package: reverse("admin:catalog_package_change", args=[package.pk]),
        field="price_override_cents",
        other_fields=lambda _: {"top_up_capable": "on"},
        value_cents=lambda package: Package.objects.get(pk=package.pk).price_override_cents,
        before_cents=None,
        after_cents=749,
    ),
]


@pytest.mark.parametrize("money_input", MONEY_INPUTS, ids=lambda m: m.name)
def test_money_input_takes_7_49_and_refuses_7_4_9(money_input: MoneyInput, staff_client):
    thing = money_input.setup()
    url = money_input.url(thing)
    audit_before = AuditEntry.objects.count()

    page = staff_client.get(url).content.decode()
    label = page.split(f'for="id_{money_input.field}"')[1].split("</label>")[0]
    assert "cents" not in label.lower() and 'inputmode="decimal"' in page

    refused = staff_client.post(url, {**money_input.other_fields(thing), money_input.field: "7,4.9"})
    assert refused.status_code == 200  # the form again, with the error
    html = refused.content.decode()
    assert REFUSED in html.replace("&ldquo;", "“").replace("&rdquo;", "”"), html[-3000:]
    assert 'value="7,4.9"' in html  # what was typed stays in the box to be corrected
    assert money_input.value_cents(thing) == money_input.before_cents  # nothing changed
    assert AuditEntry.objects.count() == audit_before  # and nothing was recorded

    taken = staff_client.post(url, {**money_input.other_fields(thing), money_input.field: "7.49"})
    assert taken.status_code == 302, taken.content.decode()[-3000:]
    assert money_input.value_cents(thing) == money_input.after_cents


def test_an_adjustment_below_zero_is_refused_in_money(staff_client):
    card = _card()
    url = reverse("admin:giftcards_giftcard_adjust", args=[card.pk])
    html = staff_client.post(url, {"amount_cents": "-20.00", "reason": "Too much"}).content.decode()
    assert "The balance is only $10.00." in html
    assert GiftCard.objects.get(pk=card.pk).balance_cents == 1000


def _staff_request():
    request = RequestFactory().get("/admin/")
    request.user = get_user_model()(is_superuser=True, is_staff=True, is_active=True)
    return request


def test_no_admin_page_shows_or_reads_cents():
    """On every admin page (add, change, view-only, inlines, lists), a field in cents is either a
    MoneyField input or shown through a money display: never a bare number of cents."""
    request, raw = _staff_request(), []
    for model, model_admin in admin.site._registry.items():
        pages = [None] if model_admin.has_add_permission(request) else []
        pages += [model()] if model_admin.has_view_or_change_permission(request) else []
        for obj in pages:
            page = f"{model._meta.label} {'add' if obj is None else 'change'}"
            editable = obj is None or model_admin.has_change_permission(request, obj)
            form = model_admin.get_form(request, obj) if editable else None
            readonly = set(model_admin.get_readonly_fields(request, obj))
            for name in flatten_fieldsets(model_admin.get_fieldsets(request, obj)):
                if "cents" not in str(name):
                    continue
                if form is None or name in readonly or name not in form.base_fields:
                    raw.append(f"{page}: {name} shown as cents")
                elif not isinstance(form.base_fields[name], MoneyField):
                    raw.append(f"{page}: {name} typed as cents")
            for inline in model_admin.get_inline_instances(request, model()):
                for name in flatten_fieldsets(inline.get_fieldsets(request, model())):
                    if "cents" in str(name):
                        raw.append(f"{page}, {type(inline).__name__}: {name} shown as cents")
        for name in model_admin.get_list_display(request):
            if "cents" in str(name):
                raw.append(f"{model._meta.label} list: {name} shown as cents")
    assert not raw, raw


def _forms_of_admin_pages() -> dict[str, type[forms.BaseForm]]:
    """The forms admin modules define for their own pages (adjust a balance, refund an order)."""
    modules = {inspect.getmodule(type(model_admin)) for model_admin in admin.site._registry.values()}
    for module in list(modules):  # an admin package's forms module (checkout.admin.forms)
        package = module.__name__.rsplit(".", 1)[0]
        if package.endswith(".admin"):
            modules.add(importlib.import_module(f"{package}.forms"))
    return {
        f"{module.__name__}.{name}": value
        for module in modules
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, forms.BaseForm)
        and value.__module__ == module.__name__
    }


def test_no_form_of_an_admin_page_reads_cents():
    """A field of an admin page's form that holds money (its name says cents or amount) is a MoneyField."""
    found = _forms_of_admin_pages()
    readers = []
    for where, form in found.items():
        for name, field in form.base_fields.items():
            money = "cents" in name or name.startswith("amount")
            if money and not isinstance(field, MoneyField):
                readers.append(f"{where}: {name} ({type(field).__name__})")
            if "cents" in f"{field.label} {field.help_text}".lower():
                readers.append(f"{where}: {name} is labelled in cents")
    assert not readers, readers
    # The scan sees the forms it must: the gift card forms and the order refund page's.
    assert {"giftcards.admin.IssueForm", "giftcards.admin.AdjustForm"} <= found.keys()
    assert "checkout.admin.forms.RefundForm" in found


@pytest.mark.parametrize("typed", ["7,4.9", "1,23", "1234,567", "7,49", "7.499", "abc", "7."])
def test_amounts_that_are_typos_are_refused_not_guessed(typed):
    with pytest.raises(ValueError, match=r"Type an amount like 7\.49"):
        parse_money(typed)


def test_amounts_are_read_as_money():
    typed = ("7.49", "$7.49", "7", "1,234.5", "12,345,678.90", "-5.00", " 0.99 ")
    assert [parse_money(t) for t in typed] == [749, 749, 700, 123450, 1234567890, -500, 99]
