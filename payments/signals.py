"""How payments tell the rest of the shop that money moved (payments never import checkout).

Receivers run inside the transaction that changed the payment, with the
payment row locked; they may lock their own rows (the order) and write.
"""

from django.dispatch import Signal

# payment: the Payment just captured (the money is ours).
payment_captured = Signal()
# payment: a Payment that can no longer pay (expired session, declined, cancelled).
payment_failed = Signal()
# payment, amount_cents, actor: money went back on a payment (ours or from the provider's dashboard).
payment_refunded = Signal()
