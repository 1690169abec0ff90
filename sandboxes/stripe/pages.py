"""The hosted payment page: plain server-rendered HTML, no outside assets.

Mobile first, labelled fields, errors tied to their inputs with
`aria-describedby`, and it works with JavaScript off (the script only groups
the card number and stops double submits).
"""

from __future__ import annotations

from html import escape

from .checkout import CheckoutSession, format_amount
from .payments import TEST_CARDS

_CSS = """
*,*::before,*::after{box-sizing:border-box}
:root{--fg:#1a1f36;--muted:#5b6275;--line:#d7dae3;--accent:#4f46e5;--accent-dark:#3730a3;
--err:#b42318;--err-bg:#fef3f2;--bg:#f6f8fb;--ok:#067647}
html{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--fg);background:var(--bg)}
body{margin:0}
a{color:var(--accent-dark)}
.topbar{display:flex;align-items:center;justify-content:space-between;gap:1rem;
padding:.75rem 1rem;max-width:60rem;margin:0 auto}
.back{text-decoration:none;font-weight:600}
.back:hover,.back:focus{text-decoration:underline}
.merchant{font-weight:600}
.badge{display:inline-block;font-size:.75rem;font-weight:700;text-transform:uppercase;
letter-spacing:.04em;background:#fff4d6;color:#7a4d00;border-radius:.25rem;padding:.1rem .4rem}
main{max-width:60rem;margin:0 auto;padding:0 1rem 2rem;display:grid;gap:1.5rem}
@media(min-width:48rem){main.layout{grid-template-columns:1fr 1fr;align-items:start;gap:3rem}}
h1{font-size:1.1rem;margin:.25rem 0;font-weight:600;color:var(--muted)}
.total{display:block;font-size:2.25rem;font-weight:700;color:var(--fg);letter-spacing:-.02em}
h2{font-size:1.15rem;margin:0 0 1rem}
.items{list-style:none;margin:1rem 0;padding:0}
.items li{display:grid;grid-template-columns:1fr auto;gap:.1rem 1rem;padding:.75rem 0;
border-bottom:1px solid var(--line)}
.items .name{font-weight:600}
.items .desc,.items .qty{color:var(--muted);font-size:.9rem;grid-column:1}
.items .amount{grid-column:2;grid-row:1;font-weight:600;text-align:right}
.totals{display:flex;justify-content:space-between;font-weight:700;margin:.75rem 0 0}
.totals dt,.totals dd{margin:0}
.panel{background:#fff;border:1px solid var(--line);border-radius:.75rem;padding:1.25rem;
box-shadow:0 1px 2px rgba(16,24,40,.05)}
.field{margin:0 0 1rem}
label,legend{display:block;font-weight:600;font-size:.9rem;margin:0 0 .3rem}
fieldset{border:0;padding:0;margin:0 0 1rem}
legend{font-size:1rem;margin-bottom:.5rem}
input{width:100%;font:inherit;font-size:1rem;padding:.7rem .8rem;border:1px solid var(--line);
border-radius:.5rem;background:#fff;color:var(--fg);min-height:2.9rem}
input:focus{outline:3px solid rgba(79,70,229,.35);outline-offset:1px;border-color:var(--accent)}
input[aria-invalid=true]{border-color:var(--err)}
.row{display:grid;grid-template-columns:1fr 1fr;gap:.75rem;align-items:start}
.row .field{margin:0}
.field-error{color:var(--err);font-size:.875rem;margin:.3rem 0 0}
.alert{background:var(--err-bg);color:var(--err);border:1px solid #fecdca;border-radius:.5rem;
padding:.75rem 1rem;margin:0 0 1rem;font-weight:600}
button{font:inherit;cursor:pointer;border-radius:.5rem;min-height:3rem;width:100%}
.primary{background:var(--accent);color:#fff;border:0;font-weight:700;font-size:1.05rem;
padding:.8rem 1rem}
.primary:hover,.primary:focus{background:var(--accent-dark)}
.primary:focus{outline:3px solid rgba(79,70,229,.45);outline-offset:2px}
.primary[disabled]{opacity:.7;cursor:progress}
.secondary{background:#fff;color:var(--fg);border:1px solid var(--line);font-weight:600;
padding:.8rem 1rem;margin-top:.75rem}
.testcards{margin-top:1.25rem;font-size:.9rem;color:var(--muted)}
.testcards summary{cursor:pointer;font-weight:600}
.testcards code{color:var(--fg);font-size:.9rem}
.center{max-width:30rem}
.status-ok{color:var(--ok)}
footer{text-align:center;color:var(--muted);font-size:.8rem;padding:0 1rem 2rem}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
"""

_JS = """
(function(){
  var form=document.getElementById('payment-form');
  if(!form)return;
  var num=document.getElementById('cardnumber');
  num.addEventListener('input',function(){
    var d=num.value.replace(/\\D/g,'').slice(0,16);
    var g=d.replace(/(.{4})/g,'$1 ').trim();
    if(g!==num.value)num.value=g;
  });
  var exp=document.getElementById('exp');
  exp.addEventListener('input',function(e){
    if(e.inputType&&e.inputType.indexOf('delete')===0)return;
    var d=exp.value.replace(/\\D/g,'').slice(0,4);
    var v=d.length>2?d.slice(0,2)+' / '+d.slice(2):d;
    if(v!==exp.value)exp.value=v;
  });
  form.addEventListener('submit',function(){
    var b=document.getElementById('pay-button');
    // One submit only: a second click must not start a second payment.
    setTimeout(function(){b.disabled=true;},0);
    b.setAttribute('aria-busy','true');
    b.textContent='Processing\\u2026';
  });
})();
"""


def _lang(session: CheckoutSession | None) -> str:
    if session and session.locale and session.locale != "auto":
        return session.locale
    return "en"


def _layout(title: str, body: str, session: CheckoutSession | None, business: str) -> str:
    back = ""
    if session and session.cancel_url and session.status == "open":
        back = (
            f'<a class="back" href="{escape(session.cancel_url)}">'
            f'<span aria-hidden="true">&larr;</span> Back</a>'
        )
    return f"""<!doctype html>
<html lang="{escape(_lang(session))}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header class="topbar">
<div>{back}</div>
<div><span class="merchant">{escape(business)}</span> <span class="badge">Test mode</span></div>
</header>
{body}
<footer>Stripe sandbox &middot; no real payment is made.</footer>
<script>{_JS}</script>
</body>
</html>"""


def _summary(session: CheckoutSession) -> str:
    total = format_amount(session.amount_total, session.currency)
    items = []
    for li in session.line_items:
        desc = f'<div class="desc">{escape(li.description)}</div>' if li.description else ""
        qty = f'<div class="qty">Qty {li.quantity}</div>' if li.quantity != 1 else ""
        items.append(
            f'<li><div class="name">{escape(li.name)}</div>'
            f'<div class="amount">{escape(format_amount(li.amount, li.currency))}</div>'
            f"{desc}{qty}</li>"
        )
    return f"""<section class="summary" aria-labelledby="summary-title">
<h1 id="summary-title">Pay <span class="total">{escape(total)}</span></h1>
<ul class="items" aria-label="Order summary">{"".join(items)}</ul>
<dl class="totals"><dt>Total due</dt><dd>{escape(total)}</dd></dl>
</section>"""


def _field(
    name: str,
    label: str,
    value: str,
    errors: dict[str, str],
    *,
    autocomplete: str,
    input_type: str = "text",
    inputmode: str | None = None,
    placeholder: str | None = None,
    maxlength: int | None = None,
) -> str:
    err = errors.get(name)
    attrs = [
        f'id="{name}"',
        f'name="{name}"',
        f'type="{input_type}"',
        f'autocomplete="{autocomplete}"',
        f'value="{escape(value)}"',
        "required",
    ]
    if inputmode:
        attrs.append(f'inputmode="{inputmode}"')
    if placeholder:
        attrs.append(f'placeholder="{escape(placeholder)}"')
    if maxlength:
        attrs.append(f'maxlength="{maxlength}"')
    message = ""
    if err:
        attrs += ['aria-invalid="true"', f'aria-describedby="{name}-error"']
        if next(iter(errors)) == name:
            attrs.append("autofocus")  # take the user straight to the first problem
        message = f'<p id="{name}-error" class="field-error">{escape(err)}</p>'
    return (
        f'<div class="field"><label for="{name}">{escape(label)}</label>'
        f"<input {' '.join(attrs)}>{message}</div>"
    )


def payment_page(
    session: CheckoutSession,
    *,
    business: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
) -> str:
    values = values or {}
    errors = errors or {}
    email = values.get("email", session.customer_email or "")
    total = format_amount(session.amount_total, session.currency)
    verb = {"donate": "Donate", "book": "Book"}.get(session.submit_type or "", "Pay")
    alert_html = f'<div class="alert" role="alert">{escape(alert)}</div>' if alert else ""
    if errors and not alert:
        alert_html = '<div class="sr-only" role="alert">Please correct the highlighted fields.</div>'
    cards = "".join(f"<li><code>{escape(n)}</code> {escape(what)}</li>" for n, what in TEST_CARDS)
    form = f"""<section class="panel" aria-labelledby="pay-title">
<h2 id="pay-title">Pay with card</h2>
{alert_html}
<form id="payment-form" method="post" action="/pay/{escape(session.id)}" novalidate>
{_field("email", "Email", email, errors, autocomplete="email", input_type="email")}
<fieldset>
<legend>Card information</legend>
{
        _field(
            "cardnumber",
            "Card number",
            values.get("cardnumber", ""),
            errors,
            autocomplete="cc-number",
            inputmode="numeric",
            placeholder="1234 1234 1234 1234",
            maxlength=23,
        )
    }
<div class="row">
{
        _field(
            "exp",
            "Expiry (MM/YY)",
            values.get("exp", ""),
            errors,
            autocomplete="cc-exp",
            inputmode="numeric",
            placeholder="MM / YY",
            maxlength=9,
        )
    }
{_field("cvc", "CVC", "", errors, autocomplete="cc-csc", inputmode="numeric", placeholder="123", maxlength=4)}
</div>
</fieldset>
{_field("name", "Name on card", values.get("name", ""), errors, autocomplete="cc-name")}
<button id="pay-button" class="primary" type="submit">{verb} {escape(total)}</button>
</form>
<details class="testcards"><summary>Test cards</summary>
<ul>{cards}</ul><p>Use any future expiry date and any 3-digit CVC.</p></details>
</section>"""
    body = f'<main class="layout">{_summary(session)}{form}</main>'
    return _layout(f"Pay {total}", body, session, business)


def challenge_page(session: CheckoutSession, *, business: str) -> str:
    total = format_amount(session.amount_total, session.currency)
    body = f"""<main class="center"><section class="panel" aria-labelledby="challenge-title">
<h1 id="challenge-title" class="total" style="font-size:1.5rem">Authenticate your payment</h1>
<p>Your bank asks you to confirm this payment of <strong>{escape(total)}</strong>
to {escape(business)}.</p>
<p>This is a simulated 3D Secure test page: choose what the bank should answer.</p>
<form method="post" action="/pay/{escape(session.id)}/authenticate">
<button class="primary" type="submit" name="action" value="complete">Complete authentication</button>
<button class="secondary" type="submit" name="action" value="fail">Fail authentication</button>
</form></section></main>"""
    return _layout("Authenticate your payment", body, session, business)


def status_page(
    title: str, message: str, session: CheckoutSession | None, *, business: str, ok: bool = False
) -> str:
    link = ""
    if session is not None and session.status == "complete":
        link = f'<p><a href="{escape(session.success_redirect())}">Continue</a></p>'
    elif session is not None and session.cancel_url:
        link = f'<p><a href="{escape(session.cancel_url)}">Return to the shop</a></p>'
    cls = ' class="status-ok"' if ok else ""
    body = f"""<main class="center"><section class="panel" aria-labelledby="status-title">
<h1 id="status-title"{cls} style="font-size:1.5rem">{escape(title)}</h1>
<p>{escape(message)}</p>{link}</section></main>"""
    return _layout(title, body, session, business)
