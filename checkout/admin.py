"""The order admin where support works: buttons on the order page (retry, resend, refund, note),
each saying what it will do and asking to confirm; customers; exports; the owner's dashboard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core import audit
from core.admin_tools import AuditTrailMixin, CsvExportMixin, NoDeleteMixin, ReadOnlyMixin
from core.exports import CsvExport, in_chunks, money_cell
from core.forms import MoneyField
from core.money import format_money
from esims.models import Esim
from payments.models import Payment
from payments.providers import PaymentError

from . import reports, services
from .models import Customer, Order, OrderEvent, OrderLine, OrderStatus, UpstreamRefund
from .services import staff

BADGE = {
    "completed": "ok",
    "requires_action": "bad",
    "refunded": "quiet",
    "cancelled": "quiet",
    "pending_payment": "warn",
    "paid": "warn",
    "fulfilling": "warn",
}
CLAIM_BADGE = {"refunded": "ok", "rejected": "bad", "cancelled": "quiet"}


def when(value: dt.datetime | None) -> str:
    """A time in the shop's zone, saying which ("3 Dec 2025, 14:05 UTC")."""
    return timezone.localtime(value).strftime("%-d %b %Y, %H:%M %Z") if value else "—"


# --- Inlines ---------------------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = (
        "kind",
        "description",
        "quantity",
        "unit_price",
        "line_total",
        "cost",
        "margin",
        "package_id_upstream",
        "fulfilled",
    )

    @admin.display(description="Unit price")
    def unit_price(self, obj: OrderLine) -> str:
        return format_money(obj.unit_price_cents, obj.order.currency)

    @admin.display(description="Total")
    def line_total(self, obj: OrderLine) -> str:
        return format_money(obj.total_cents, obj.order.currency)

    @admin.display(description="Cost")
    def cost(self, obj: OrderLine) -> str:
        return format_money(obj.wholesale_cents * obj.quantity) if obj.kind != "giftcard" else "—"

    @admin.display(description="Margin")
    def margin(self, obj: OrderLine) -> str:
        if obj.kind == "giftcard":
            return "—"
        return format_money(obj.total_cents - obj.wholesale_cents * obj.quantity, obj.order.currency)

    @admin.display(description="Fulfilled")
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

    @admin.display(description="Amount")
    def amount(self, obj: Payment) -> str:
        return format_money(obj.amount_cents, obj.currency)

    @admin.display(description="Refunded")
    def refunded(self, obj: Payment) -> str:
        return format_money(obj.refunded_cents, obj.currency)

    @admin.display(description="Created")
    def created(self, obj: Payment) -> str:
        return when(obj.created_at)


class UpstreamRefundInline(ReadOnlyInline):
    model = UpstreamRefund
    verbose_name_plural = "Cost claimed back from Roamify"
    fields = ("esim_iccid", "cost", "state", "refund_id", "rejection_reason", "last_error", "created")

    @admin.display(description="eSIM")
    def esim_iccid(self, obj: UpstreamRefund) -> str:
        return obj.esim.iccid or obj.esim.upstream_esim_id

    @admin.display(description="Cost")
    def cost(self, obj: UpstreamRefund) -> str:
        return format_money(obj.cost_cents, obj.currency)

    @admin.display(description="Status")
    def state(self, obj: UpstreamRefund) -> str:
        return format_html(
            '<span class="shop-badge {}">{}</span>',
            CLAIM_BADGE.get(obj.status, "warn"),
            obj.get_status_display(),
        )

    @admin.display(description="Filed")
    def created(self, obj: UpstreamRefund) -> str:
        return when(obj.created_at)


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name_plural = "Timeline"
    fields = ("time", "kind", "change", "message", "actor")
    ordering = ("created_at", "id")

    @admin.display(description="When")
    def time(self, obj: OrderEvent) -> str:
        return when(obj.created_at)

    @admin.display(description="Status")
    def change(self, obj: OrderEvent) -> str:
        if not obj.to_status:
            return ""
        return f"{obj.from_status or '—'} → {obj.to_status}"


# --- Filters ---------------------------------------------------------------------------------------


def abandoned_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=settings.ABANDONED_AFTER_MINUTES)


class OrderViewFilter(admin.SimpleListFilter):
    """Unpaid orders older than an hour are abandoned carts: out of the default list, in their own."""

    title = "show"
    parameter_name = "view"

    def lookups(self, request, model_admin):
        return (("abandoned", "Abandoned (unpaid > 1 h)"), ("all", "Everything"))

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == "All":
                choice["display"] = "Orders (not abandoned)"
            yield choice

    def queryset(self, request, queryset):
        abandoned = Q(status=OrderStatus.PENDING_PAYMENT, created_at__lt=abandoned_before())
        if self.value() == "abandoned":
            return queryset.filter(abandoned)
        if self.value() == "all" or request.GET.get("q") or request.GET.get("status__exact"):
            return queryset  # a search or a status asked for finds every order
        return queryset.exclude(abandoned)


# --- Exports ---------------------------------------------------------------------------------------

ORDER_HEADER = [
    "order",
    "created",
    "paid",
    "status",
    "email",
    "name",
    "currency",
    "order_total",
    "line_kind",
    "description",
    "destination",
    "quantity",
    "unit_price",
    "line_total",
    "line_cost",
    "line_margin",
    "payments",
    "refunded",
]


def order_rows(queryset: QuerySet[Order]) -> Iterable[list]:
    """One row per order line; the order's payments beside each line. Three queries per 2,000 orders."""
    for chunk in in_chunks(
        queryset.only(
            "id",
            "number",
            "created_at",
            "paid_at",
            "status",
            "email",
            "customer_name",
            "currency",
            "total_cents",
        )
    ):
        ids = [o.pk for o in chunk]
        lines: dict[int, list] = {}
        for line in (
            OrderLine.objects.filter(order_id__in=ids)
            .order_by("order_id", "id")
            .values_list(
                "order_id",
                "kind",
                "description",
                "package__destination__name",
                "quantity",
                "unit_price_cents",
                "total_cents",
                "wholesale_cents",
            )
        ):
            lines.setdefault(line[0], []).append(line)
        paid: dict[int, list[str]] = {}
        refunded: dict[int, int] = {}
        for order_id, provider, amount, back in (
            Payment.objects.filter(order_id__in=ids)
            .captured()
            .values_list("order_id", "provider", "amount_cents", "refunded_cents")
        ):
            paid.setdefault(order_id, []).append(f"{provider}:{money_cell(amount)}")
            refunded[order_id] = refunded.get(order_id, 0) + back
        for o in chunk:
            head = [
                o.number,
                o.created_at,
                o.paid_at,
                o.status,
                o.email,
                o.customer_name,
                o.currency,
                money_cell(o.total_cents),
            ]
            tail = [" ".join(paid.get(o.pk, [])), money_cell(refunded.get(o.pk, 0))]
            for _, kind, description, destination, qty, unit, total, cost in lines.get(o.pk, []):
                line_cost = cost * qty if kind != "giftcard" else 0
                yield [
                    *head,
                    kind,
                    description,
                    destination or "",
                    qty,
                    money_cell(unit),
                    money_cell(total),
                    money_cell(line_cost),
                    money_cell(total - line_cost),
                    *tail,
                ]


# --- Forms -----------------------------------------------------------------------------------------


class RefundForm(forms.Form):
    amount = MoneyField(
        required=False,
        min_cents=1,
        label="Amount to refund",
        help_text="Leave it as it is to refund everything that is left.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=500,
        label="Reason",
        help_text="Kept in the timeline and the audit log.",
    )
    notify = forms.BooleanField(
        required=False, initial=True, label="Email the customer that the refund is on its way"
    )
    confirm_installed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, refundable_cents: int, currency: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].max_cents = refundable_cents
        self.fields["amount"].currency = currency
        self.fields["amount"].widget.currency = currency
        self.fields["amount"].initial = refundable_cents


class NoteForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=5000,
        label="Note",
        help_text="Shown in the order's timeline with your name.",
    )


# --- Orders ----------------------------------------------------------------------------------------


@admin.register(Order)
class OrderAdmin(AuditTrailMixin, CsvExportMixin, NoDeleteMixin, admin.ModelAdmin):
    list_display = ("number", "status_badge", "total", "margin", "destination", "customer_email", "paid")
    list_display_links = ("number",)
    list_filter = (OrderViewFilter, "status", "lines__kind", ("created_at", admin.DateFieldListFilter))
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
    search_help_text = "Email, name, phone, order number, ICCID, upstream order or eSIM id, Stripe id"
    date_hierarchy = "created_at"
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
        "margin_detail",
        "travel_date",
        "action_reason",
        "upstream_order_id",
        "delivered_esims",
        "esim_email",
        "fulfilment_attempts",
        "created",
        "paid",
        "completed",
        "audit_trail",
    )
    fieldsets = (
        (None, {"fields": ("number", "status_badge", "action_reason", "total", "margin_detail")}),
        (
            "Customer",
            {"fields": ("email", "customer_link", "customer_name", "customer_phone", "travel_date")},
        ),
        ("eSIMs", {"fields": ("delivered_esims", "esim_email", "upstream_order_id", "fulfilment_attempts")}),
        ("Times", {"fields": ("created", "paid", "completed")}),
        ("Audit trail", {"classes": ("collapse",), "fields": ("audit_trail",)}),
    )
    change_form_template = "admin/checkout/order/change_form.html"
    show_full_result_count = False
    list_per_page = 50
    csv_exports = [CsvExport("orders", "Export orders (CSV)", ORDER_HEADER, order_rows)]

    def get_queryset(self, request):
        if getattr(request, "shop_export", False):
            return super().get_queryset(request)  # the export reads lines itself, a chunk at a time
        cost = (
            OrderLine.objects.filter(order=OuterRef("pk"))
            .exclude(kind="giftcard")
            .values("order")
            .annotate(s=Sum(F("wholesale_cents") * F("quantity")))
            .values("s")
        )
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
        return (
            super()
            .get_queryset(request)
            .annotate(
                cost_cents=Coalesce(Subquery(cost, output_field=IntegerField()), Value(0)),
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
            changelist = self.get_changelist_instance(request)
            found = list(changelist.get_queryset(request).values_list("pk", flat=True)[:2])
            if len(found) == 1:
                return HttpResponseRedirect(reverse("admin:checkout_order_change", args=[found[0]]))
        return super().changelist_view(request, extra_context)

    # -- columns

    @admin.display(description="Total", ordering="total_cents")
    def total(self, obj: Order) -> str:
        return format_money(obj.total_cents, obj.currency)

    @admin.display(description="Margin", ordering="total_cents")
    def margin(self, obj: Order) -> str:
        cost = getattr(obj, "cost_cents", 0)
        if not obj.total_cents:
            return "—"
        share = (obj.total_cents - cost) * 100 / obj.total_cents
        return f"{format_money(obj.total_cents - cost, obj.currency)} ({share:.0f}%)"

    @admin.display(description="Margin")
    def margin_detail(self, obj: Order) -> str:
        cost = getattr(obj, "cost_cents", None)
        if cost is None:
            cost = sum(line.wholesale_cents * line.quantity for line in obj.lines.exclude(kind="giftcard"))
        return (
            f"{format_money(obj.total_cents - cost, obj.currency)} "
            f"(price {format_money(obj.total_cents, obj.currency)} − cost {format_money(cost)})"
        )

    @admin.display(description="Destination")
    def destination(self, obj: Order) -> str:
        name = getattr(obj, "first_destination", None) or "—"
        extra = getattr(obj, "destination_count", 0) - 1
        return f"{name} +{extra}" if extra > 0 else name

    @admin.display(description="Customer", ordering="email")
    def customer_email(self, obj: Order) -> str:
        return f"{obj.customer_name} · {obj.email}" if obj.customer_name else obj.email

    @admin.display(description="Paid", ordering="paid_at")
    def paid(self, obj: Order) -> str:
        return when(obj.paid_at) if obj.paid_at else f"unpaid · {when(obj.created_at)}"

    @admin.display(description="Created")
    def created(self, obj: Order) -> str:
        return when(obj.created_at)

    @admin.display(description="Completed")
    def completed(self, obj: Order) -> str:
        return when(obj.completed_at)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Order) -> str:
        return format_html(
            '<span class="shop-badge {}">{}</span>', BADGE.get(obj.status, "warn"), obj.get_status_display()
        )

    @admin.display(description="Customer record")
    def customer_link(self, obj: Order) -> str:
        customer = Customer.objects.filter(email=obj.email.lower()).first()
        if customer is None:
            return "—"
        url = reverse("admin:checkout_customer_change", args=[customer.pk])
        account = " (has an account)" if customer.user_id else " (guest)"
        return format_html('<a href="{}">{}</a>{}', url, customer, account)

    @admin.display(description="eSIMs delivered")
    def delivered_esims(self, obj: Order) -> str:
        esims = [(e.iccid or e.upstream_esim_id, e.status or "?", e.title) for e in obj.esims]
        if not esims:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li><code>{}</code> · {} · {}</li>", esims))

    @admin.display(description="eSIM email")
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
                request, order, f"Fulfilment of {order.number} queued: the eSIM email goes when it completes."
            )
        return self._page(
            request,
            order,
            "retry.html",
            f"Retry fulfilment of {order.number}",
            preview=staff.retry_preview(order),
        )

    def resend_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = self._order(request, pk)
        if request.method == "POST":
            try:
                staff.resend(order.pk, actor=request.user)
            except (services.CheckoutError, OSError) as exc:
                return self._done(request, order, f"Not sent: {exc}", messages.ERROR)
            return self._done(request, order, f"eSIM email sent again to {order.email}.")
        return self._page(
            request,
            order,
            "resend.html",
            f"Resend the eSIM email of {order.number}",
            esims=list(order.esims),
            sent_at=order.esim_email_sent_at,
            sent_ago=(timezone.now() - order.esim_email_sent_at) if order.esim_email_sent_at else None,
        )

    def refund_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = self._order(request, pk)
        preview = staff.refund_preview(order, refresh=request.method == "GET")
        form = RefundForm(
            request.POST or None, refundable_cents=preview.refundable_cents, currency=order.currency
        )
        second = None
        if request.method == "POST" and form.is_valid() and not preview.refusal:
            data = form.cleaned_data
            try:
                staff.refund(
                    order.pk,
                    data["amount"],
                    actor=request.user,
                    reason=data["reason"],
                    notify=data["notify"],
                    confirm_installed=data["confirm_installed"],
                )
            except staff.NeedsSecondConfirmation as exc:
                second = str(exc)
                preview = staff.refund_preview(order, data["amount"], refresh=False)
            except (services.CheckoutError, PaymentError) as exc:
                form.add_error(None, str(exc))
            else:
                order.refresh_from_db()
                claims = order.upstream_refunds.count()
                amount = format_money(data["amount"] or preview.amount_cents, order.currency)
                return self._done(
                    request,
                    order,
                    f"Refunded {amount}"
                    + (f"; {claims} eSIM cost claim(s) filed with Roamify." if claims else "."),
                )
        return self._page(
            request,
            order,
            "refund.html",
            f"Refund {order.number}",
            form=form,
            preview=preview,
            second_confirmation=second,
        )

    def note_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = self._order(request, pk)
        form = NoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            staff.add_note(order.pk, form.cleaned_data["note"], actor=request.user)
            return self._done(request, order, "Note added to the timeline.")
        return self._page(request, order, "note.html", f"Add a note to {order.number}", form=form)

    # -- the one list action left: retry, after a confirmation page

    @admin.action(description="Retry fulfilment of the selected orders…")
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
                    "title": "Retry fulfilment",
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
            self.message_user(request, f"Fulfilment queued: {ok} order(s).", messages.SUCCESS)
        return None


def order_actions(order: Order) -> list[tuple[str, str, str]]:
    """The buttons on an order's page: (label, url, css class), only those that can apply."""
    out = []
    if order.status in (OrderStatus.REQUIRES_ACTION, OrderStatus.PAID, OrderStatus.FULFILLING):
        out.append(("Retry fulfilment…", reverse("admin:checkout_order_retry", args=[order.pk]), ""))
    if order.status == OrderStatus.COMPLETED and order.esims.exists():
        out.append(("Resend eSIM email…", reverse("admin:checkout_order_resend", args=[order.pk]), ""))
    if order.status in services.order_state.REFUNDABLE:
        out.append(("Refund…", reverse("admin:checkout_order_refund", args=[order.pk]), "danger"))
    out.append(("Add a note…", reverse("admin:checkout_order_note", args=[order.pk]), ""))
    return out


# --- Upstream refund requests --------------------------------------------------------------------


@admin.register(UpstreamRefund)
class UpstreamRefundAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "order", "esim", "cost", "status", "refund_id", "rejection_reason")
    list_filter = ("status",)
    search_fields = ("refund_id", "order__number", "esim__iccid", "esim__upstream_esim_id")
    list_select_related = ("order", "esim")

    @admin.display(description="Cost", ordering="cost_cents")
    def cost(self, obj: UpstreamRefund) -> str:
        return format_money(obj.cost_cents, obj.currency)


# --- Customers -----------------------------------------------------------------------------------

# Panels other parts of the shop add to a customer's page: (title, fn(customer) -> html).
# Gift cards plug in here (checkout may import giftcards; giftcards may not import checkout).
CustomerPanel = Callable[[Customer], str]
CUSTOMER_PANELS: list[tuple[str, CustomerPanel]] = []


def register_customer_panel(title: str, panel: CustomerPanel) -> None:
    CUSTOMER_PANELS.append((title, panel))


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ("note",)


@admin.register(Customer)
class CustomerAdmin(AuditTrailMixin, NoDeleteMixin, admin.ModelAdmin):
    form = CustomerForm
    list_display = ("email", "name", "phone", "orders", "spent", "account", "created_at")
    search_fields = ("email", "name", "phone", "user__first_name", "user__last_name")
    search_help_text = "Name, email or phone"
    readonly_fields = (
        "email",
        "name",
        "phone",
        "account",
        "orders",
        "spent",
        "order_list",
        "esim_list",
        "panels",
        "audit_trail",
    )
    fields = (
        "email",
        "name",
        "phone",
        "account",
        "orders",
        "spent",
        "note",
        "order_list",
        "esim_list",
        "panels",
        "audit_trail",
    )
    show_full_result_count = False

    def get_queryset(self, request):
        orders = (
            Order.objects.filter(email__iexact=OuterRef("email"))
            .values("email")
            .annotate(n=Count("id"))
            .values("n")
        )
        spent = (
            Payment.objects.filter(order__email__iexact=OuterRef("email"), status__in=Payment.CAPTURED_STATES)
            .values("currency")
            .annotate(s=Sum(F("amount_cents") - F("refunded_cents")))
            .values("s")[:1]
        )
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(
                order_count=Coalesce(Subquery(orders[:1], output_field=IntegerField()), Value(0)),
                spent_cents=Coalesce(Subquery(spent, output_field=IntegerField()), Value(0)),
            )
        )

    def has_add_permission(self, request) -> bool:
        return False  # customers come from orders

    @admin.display(description="Orders", ordering="order_count")
    def orders(self, obj: Customer) -> int:
        return getattr(obj, "order_count", 0)

    @admin.display(description="Total spent", ordering="spent_cents")
    def spent(self, obj: Customer) -> str:
        return format_money(getattr(obj, "spent_cents", 0))

    @admin.display(description="Account")
    def account(self, obj: Customer) -> str:
        return "account" if obj.user_id else "guest"

    @admin.display(description="Their orders")
    def order_list(self, obj: Customer) -> str:
        rows = [
            (
                reverse("admin:checkout_order_change", args=[o.pk]),
                o.number,
                o.get_status_display(),
                format_money(o.total_cents, o.currency),
                when(o.created_at),
            )
            for o in Order.objects.filter(email__iexact=obj.email).order_by("-created_at")[:50]
        ]
        if not rows:
            return "—"
        return format_html(
            "<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a> · {} · {} · {}</li>', rows)
        )

    @admin.display(description="Their eSIMs")
    def esim_list(self, obj: Customer) -> str:
        esims = Esim.objects.filter(
            Q(email__iexact=obj.email) | Q(customer_id=obj.user_id)
            if obj.user_id
            else Q(email__iexact=obj.email)
        ).order_by("-created_at")[:50]
        rows = [(e.iccid or e.upstream_esim_id, e.status or "?", e.title) for e in esims]
        if not rows:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li><code>{}</code> · {} · {}</li>", rows))

    @admin.display(description="More")
    def panels(self, obj: Customer) -> str:
        if not CUSTOMER_PANELS:
            return "—"
        return format_html_join(
            "", "<h3>{}</h3>{}", [(title, panel(obj)) for title, panel in CUSTOMER_PANELS]
        )

    def save_model(self, request, obj, form, change) -> None:
        before = Customer.objects.filter(pk=obj.pk).values("note").first() or {}
        super().save_model(request, obj, form, change)
        if "note" in form.changed_data:
            audit.record(request.user, "customer.note", obj, before, {"note": obj.note})


# --- The admin index -----------------------------------------------------------------------------


def admin_dashboard() -> dict:
    """What the admin index shows on top (see templates/admin/index.html)."""
    board = reports.dashboard()
    balance = reports.upstream_balance()
    return {
        "board": board,
        "balance": balance,
        "days_covered": reports.days_covered(balance, board.periods["week"]),
        "low_threshold_cents": settings.ROAMIFY_LOW_BALANCE_CENTS,
    }
