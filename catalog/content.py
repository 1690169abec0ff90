"""The starting text of the shop's policy pages; staff edit them in admin afterwards.

Translation: the text lives here, one msgid per heading, paragraph or list item, so translators
fill the .po files like any other string. A page staff have not edited is shown translated into the
visitor's language at render time (`shown`); a page staff have edited shows their text as typed, in
every language, since there is one text per page in the database. The English pages are the seeded
text, unchanged, whatever the language machinery does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import translate_url
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

if TYPE_CHECKING:
    from .models import ContentPage

REFUND_PROMISE = gettext_noop("Not installed? Full refund.")

# (tag, text): an element whose text translates, or ("", markup) kept as it is.
Block = tuple[str, str]

PAGE_TEXT: dict[str, dict[str, str | tuple[Block, ...]]] = {
    "refund-policy": {
        "title": gettext_noop("Refund policy"),
        "summary": gettext_noop("Not installed? Full refund. Not working and we can't fix it? Full refund."),
        "body": (
            ("h2", REFUND_PROMISE),
            (
                "p",
                gettext_noop(
                    "If you have not installed your eSIM, ask for a refund within 30 days of buying it and "
                    "you get the\nwhole price back, the way you paid (card or gift card). No questions, "
                    "no fees."
                ),
            ),
            ("h2", gettext_noop("Installed but not working?")),
            (
                "p",
                gettext_noop(
                    "Write to us from the email address you used. If we cannot get the eSIM to connect at "
                    "your\ndestination, we refund it in full, even after installation."
                ),
            ),
            ("h2", gettext_noop("What we cannot refund")),
            ("", "<ul>"),
            ("li", gettext_noop("Data you have used, or a plan whose validity has ended.")),
            (
                "li",
                gettext_noop(
                    "An eSIM installed on a phone that does not support eSIM or is locked to a carrier\n"
                    '(<a href="/devices/">check your phone first</a>).'
                ),
            ),
            ("", "</ul>"),
            ("h2", gettext_noop("How long it takes")),
            (
                "p",
                gettext_noop(
                    "We send the refund the same working day. Your bank usually shows it within 5 to 10 days."
                ),
            ),
        ),
    },
    "terms": {
        "title": gettext_noop("Terms of service"),
        "summary": gettext_noop("The plain rules of buying and using an eSIM from us."),
        "body": (
            ("h2", gettext_noop("What you buy")),
            (
                "p",
                gettext_noop(
                    "A prepaid data plan on an eSIM for the destination, amount of data and number of days "
                    "shown on\nthe plan page. There is no contract and no subscription: you pay once."
                ),
            ),
            ("h2", gettext_noop("Your phone")),
            (
                "p",
                gettext_noop(
                    "Your phone must support eSIM and must not be locked to a carrier. Check it before you "
                    "buy."
                ),
            ),
            ("h2", gettext_noop("Validity")),
            (
                "p",
                gettext_noop(
                    "Each plan page says when the validity starts: for most plans, when the eSIM first "
                    "connects at\nyour destination."
                ),
            ),
            ("h2", gettext_noop("Fair use")),
            (
                "p",
                gettext_noop(
                    "Unlimited plans have a daily amount of full-speed data, shown on the plan page, then "
                    "continue at\na lower speed."
                ),
            ),
            ("h2", gettext_noop("Refunds")),
            ("p", gettext_noop('See our <a href="/refund-policy/">refund policy</a>.')),
        ),
    },
    "privacy": {
        "title": gettext_noop("Privacy policy"),
        "summary": gettext_noop("What we keep about you, why, and for how long."),
        "body": (
            ("h2", gettext_noop("What we keep")),
            (
                "p",
                gettext_noop(
                    "Your email address, your orders and your eSIMs (ICCID, install details, data used). We "
                    "never see\nor store your card number: payments are handled by Stripe."
                ),
            ),
            ("h2", gettext_noop("Why")),
            (
                "p",
                gettext_noop(
                    "To deliver your eSIM, send your receipt, show your data left, and help you when you ask."
                ),
            ),
            ("h2", gettext_noop("Who else sees it")),
            (
                "p",
                gettext_noop(
                    "Our eSIM supplier (to create your eSIM) and Stripe (to take the payment). We do not "
                    "sell your data\nand we do not use advertising trackers."
                ),
            ),
            ("h2", gettext_noop("Your rights")),
            (
                "p",
                gettext_noop(
                    'Ask us for a copy of your data, or to delete it, from the <a href="/contact/">contact '
                    "page</a>."
                ),
            ),
        ),
    },
    "contact": {
        "title": gettext_noop("Contact us"),
        "summary": gettext_noop("Real people answer, usually within a few hours, every day."),
        "body": (
            (
                "p",
                gettext_noop(
                    "Write to us about an order, an eSIM that does not connect, or a refund. Give your order "
                    "number\n(it starts with RE-) if you have one."
                ),
            ),
            (
                "p",
                gettext_noop(
                    "Before you write: most connection problems are solved by switching on <strong>data "
                    "roaming</strong>\nfor the eSIM line and choosing it for mobile data."
                ),
            ),
        ),
    },
}


def _html(blocks: tuple[Block, ...], translate) -> str:
    return "\n".join(f"<{tag}>{translate(text)}</{tag}>" if tag else text for tag, text in blocks)


# What migration 0003 seeds (title, summary, HTML body): the English text above.
DEFAULT_PAGES: dict[str, dict[str, str]] = {
    slug: {"title": page["title"], "summary": page["summary"], "body": _html(page["body"], str)}
    for slug, page in PAGE_TEXT.items()
}


@dataclass(frozen=True)
class PageText:
    title: str
    summary: str
    body: str  # HTML, staff's own or ours


_HREF = re.compile(r'href="(/[^"]*)"')


def shown(page: ContentPage) -> PageText:
    """A content page's text in the active language: the seeded text translated, unless staff have
    edited the page (then their text, as typed). Links in a translation go to that language's pages."""
    seeded = DEFAULT_PAGES.get(page.slug)
    own = PageText(page.title, page.summary, page.body)
    if seeded is None or (page.title, page.summary, page.body) != (
        seeded["title"],
        seeded["summary"],
        seeded["body"],
    ):
        return own
    language = translation.get_language() or "en"
    if language.split("-")[0] == "en":
        return own
    body = _html(PAGE_TEXT[page.slug]["body"], _)
    body = _HREF.sub(lambda m: f'href="{translate_url(m[1], language)}"', body)
    return PageText(_(seeded["title"]), _(seeded["summary"]), body)
