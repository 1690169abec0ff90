"""allauth's own strings that some of its catalogs lack (its pt_BR one has no "sign in" link on the
sign-up page): named here so `makemessages` puts them in our catalogs, which come first."""

from django.utils.translation import gettext_noop

ALLAUTH_STRINGS = [
    gettext_noop("Already have an account? Then please %(link)ssign in%(end_link)s."),
]
