# Order lines of several kinds (esim, topup, giftcard). The old Payment, StripeEvent and
# Esim models give up their reverse names here so that those of payments/ and esims/ can
# take them; their rows move in 0003.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0001_initial"),
        ("checkout", "0001_initial"),
        ("esims", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="esim", name="order",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="checkout.order"),
        ),
        migrations.AlterField(
            model_name="esim", name="order_line",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="checkout.orderline"),
        ),
        migrations.AlterField(
            model_name="esim", name="customer",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name="payment", name="order",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="checkout.order"),
        ),
        migrations.AlterModelOptions(name="orderline", options={"ordering": ["id"]}),
        migrations.AddField(
            model_name="order", name="checkout_key",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="orderline", name="kind",
            field=models.CharField(choices=[("esim", "eSIM"), ("topup", "Top-up"), ("giftcard", "Gift card")],
                                   default="esim", max_length=10),
        ),
        migrations.AddField(
            model_name="orderline", name="data",
            field=models.JSONField(blank=True, default=dict, help_text="What the line's kind needs"),
        ),
        migrations.AddField(
            model_name="orderline", name="esim",
            field=models.ForeignKey(blank=True, help_text="The eSIM a top-up is for", null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="topup_lines",
                                    to="esims.esim"),
        ),
        migrations.AddField(
            model_name="orderline", name="esims",
            field=models.ManyToManyField(blank=True, help_text="The eSIMs delivered for an eSIM line",
                                         related_name="order_lines", to="esims.esim"),
        ),
        migrations.AddField(
            model_name="orderline", name="fulfilled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="orderline", name="upstream_order_id",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="orderline", name="package",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="catalog.package"),
        ),
        migrations.AlterField(
            model_name="orderline", name="package_id_upstream",
            field=models.CharField(blank=True, max_length=160),
        ),
        migrations.AlterField(
            model_name="orderline", name="wholesale_cents",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
