"""The checkout admin, a module per thing it shows; importing them registers their admins."""

from . import customers, marketing, orders, timeline, upstream_refunds  # noqa: F401
