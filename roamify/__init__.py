"""Typed HTTP client for the Roamify eSIM partner API (no Django dependency).

Example::

    from roamify import RoamifyClient, UpstreamUnavailable

    with RoamifyClient(base_url=..., token=...) as client:
        try:
            order = client.create_instant_order([("esim-cambodia-7days-1gb-all", 1)],
                                                reference_id="SO-1001")
        except UpstreamUnavailable:  # includes UpstreamTimeout: outcome unknown
            order = client.find_order("SO-1001")  # never order twice
"""

__version__ = "0.1.0"

from .client import REFUND_REASON_NOT_INSTALLED, RoamifyClient, backoff_delay
from .errors import (
    AlreadyRefundedError,
    AuthenticationError,
    ConflictError,
    InsufficientBalanceError,
    NotFoundError,
    PagingError,
    ParseError,
    ProfilePendingError,
    RefundRequestOpenError,
    RoamifyError,
    UpstreamTimeout,
    UpstreamUnavailable,
    ValidationError,
)
from .types import (
    Apn,
    Country,
    DailyUsage,
    Destination,
    DestinationPackages,
    Device,
    Esim,
    EsimEvent,
    EsimEvents,
    EsimLink,
    EsimProfile,
    HistoryEntry,
    Money,
    Order,
    OrderItem,
    OrderLine,
    Package,
    RefundRequest,
    Signal,
    Throttle,
    Usage,
)

__all__ = [
    "REFUND_REASON_NOT_INSTALLED",
    "AlreadyRefundedError",
    "Apn",
    "AuthenticationError",
    "ConflictError",
    "Country",
    "Currency",
    "DailyUsage",
    "Destination",
    "DestinationPackages",
    "Device",
    "Esim",
    "EsimEvent",
    "EsimEvents",
    "EsimLink",
    "EsimProfile",
    "ExchangeRate",
    "HistoryEntry",
    "InsufficientBalanceError",
    "Money",
    "NotFoundError",
    "Order",
    "OrderItem",
    "OrderLine",
    "Package",
    "PagingError",
    "ParseError",
    "ProfilePendingError",
    "RefundRequest",
    "RefundRequestOpenError",
    "RoamifyClient",
    "RoamifyError",
    "Signal",
    "Throttle",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "Usage",
    "ValidationError",
    "__version__",
    "backoff_delay",
]
