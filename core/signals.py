"""Signals between apps that may not import each other.

`roamify_refund_event`: the Roamify webhook receiver (esims) sends it for each
verified `refund` event (`refunded` or `rejected`), once per `event_id`;
checkout receives it and closes or flags the refund request it filed.
Keyword arguments: refund_id, status ("REFUNDED" | "REJECTED"), reason (the
rejection_reason, or ""), event_id, data (the event's `data`).
"""

from django.dispatch import Signal

roamify_refund_event = Signal()
