"""The eSIMs customers own: install details (QR, one-tap links, manual codes) and
the install email. Knows upstream (roamify), never checkout."""
