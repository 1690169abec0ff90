# Payments, Stripe events and eSIMs now live in apps of their own: copy the rows over,
# then drop the old tables. Lines of completed orders count as fulfilled.

from django.db import migrations, models
from django.db.models import Q

PAYMENT_STATUS = {"created": "created", "succeeded": "captured", "expired": "failed",
                  "refunded": "refunded", "partially_refunded": "partially_refunded"}


def move_rows(apps, schema_editor):
    OldPayment = apps.get_model("checkout", "Payment")
    OldEvent = apps.get_model("checkout", "StripeEvent")
    OldEsim = apps.get_model("checkout", "Esim")
    Payment = apps.get_model("payments", "Payment")
    StripeEvent = apps.get_model("payments", "StripeEvent")
    Esim = apps.get_model("esims", "Esim")
    Order = apps.get_model("checkout", "Order")
    OrderLine = apps.get_model("checkout", "OrderLine")

    for old in OldPayment.objects.select_related("order").iterator():
        new = Payment.objects.create(
            order_id=old.order_id, provider=old.provider, status=PAYMENT_STATUS.get(old.status, "failed"),
            amount_cents=old.amount_cents, currency=old.currency, refunded_cents=old.refunded_cents,
            external_reference=old.session_id, capture_reference=old.payment_intent_id,
            redirect_url=old.checkout_url, data={"order_number": old.order.number},
        )
        Payment.objects.filter(pk=new.pk).update(created_at=old.created_at, updated_at=old.updated_at,
                                                 captured_at=old.updated_at if new.status != "created" else None)
    for old in OldEvent.objects.iterator():
        new = StripeEvent.objects.create(event_id=old.event_id, type=old.type, reference=old.order_number)
        StripeEvent.objects.filter(pk=new.pk).update(received_at=old.received_at)
    for old in OldEsim.objects.select_related("order", "order_line").iterator():
        line = old.order_line or OrderLine.objects.filter(order_id=old.order_id).first()
        new = Esim.objects.create(
            customer_id=old.customer_id, email=old.order.email, title=line.description if line else "",
            package_id_upstream=line.package_id_upstream if line else "",
            **{f: getattr(old, f) for f in (
                "upstream_esim_id", "upstream_order_id", "iccid", "status", "lpa_code", "smdp_address",
                "activation_code", "ios_install_url", "android_install_url", "apn_automatic", "apn_name",
                "apn_username", "apn_password", "with_top_up", "expires_at")},
        )
        Esim.objects.filter(pk=new.pk).update(created_at=old.created_at, updated_at=old.updated_at)
        if line is not None:
            line.esims.add(new)
    for order in Order.objects.filter(status="completed").only("id", "completed_at", "upstream_order_id"):
        OrderLine.objects.filter(order_id=order.id).update(fulfilled_at=order.completed_at,
                                                           upstream_order_id=order.upstream_order_id)


class Migration(migrations.Migration):

    dependencies = [
        ("checkout", "0002_lines_of_kinds"),
        ("payments", "0001_initial"),
        ("esims", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(move_rows, migrations.RunPython.noop),
        migrations.DeleteModel(name="Esim"),
        migrations.DeleteModel(name="Payment"),
        migrations.DeleteModel(name="StripeEvent"),
        migrations.RemoveField(model_name="order", name="kind"),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=Q(("kind__in", ["esim", "topup"]), ("package__isnull", False))
                | Q(("kind", "giftcard"), ("package__isnull", True)),
                name="orderline_package_by_kind"),
        ),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=Q(Q(("esim__isnull", False), ("kind", "topup")),
                            Q(Q(("kind", "topup"), _negated=True), ("esim__isnull", True)), _connector="OR"),
                name="orderline_esim_only_for_topup"),
        ),
    ]
