"""What every app of the shop may import: settings helpers, the upstream client
factory, money formatting, after-commit task queueing, the mail outbox."""
