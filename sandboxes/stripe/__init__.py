"""A fake Stripe for tests and the demo: localstripe (unmodified, in a child
process) behind our own aiohttp front that adds Checkout Sessions with a hosted
payment page, signed webhooks, idempotency replay, refund limits and a control
API. Run it with `python -m sandboxes.stripe --port 8420`; drive it from tests
with `sandboxes.stripe.testing.StripeSandbox`.
"""
