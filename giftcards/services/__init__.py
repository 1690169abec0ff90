"""Domain actions of gift cards, one module per concern: `issuing` (new cards and their codes),
`lifecycle` (what staff and the API change after issue, and expiry), `delivery`, `redemption`,
`revoking`, and `tokens` (the JSON API's keys). A change to a card is one transaction under its row
lock; email and Stripe refunds happen after it commits. Audit entries are named by
`giftcards.events.GiftCardAction` (and `ApiTokenAction` for tokens).

Work after commit is queued through `core.queue`, never by importing tasks.
giftcards never import checkout: checkout calls `issue_for_line` (its fulfiller
of gift card lines) and pays with the `giftcard` payment provider.
"""

from ..ledger import GiftCardError
from .delivery import DeliveryInProgress, deliver, send_due
from .issuing import (
    FieldError,
    amount_limits,
    clean_expiry,
    clean_issue_amount,
    clean_purchase_amount,
    clean_send_on,
    issue,
    issue_for_line,
)
from .lifecycle import adjust, disable, enable, expire_cards, update
from .redemption import CODE_REFUSED, find_by_code, usable
from .revoking import (
    buyer_card,
    confirm_revoke,
    retry_revoke_refunds,
    revoke,
    revoke_blocker,
    settle_revoke_refund,
    start_revoke,
)
from .tokens import change_api_token, create_api_token

__all__ = [
    "CODE_REFUSED",
    "DeliveryInProgress",
    "FieldError",
    "GiftCardError",
    "adjust",
    "amount_limits",
    "buyer_card",
    "change_api_token",
    "clean_expiry",
    "clean_issue_amount",
    "clean_purchase_amount",
    "clean_send_on",
    "confirm_revoke",
    "create_api_token",
    "deliver",
    "disable",
    "enable",
    "expire_cards",
    "find_by_code",
    "issue",
    "issue_for_line",
    "retry_revoke_refunds",
    "revoke",
    "revoke_blocker",
    "send_due",
    "settle_revoke_refund",
    "start_revoke",
    "update",
    "usable",
]
