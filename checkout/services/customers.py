"""Customers: one per email, guest or account, kept as orders are placed and paid."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from payments import cards as payment_cards

from ..models import Customer, Order


def remember_customer(order: Order) -> Customer:
    """The order's customer (created on first order); links the account that ordered, if any."""
    email = order.email.strip().lower()
    customer = Customer.objects.filter(email=email).first()
    if customer is None:
        try:
            with transaction.atomic():
                customer = Customer.objects.create(email=email, user=order.customer)
        except IntegrityError:  # a concurrent first order by the same email
            customer = Customer.objects.get(email=email)
    if order.customer_id and customer.user_id is None:
        customer.user_id = order.customer_id
        customer.save(update_fields=["user", "updated_at"])
    return customer


def record_payer(order: Order, name: str, phone: str) -> None:
    """What the buyer typed on the payment page (Stripe returns it): on the order and the customer."""
    name, phone = name.strip()[:200], phone.strip()[:40]
    if not (name or phone):
        return
    order.customer_name = order.customer_name or name
    order.customer_phone = order.customer_phone or phone
    order.save(update_fields=["customer_name", "customer_phone", "updated_at"])
    customer = remember_customer(order)
    changed = [f for f, v in (("name", name), ("phone", phone)) if v and getattr(customer, f) != v]
    for field in changed:
        setattr(customer, field, name if field == "name" else phone)
    if changed:
        customer.save(update_fields=[*changed, "updated_at"])


def stripe_customer_for(order: Order) -> str:
    """The Stripe Customer of the order's customer, created the first time a card is saved and kept
    (one per shop customer). Calls Stripe: never under a lock. Two first saves at once create one
    Customer at Stripe (the idempotency key is our customer's id) and store it once."""
    customer = remember_customer(order)
    if customer.stripe_customer_id:
        return customer.stripe_customer_id
    created = payment_cards.create_provider_customer(customer.email, key=f"shop-customer-{customer.pk}")
    Customer.objects.filter(pk=customer.pk, stripe_customer_id="").update(stripe_customer_id=created)
    return Customer.objects.values_list("stripe_customer_id", flat=True).get(pk=customer.pk)
