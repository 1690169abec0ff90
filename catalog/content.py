"""The starting text of the shop's policy pages; staff edit them in admin afterwards."""

from __future__ import annotations

REFUND_PROMISE = "Not installed? Full refund."

DEFAULT_PAGES: dict[str, dict[str, str]] = {
    "refund-policy": {
        "title": "Refund policy",
        "summary": "Not installed? Full refund. Not working and we can't fix it? Full refund.",
        "body": """
<h2>Not installed? Full refund.</h2>
<p>If you have not installed your eSIM, ask for a refund within 30 days of buying it and you get the
whole price back, the way you paid (card or gift card). No questions, no fees.</p>
<h2>Installed but not working?</h2>
<p>Write to us from the email address you used. If we cannot get the eSIM to connect at your
destination, we refund it in full, even after installation.</p>
<h2>What we cannot refund</h2>
<ul>
<li>Data you have used, or a plan whose validity has ended.</li>
<li>An eSIM installed on a phone that does not support eSIM or is locked to a carrier
(<a href="/devices/">check your phone first</a>).</li>
</ul>
<h2>How long it takes</h2>
<p>We send the refund the same working day. Your bank usually shows it within 5 to 10 days.</p>
""".strip(),
    },
    "terms": {
        "title": "Terms of service",
        "summary": "The plain rules of buying and using an eSIM from us.",
        "body": """
<h2>What you buy</h2>
<p>A prepaid data plan on an eSIM for the destination, amount of data and number of days shown on
the plan page. There is no contract and no subscription: you pay once.</p>
<h2>Your phone</h2>
<p>Your phone must support eSIM and must not be locked to a carrier. Check it before you buy.</p>
<h2>Validity</h2>
<p>Each plan page says when the validity starts: for most plans, when the eSIM first connects at
your destination.</p>
<h2>Fair use</h2>
<p>Unlimited plans have a daily amount of full-speed data, shown on the plan page, then continue at
a lower speed.</p>
<h2>Refunds</h2>
<p>See our <a href="/refund-policy/">refund policy</a>.</p>
""".strip(),
    },
    "privacy": {
        "title": "Privacy policy",
        "summary": "What we keep about you, why, and for how long.",
        "body": """
<h2>What we keep</h2>
<p>Your email address, your orders and your eSIMs (ICCID, install details, data used). We never see
or store your card number: payments are handled by Stripe.</p>
<h2>Why</h2>
<p>To deliver your eSIM, send your receipt, show your data left, and help you when you ask.</p>
<h2>Who else sees it</h2>
<p>Our eSIM supplier (to create your eSIM) and Stripe (to take the payment). We do not sell your data
and we do not use advertising trackers.</p>
<h2>Your rights</h2>
<p>Ask us for a copy of your data, or to delete it, from the <a href="/contact/">contact page</a>.</p>
""".strip(),
    },
    "contact": {
        "title": "Contact us",
        "summary": "Real people answer, usually within a few hours, every day.",
        "body": """
<p>Write to us about an order, an eSIM that does not connect, or a refund. Give your order number
(it starts with RE-) if you have one.</p>
<p>Before you write: most connection problems are solved by switching on <strong>data roaming</strong>
for the eSIM line and choosing it for mobile data.</p>
""".strip(),
    },
}
