from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    """Cart, orders and their lines (eSIM, top-up, gift card), fulfilment, refunds, reconciler."""

    name = "checkout"

    def ready(self) -> None:
        from core.signals import esim_usage_seen, roamify_refund_event
        from esims import balance
        from giftcards.services import issue_for_line
        from payments import signals

        from .models import LineKind
        from .reports import daily_cost_cents
        from .services import auto_topup, payment, register_line_fulfiller, upstream_refunds

        signals.payment_captured.connect(payment.on_payment_captured, dispatch_uid="checkout-captured")
        signals.payment_failed.connect(payment.on_payment_failed, dispatch_uid="checkout-failed")
        signals.payment_refunded.connect(payment.on_payment_refunded, dispatch_uid="checkout-refunded")
        # Gift cards are issued by their own app (which never imports checkout).
        register_line_fulfiller(LineKind.GIFTCARD, issue_for_line)
        # The partner balance is measured against the cost of what checkout delivered (esims runs
        # the check and may not import checkout).
        balance.register_daily_cost(daily_cost_cents)
        roamify_refund_event.connect(
            upstream_refunds.on_roamify_refund_event, dispatch_uid="checkout-roamify-refund"
        )
        # Automatic top-ups follow the usage esims learns (esims may not import checkout).
        esim_usage_seen.connect(auto_topup.on_usage_seen, dispatch_uid="checkout-auto-topup")
