"""The order admin where support works: buttons on the order page (retry, resend, refund, note),
each saying what it will do and asking to confirm; the list with its filter and the CSV export."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy, ngettext

from core.admin_tools import AuditTrailMixin, CsvExportMixin, NoDeleteMixin
from core.exports import CsvExport
from core.money import format_money
from payments.models import Payment
from payments.providers import PaymentError

from .. import books, reports, services
from ..models import Customer, Order, OrderLine, OrderStatus
from ..services import refunds, staff
from .display import ReadOnlyInline, charged_and_base, when
from .exports import LINE_HEADER, ORDER_HEADER, line_rows, order_rows
from .forms import NoteForm, RefundForm
from .timeline import OrderEventInline, timeline_by_kind
from .upstream_refunds import UpstreamRefundInline

# The order's attribution fields, as the "Came from" panel names them.
ATTRIBUTION_LABELS = (
    ("utm_source", gettext_lazy("Source (utm_source)")),
    ("utm_medium", gettext_lazy("Medium (utm_medium)")),
    ("utm_campaign", gettext_lazy("Campaign (utm_campaign)")),
    ("utm_term", gettext_lazy("Term (utm_term)")),
    ("utm_content", gettext_lazy("Content (utm_content)")),
    ("ref", gettext_lazy("Referral code (ref)")),
    ("referrer", gettext_lazy("Referring site")),
    ("landing_path", gettext_lazy("Landing page")),
)

BADGE = {
    "completed": "ok",
    "requires_action": "bad",
    "refunded": "quiet",
    "cancelled": "quiet",
    "pending_payment": "warn",
    "paid": "warn",
    "fulfilling": "warn",
}


# --- Inlines (the timeline and the Roamify claims have modules of their own) ----------------------


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = (
        "kind",
        "description",
        "quantity",
        "unit_price",
        "line_discount",
        "line_total",
        "cost",
        "margin",
        "package_id_upstream",
        "fulfilled",
    )

    @admin.display(description=gettext_lazy("Unit price"))
    def unit_price(self, obj: OrderLine) -> str:
        return format_money(obj.unit_price_cents, obj.order.currency)

    @admin.display(description="Discount")
    def line_discount(self, obj: OrderLine) -> str:
        return f"-{format_money(obj.discount_cents, obj.order.currency)}" if obj.discount_cents else "—"

    @admin.display(description=gettext_lazy("Total"))
    def line_total(self, obj: OrderLine) -> str:
        return format_money(obj.total_cents, obj.order.currency)

    @admin.display(description=gettext_lazy("Cost"))
    def cost(self, obj: OrderLine) -> str:
        # An unsaved row (a posted extra form the inline re-renders) has no quantity: nothing to show.
        if obj.kind == "giftcard" or obj.quantity is None:
            return "—"
        return format_money(obj.wholesale_cents * obj.quantity)

    @admin.display(description=gettext_lazy("Margin"))
    def margin(self, obj: OrderLine) -> str:
        if obj.kind == "giftcard" or obj.quantity is None or obj.total_cents is None:
            return "—"
        return format_money(obj.total_cents - obj.wholesale_cents * obj.quantity, obj.order.currency)

    @admin.display(description=gettext_lazy("Fulfilled"))
    def fulfilled(self, obj: OrderLine) -> str:
        return when(obj.fulfilled_at) if obj.fulfilled_at else "not yet"


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = (
        "provider",
        "status",
        "amount",
        "refunded",
        "external_reference",
        "capture_reference",
        "created",
    )

    @admin.display(description=gettext_lazy("Amount"))
    def amount(self, obj: Payment) -> str:
        return format_money(obj.amount_cents, obj.currency)

    @admin.display(description=gettext_lazy("Refunded"))
    def refunded(self, obj: Payment) -> str:
        return format_money(obj.refunded_cents, obj.currency)

    @admin.display(description=gettext_lazy("Created"))
    def created(self, obj: Payment) -> str:
        return when(obj.created_at)


# --- Filters ---------------------------------------------------------------------------------------


def abandoned_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=settings.ABANDONED_AFTER_MINUTES)


class OrderViewFilter(admin.SimpleListFilter):
    """Unpaid orders older than an hour are abandoned carts: out of the default list, in their own."""

    title = gettext_lazy("show")
    parameter_name = "view"

    def lookups(self, request, model_admin):
        return (("abandoned", gettext("Abandoned (unpaid > 1 h)")), ("all", gettext("Everything")))

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == gettext("All"):
                choice["display"] = gettext("Orders (not abandoned)")
            yield choice

    def queryset(self, request, queryset):
        abandoned = Q(status=OrderStatus.PENDING_PAYMENT, created_at__lt=abandoned_before())
        if self.value() == "abandoned":
            return queryset.filter(abandoned)
        if self.value() == "all" or request.GET.get("q") or request.GET.get("status__exact"):
            return queryset  # a search or a status asked for finds every order
        return queryset.exclude(abandoned)


EMPTY_CHOICE = "-"  # what a breakdown filter calls "nothing there" in the URL


class BreakdownFilter(admin.SimpleListFilter):
    """Orders of one source (campaign, ...), as the dashboard groups them (`books.BREAKDOWNS`)."""

    breakdown = ""
    limit = 50  # the most frequent values offered; any other is a URL away (?source=...)

    def lookups(self, request, model_admin):
        expression, empty = books.BREAKDOWNS[self.breakdown]
        values = (
            Order.objects.annotate(v=expression)
            .exclude(v="")
            .values("v")
            .annotate(n=Count("id"))
            .order_by("-n", "v")
            .values_list("v", flat=True)[: self.limit]
        )
        return [(EMPTY_CHOICE, empty), *((v, v) for v in values)]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        value = "" if self.value() == EMPTY_CHOICE else self.value()
        return queryset.alias(**{f"b_{self.breakdown}": books.BREAKDOWNS[self.breakdown][0]}).filter(
            **{f"b_{self.breakdown}": value}
        )


class SourceFilter(BreakdownFilter):
    title = gettext_lazy("source")
    parameter_name = breakdown = "source"


class CampaignFilter(BreakdownFilter):
    title = gettext_lazy("campaign")
    parameter_name = breakdown = "campaign"


# --- Orders ----------------------------------------------------------------------------------------


@admin.register(Order)
class OrderAdmin(AuditTrailMixin, CsvExportMixin, NoDeleteMixin, admin.ModelAdmin):
    list_display = ("number", "status_badge", "total", "margin", "destination", "customer_email", "paid")
    list_display_links = ("number",)
    # Dates are the paid time: "this month" means sold this month (an unpaid order is not a sale).
    list_filter = (
        OrderViewFilter,
        "status",
        "lines__kind",
        ("paid_at", admin.DateFieldListFilter),
        SourceFilter,
        CampaignFilter,
    )
    search_fields = (
        "number",
        "email",
        "customer_name",
        "customer_phone",
        "lines__esims__iccid",
        "lines__esim__iccid",
        "upstream_order_id",
        "lines__upstream_order_id",
        "lines__esims__upstream_esim_id",
        "payments__external_reference",
        "payments__capture_reference",
        "upstream_refunds__refund_id",
    )
    search_help_text = gettext_lazy(
        "Email, name, phone, order number, ICCID, upstream order or eSIM id, Stripe id"
    )
    date_hierarchy = "paid_at"
    inlines = [OrderLineInline, PaymentInline, UpstreamRefundInline, OrderEventInline]
    actions = ["retry_fulfilment"]
    readonly_fields = (
        "number",
        "status_badge",
        "email",
        "customer_link",
        "customer_name",
        "customer_phone",
        "total",
        "discount",
        "margin_detail",
        "travel_date",
        "action_reason",
        "upstream_order_id",
        "delivered_esims",
        "esim_email",
        "fulfilment_attempts",
        "timeline_kinds",
        "created",
        "paid",
        "completed",
        "came_from",
        "audit_trail",
    )
    fieldsets = (
        (None, {"fields": ("number", "status_badge", "action_reason", "total", "discount", "margin_detail")}),
        (
            gettext_lazy("Customer"),
            {"fields": ("email", "customer_link", "customer_name", "customer_phone", "travel_date")},
        ),
        ("eSIMs", {"fields": ("delivered_esims", "esim_email", "upstream_order_id", "fulfilment_attempts")}),
        (gettext_lazy("Times"), {"fields": ("created", "paid", "completed")}),
        (gettext_lazy("Came from"), {"fields": ("came_from",)}),
        (gettext_lazy("Timeline by kind"), {"fields": ("timeline_kinds",)}),
        (gettext_lazy("Audit trail"), {"classes": ("collapse",), "fields": ("audit_trail",)}),
    )
    change_form_template = "admin/checkout/order/change_form.html"
    show_full_result_count = False
    list_per_page = 50
    csv_exports = [
        CsvExport("orders", gettext_lazy("Export orders (CSV)"), ORDER_HEADER, order_rows),
        CsvExport("lines", gettext_lazy("Export order lines (CSV)"), LINE_HEADER, line_rows),
    ]

    def get_queryset(self, request):
        if getattr(request, "shop_export", False):
            return super().get_queryset(request)  # the export reads lines itself, a chunk at a time
        first = (
            OrderLine.objects.filter(order=OuterRef("pk"), package__isnull=False)
            .order_by("id")
            .values("package__destination__name")[:1]
        )
        places = (
            OrderLine.objects.filter(order=OuterRef("pk"), package__isnull=False)
            .values("order")
            .annotate(n=Count("package__destination", distinct=True))
            .values("n")
        )
        return books.with_money(
            super()
            .get_queryset(request)
            .annotate(
                first_destination=Subquery(first),
                destination_count=Coalesce(Subquery(places, output_field=IntegerField()), Value(0)),
            )
        )

    def get_search_results(self, request, queryset, search_term):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        return (queryset.distinct() if search_term else queryset), False

    def changelist_view(self, request, extra_context=None):
        # Support types an ICCID or a number and means one order: open it at once.
        if request.method == "GET" and request.GET.get("q") and set(request.GET) <= {"q"}:
            try:
                changelist = self.get_changelist_instance(request)
            except IncorrectLookupParameters:  # a search no order can match: the list says so
                return super().changelist_view(request, extra_context)
            found = list(changelist.get_queryset(request).values_list("pk", flat=True)[:2])
            if len(found) == 1:
                return HttpResponseRedirect(reverse("admin:checkout_order_change", args=[found[0]]))
        return super().changelist_view(request, extra_context)

    # -- columns

    @admin.display(description=gettext_lazy("Total"), ordering="total_cents")
    def total(self, obj: Order) -> str:
        return charged_and_base(obj)

    @admin.display(description="Discount")
    def discount(self, obj: Order) -> str:
        """The code and what it took off (the total above is after it)."""
        if not obj.discount_code_id:
            return "—"
        return f"{obj.discount_code.code}: -{format_money(obj.discount_cents, obj.currency)}"

    @admin.display(description=gettext_lazy("Margin"), ordering="total_cents")
    def margin(self, obj: Order) -> str:
        """Net revenue less cost, by the books' rules (a gift card bought is not a sale)."""
        money = books.order_money(obj)
        if not money.has_sales:
            return "—"
        share = f" ({money.margin_percent:.0f}%)" if money.margin_percent is not None else ""
        return f"{format_money(money.margin_cents, money.currency)}{share}"

    @admin.display(description=gettext_lazy("Margin"))
    def margin_detail(self, obj: Order) -> str:
        money = books.order_money(obj)
        cur = money.currency  # the books' figures are in the base currency, at the order's rate
        rows = [
            (gettext("eSIMs and top-ups sold"), money.gross_sales_cents),
            # Translators: the order's discount code, taken off its sales (list price) in the books.
            *([(gettext("Discount"), -money.discounts_cents)] if money.discounts_cents else []),
            (gettext("Refunded of them"), -money.refunds_cents),
            (gettext("Net revenue"), money.net_revenue_cents),
            (gettext("Wholesale cost delivered"), -money.delivered_cost_cents),
            (gettext("Cost recovered from Roamify"), money.recovered_cost_cents),
            (gettext("Margin"), money.margin_cents),
        ]
        notes = []
        if money.paid_by_credit_cents:
            # Credit spent is revenue through what it paid for; a refund of it went back as credit.
            notes.append(
                gettext("%(amount)s of it paid by store credit")
                % {"amount": format_money(money.paid_by_credit_cents, cur)}
            )
        if money.lost_cost_cents:
            notes.append(
                f"{format_money(money.lost_cost_cents, cur)} of cost lost to a rejected Roamify claim"
            )
        if money.giftcards_sold_cents:
            notes.append(
                f"gift cards {format_money(money.giftcards_sold_cents, cur)} (not a sale: held for the card)"
                + (
                    f", {format_money(money.giftcard_refunds_cents, cur)} of it refunded"
                    if money.giftcard_refunds_cents
                    else ""
                )
            )
        table = format_html(
            '<table class="shop-money">{}</table>',
            format_html_join(
                "",
                '<tr><th scope="row">{}</th><td>{}</td></tr>',
                ((k, format_money(v, cur)) for k, v in rows),
            ),
        )
        if money.margin_percent is not None:
            table = format_html("{}<p>{}% of net revenue.</p>", table, money.margin_percent)
        if notes:
            text = "; ".join(notes)
            table = format_html("{}<p>{}</p>", table, text[:1].upper() + text[1:] + ".")
        return table

    @admin.display(description=gettext_lazy("Came from"))
    def came_from(self, obj: Order) -> str:
        """Where the visit that placed it came from (core/attribution.py): what is known of it."""
        rows = [(label, getattr(obj, name)) for name, label in ATTRIBUTION_LABELS if getattr(obj, name)]
        if not rows:
            return gettext(
                "Nothing known: a direct visit, or placed without one (one-tap, automatic top-up)."
            )
        return format_html(
            '<table class="shop-came-from">{}</table>',
            format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', rows),
        )

    @admin.display(description=gettext_lazy("Destination"))
    def destination(self, obj: Order) -> str:
        name = getattr(obj, "first_destination", None) or "—"
        extra = getattr(obj, "destination_count", 0) - 1
        return f"{name} +{extra}" if extra > 0 else name

    @admin.display(description=gettext_lazy("Customer"), ordering="email")
    def customer_email(self, obj: Order) -> str:
        return f"{obj.customer_name} · {obj.email}" if obj.customer_name else obj.email

    @admin.display(description=gettext_lazy("Paid"), ordering="paid_at")
    def paid(self, obj: Order) -> str:
        return when(obj.paid_at) if obj.paid_at else f"unpaid · {when(obj.created_at)}"

    @admin.display(description=gettext_lazy("Created"))
    def created(self, obj: Order) -> str:
        return when(obj.created_at)

    @admin.display(description=gettext_lazy("Completed"))
    def completed(self, obj: Order) -> str:
        return when(obj.completed_at)

    @admin.display(description=gettext_lazy("Status"), ordering="status")
    def status_badge(self, obj: Order) -> str:
        return format_html(
            '<span class="shop-badge {}">{}</span>', BADGE.get(obj.status, "warn"), obj.get_status_display()
        )

    @admin.display(description=gettext_lazy("Customer record"))
    def customer_link(self, obj: Order) -> str:
        customer = Customer.objects.filter(email=obj.email.lower()).first()
        if customer is None:
            return "—"
        url = reverse("admin:checkout_customer_change", args=[customer.pk])
        account = " (has an account)" if customer.user_id else " (guest)"
        return format_html('<a href="{}">{}</a>{}', url, customer, account)

    @admin.display(description=gettext_lazy("eSIMs delivered"))
    def delivered_esims(self, obj: Order) -> str:
        esims = [
            (
                reverse("admin:esims_esim_change", args=[e.pk]),
                e.iccid or e.upstream_esim_id,
                e.status or "?",
                f" · {e.get_refund_state_display()}" if e.refund_state else "",
                e.title,
            )
            for e in obj.esims
        ]
        if not esims:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", '<li><a href="{}"><code>{}</code></a> · {}{} · {}</li>', esims),
        )

    @admin.display(description=gettext_lazy("Show only"))
    def timeline_kinds(self, obj: Order) -> str:
        return timeline_by_kind(obj)

    @admin.display(description=gettext_lazy("eSIM email"))
    def esim_email(self, obj: Order) -> str:
        return f"last sent {when(obj.esim_email_sent_at)}" if obj.esim_email_sent_at else "not sent"

    # -- permissions: orders come from checkout, never typed in or deleted

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("checkout.change_order")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/retry/", view(self.retry_view), name="checkout_order_retry"),
            path("<int:pk>/resend/", view(self.resend_view), name="checkout_order_resend"),
            path("<int:pk>/refund/", view(self.refund_view), name="checkout_order_refund"),
            path("<int:pk>/note/", view(self.note_view), name="checkout_order_note"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        order = Order.objects.filter(pk=object_id).first()
        if order is not None:
            extra_context["order_actions"] = order_actions(order)
        # Nothing on the page is typed in: the buttons above do the work.
        extra_context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().change_view(request, object_id, form_url, extra_context)

    # -- the order page's buttons

    def _page(self, request: HttpRequest, order: Order, template: str, title: str, **context) -> HttpResponse:
        return TemplateResponse(
            request,
            f"admin/checkout/order/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "order": order,
                "title": title,
                "order_url": reverse("admin:checkout_order_change", args=[order.pk]),
                **context,
            },
        )

    def _done(self, request: HttpRequest, order: Order, message: str, level=messages.SUCCESS) -> HttpResponse:
        self.message_user(request, message, level)
        return HttpResponseRedirect(reverse("admin:checkout_order_change", args=[order.pk]))

    def _order(self, request: HttpRequest, pk: int) -> Order:
        order = get_object_or_404(Order, pk=pk)
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        return order

    def retry_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = self._order(request, pk)
        if request.method == "POST":
            try:
                staff.retry(order.pk, actor=request.user)
            except services.CheckoutError as exc:
                return self._done(request, order, str(exc), messages.ERROR)
            return self._done(
                request,
                order,
                gettext("Fulfilment of %(number)s queued: the eSIM email goes when it completes.")
                % {"number": order.number},
            )
        return self._page(
            request,
            order,
            "retry.html",
            gettext("Retry fulfilment of %(number)s") % {"number": order.number},
            preview=staff.retry_preview(order),
        )

    def resend_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = self._order(request, pk)
        if request.method == "POST":
            try:
                staff.resend(order.pk, actor=request.user)
            except (services.CheckoutError, OSError) as exc:
                return self._done(
                    request, order, gettext("Not sent: %(reason)s") % {"reason": exc}, messages.ERROR
                )
            return self._done(
                request, order, gettext("eSIM email sent again to %(email)s.") % {"email": order.email}
            )
        return self._page(
            request,
            order,
            "resend.html",
            gettext("Resend the eSIM email of %(number)s") % {"number": order.number},
            esims=list(order.esims),
            sent_at=order.esim_email_sent_at,
            sent_ago=(timezone.now() - order.esim_email_sent_at) if order.esim_email_sent_at else None,
        )

    def refund_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Pick lines and/or a goodwill amount, see where the money goes back, then confirm.

        "Refund" does what the preview on the page said: the form carries the split it showed, and
        the refund is refused when the picks changed since (the page shows the new split first) or
        the order's payments did (`refund_order` checks under the order's lock)."""
        order = self._order(request, pk)
        pickable = [i for i in refunds.refund_items(order) if i.pickable]
        left = sum(p.refundable_cents for p in order.payments.captured())
        form = RefundForm(
            request.POST or None,
            items=[i.key for i in pickable],
            refundable_cents=left,
            currency=order.currency,
        )
        # First shown with everything picked but gift cards (revoking one is a choice of its own):
        # "Not installed? Full refund." is the usual case; staff untick what stays.
        picked = [i.key for i in pickable if not i.is_gift_card]
        goodwill, rule = None, refunds.DEFAULT_SPLIT_RULE
        if request.method == "POST" and form.is_valid():
            picked, goodwill, rule = (
                form.cleaned_data["lines"],
                form.cleaned_data["goodwill"],
                form.cleaned_data["rule"],
            )
        preview = staff.refund_preview(order, goodwill, lines=picked, rule=rule, usage=True)
        second = None
        if request.method == "POST" and form.is_valid() and request.POST.get("action") == "refund":
            data = form.cleaned_data
            if request.POST.get("shown") != _shown(preview):
                form.add_error(
                    None,
                    gettext("Check the split below (it is for what is picked now), then press Refund again."),
                )
            else:
                try:
                    done = staff.refund(
                        order.pk,
                        goodwill,
                        lines=picked,
                        rule=rule,
                        actor=request.user,
                        reason=data["reason"],
                        notify=data["notify"],
                        confirm_installed=data["confirm_installed"],
                        expected_split=data["split"],
                    )
                except staff.NeedsSecondConfirmation as exc:
                    second = str(exc)
                except (services.CheckoutError, PaymentError) as exc:
                    form.add_error(None, str(exc))
                    preview = staff.refund_preview(
                        order, goodwill, lines=picked, rule=rule, refresh=False, usage=True
                    )
                else:
                    claims = len(done.claims)
                    self.message_user(
                        request,
                        ngettext(
                            "Refunded %(amount)s; %(claims)s eSIM cost claim(s) filed with Roamify.",
                            "Refunded %(amount)s; %(claims)s eSIM cost claim(s) filed with Roamify.",
                            claims,
                        )
                        % {"amount": done.money(done.amount_cents), "claims": claims}
                        if claims
                        else gettext("Refunded %(amount)s.") % {"amount": done.money(done.amount_cents)},
                        messages.SUCCESS,
                    )
                    # Back to this page, read again: it shows the new figures at once.
                    return HttpResponseRedirect(reverse("admin:checkout_order_refund", args=[order.pk]))
        order_is_refundable = order.status in services.order_state.REFUNDABLE
        return self._page(
            request,
            order,
            "refund.html",
            gettext("Refund %(number)s") % {"number": order.number},
            form=form,
            preview=preview,
            shown=_shown(preview),
            # The page shows its figures even when nothing more can be refunded (the form is hidden).
            closed=preview.refusal if not preview.refundable_cents or not order_is_refundable else "",
            payments=list(order.payments.captured().order_by("-created_at", "-id")),
            rules=refunds.SplitRule.choices,
            second_confirmation=second,
            checked=set(request.POST.getlist("lines")) if request.method == "POST" else set(picked),
        )

    def note_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = self._order(request, pk)
        form = NoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            staff.add_note(order.pk, form.cleaned_data["note"], actor=request.user)
            return self._done(request, order, gettext("Note added to the timeline."))
        title = gettext("Add a note to %(number)s") % {"number": order.number}
        return self._page(request, order, "note.html", title, form=form)

    # -- the one list action left: retry, after a confirmation page

    @admin.action(description=gettext_lazy("Retry fulfilment of the selected orders…"))
    def retry_fulfilment(self, request, queryset):
        if request.POST.get("confirmed") != "yes":
            balance = reports.upstream_balance()
            orders = list(queryset.prefetch_related("lines"))
            cost = sum(
                line.wholesale_cents * line.quantity
                for o in orders
                for line in o.lines.all()
                if line.fulfilled_at is None and line.kind != "giftcard"
            )
            return TemplateResponse(
                request,
                "admin/checkout/order/bulk_retry.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "orders": orders,
                    "title": gettext("Retry fulfilment"),
                    "cost_cents": cost,
                    "balance": balance,
                    "short": balance.cents is not None and balance.cents < cost,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        ok = 0
        for order in queryset:
            try:
                staff.retry(order.pk, actor=request.user)
                ok += 1
            except services.CheckoutError as exc:
                self.message_user(request, f"{order.number}: {exc}", messages.ERROR)
        if ok:
            queued = ngettext(
                "Fulfilment queued: %(count)s order(s).", "Fulfilment queued: %(count)s order(s).", ok
            )
            self.message_user(request, queued % {"count": ok}, messages.SUCCESS)
        return None


def _shown(plan: staff.RefundPlan) -> str:
    """What the preview on the page was for: the picks, the goodwill and the rule."""
    return f"{','.join(sorted(plan.picked_keys))}|{plan.goodwill_cents}|{plan.rule}"


def order_actions(order: Order) -> list[tuple[str, str, str]]:
    """The buttons on an order's page: (label, url, css class), only those that can apply."""
    out = []
    if order.status in (OrderStatus.REQUIRES_ACTION, OrderStatus.PAID, OrderStatus.FULFILLING):
        out.append((gettext("Retry fulfilment…"), reverse("admin:checkout_order_retry", args=[order.pk]), ""))
    if order.status == OrderStatus.COMPLETED and order.esims.exists():
        out.append(
            (gettext("Resend eSIM email…"), reverse("admin:checkout_order_resend", args=[order.pk]), "")
        )
    if order.status in services.order_state.REFUNDABLE:
        out.append((gettext("Refund…"), reverse("admin:checkout_order_refund", args=[order.pk]), "danger"))
    out.append((gettext("Add a note…"), reverse("admin:checkout_order_note", args=[order.pk]), ""))
    return out
