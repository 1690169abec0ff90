"""Offline emulator of the Roamify partner API; run with `python -m sandboxes.roamify`."""
