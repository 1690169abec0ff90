"""Payment providers: classes behind one small interface, registered by identifier."""

from __future__ import annotations

from .base import CardDeclined, PaymentError, PaymentProvider, PaymentRequest, ProviderStatus, StartResult

_REGISTRY: dict[str, PaymentProvider] = {}


def register(provider: PaymentProvider) -> PaymentProvider:
    _REGISTRY[provider.identifier] = provider
    return provider


def unregister(identifier: str) -> None:
    _REGISTRY.pop(identifier, None)


def get_provider(identifier: str) -> PaymentProvider:
    try:
        return _REGISTRY[identifier]
    except KeyError:
        raise PaymentError(f"No payment provider {identifier!r}") from None


__all__ = [
    "CardDeclined",
    "PaymentError",
    "PaymentProvider",
    "PaymentRequest",
    "ProviderStatus",
    "StartResult",
    "get_provider",
    "register",
    "unregister",
]
