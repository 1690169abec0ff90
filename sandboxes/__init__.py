"""Emulators of the outside world (Roamify, Stripe) for the demo and the tests.

They run as separate processes; the storefront never imports them and only
learns their URLs from settings.
"""
