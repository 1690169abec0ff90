"""Signals between apps that may not import each other.

`roamify_refund_event`: the Roamify webhook receiver (esims) sends it for each
verified `refund` event (`refunded` or `rejected`), once per `event_id`;
checkout receives it and closes or flags the refund request it filed.
Keyword arguments: refund_id, status ("REFUNDED" | "REJECTED"), reason (the
rejection_reason, or ""), event_id, data (the event's `data`).

`esim_usage_seen`: esims sends it each time it learns an eSIM's data use (a usage webhook, a usage
fetch), after its own low-data check; checkout receives it for automatic top-ups. Keyword
arguments: esim (the row), snapshot (`esims.usage.UsageSnapshot`). Sent inside the caller's
transaction: a receiver only records and queues work after commit, never calls out.
"""

from django.dispatch import Signal

roamify_refund_event = Signal()
esim_usage_seen = Signal()
