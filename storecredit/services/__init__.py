"""Store credit's domain actions: spending it on orders, staff adjustments, expiry, referrals."""
