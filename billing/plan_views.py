"""A teacher's Plan & billing page: their plan, usage, invoices and card, and changing plan."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from billing import client
from billing.forms_plans import PortalForm, PriceChoiceForm, ShowPricesForm
from billing.models import Invoice, PaymentMethod, Plan, PlanPrice, Subscription
from billing.models.plans import Interval
from billing.services import plans, subscriptions
from billing.services.subscriptions import PlanChangeRefusedError
from core.http import AuthedRequest
from courses.models import Course

# The page lists this many invoices; older ones are in Stripe's Customer Portal.
INVOICES_SHOWN = 24
DEFAULT_CURRENCY = "USD"


def _teacher_only(request: AuthedRequest) -> None:
    if not request.user.is_teacher:
        raise Http404


def _base_url(request: AuthedRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


@dataclass(frozen=True)
class PlanChoice:
    """One plan in the chooser: its price as shown, and what choosing it does."""

    plan: Plan
    price: PlanPrice | None
    # current, subscribe, upgrade, change, planned, cancel, cancelling, locked, unavailable
    action: str
    label: str = ""
    note: str = ""


@login_required
@never_cache
@require_safe
def plan(request: AuthedRequest) -> HttpResponse:
    """The teacher's plan, usage against its limits, invoices, card, and the plan chooser."""
    _teacher_only(request)
    return _page(request)


def _page(request: AuthedRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    teacher = request.user
    subscription = plans.live_subscription(teacher)
    latest = subscription or (
        Subscription.objects.filter(teacher=teacher).select_related("plan").first()
    )
    catalogue = list(
        Plan.objects.filter(offered=True).prefetch_related(
            Prefetch(
                "prices",
                queryset=PlanPrice.objects.filter(active=True).exclude(stripe_price_id=""),
                to_attr="offered_prices",
            )
        )
    )
    current = subscription.plan if subscription else _free(catalogue)
    currencies = sorted({p.currency for plan in catalogue for p in plan.offered_prices})
    shown = ShowPricesForm(request.GET or None, currencies=currencies)
    if shown.is_bound and not shown.is_valid():
        status = 400
    chosen = shown.cleaned_data if shown.is_bound and shown.is_valid() else {}
    interval = (
        chosen.get("interval") or (subscription.interval if subscription else "") or Interval.MONTH
    )
    currency = (
        subscription.currency
        if subscription
        else chosen.get("currency") or _default_currency(teacher, currencies)
    )
    context = {
        "subscription": subscription,
        "ended": latest if latest is not None and not latest.is_live else None,
        "plan": current,
        "usage": plans.usage_of(teacher, current),
        "choices": [
            _choice(p, p.offered_prices, subscription, interval, currency) for p in catalogue
        ],
        "shown": shown,
        "interval": interval,
        "currency": currency,
        "intervals": Interval.choices,
        "invoices": Invoice.objects.filter(teacher=teacher)
        .select_related("subscription__plan")
        .order_by("-issued_at")[:INVOICES_SHOWN],
        "card": PaymentMethod.objects.filter(customer__teacher=teacher).first(),
        "has_customer": subscriptions.customer_of(teacher) is not None,
        "payments_on": client.configured(),
        "error": error,
        "checkout_cancelled": request.GET.get("checkout") == "cancelled",
    }
    return render(request, "billing/plan.html", context, status=status)


def _free(catalogue: Sequence[Plan]) -> Plan:
    return next((p for p in catalogue if p.is_free), None) or plans.free_plan()


def _default_currency(teacher: Any, currencies: list[str]) -> str:
    """The currency most of the teacher's courses are priced in, if plans are; else USD."""
    usual = (
        Course.objects.filter(teacher=teacher, price_amount__gt=0)
        .values("currency")
        .annotate(courses=Count("pk"))
        .order_by("-courses", "currency")
        .first()
    )
    if usual and usual["currency"] in currencies:
        return str(usual["currency"])
    if DEFAULT_CURRENCY in currencies or not currencies:
        return DEFAULT_CURRENCY
    return currencies[0]


def _choice(
    plan: Plan,
    prices: list[PlanPrice],
    subscription: Subscription | None,
    interval: str,
    currency: str,
) -> PlanChoice:
    if plan.is_free:
        if subscription is None:
            return PlanChoice(plan, None, "current")
        if subscription.cancel_at_period_end:
            return PlanChoice(plan, None, "cancelling")
        return PlanChoice(plan, None, "cancel", "Cancel plan")
    price = next(
        (p for p in prices if p.interval == interval and p.currency == currency),
        None,
    )
    if price is None:
        return PlanChoice(plan, None, "unavailable")
    if subscription is None:
        return PlanChoice(plan, price, "subscribe", f"Choose {plan.name}")
    if plan.pk == subscription.plan_id and interval == subscription.interval:
        return PlanChoice(plan, price, "current")
    if subscription.cancel_at_period_end:
        return PlanChoice(plan, price, "locked", note="Renew your plan first to change it.")
    if price.pk == subscription.pending_price_id:
        return PlanChoice(plan, price, "planned")
    if plans.is_upgrade(subscription.plan, plan):
        return PlanChoice(
            plan,
            price,
            "upgrade",
            f"Upgrade to {plan.name}",
            "Applies now: you pay the difference for the rest of this period.",
        )
    if plan.pk == subscription.plan_id:
        label = f"Switch to {price.get_interval_display().lower()} billing"
    else:
        label = f"Move to {plan.name}"
    return PlanChoice(plan, price, "change", label, "Applies when your current period ends.")


def _refused(request: AuthedRequest, message: str) -> HttpResponse:
    return _page(request, error=message, status=400)


@login_required
@require_POST
def plan_subscribe(request: AuthedRequest) -> HttpResponse:
    """Send the teacher to Stripe Checkout to subscribe to the price chosen."""
    _teacher_only(request)
    form = PriceChoiceForm(request.POST, prices=subscriptions.offered_prices())
    if not form.is_valid():
        return _refused(request, str(form.errors["price"][0]))
    try:
        url = subscriptions.start_checkout(
            teacher=request.user, price=form.cleaned_data["price"], base_url=_base_url(request)
        )
    except PlanChangeRefusedError as refused:
        return _refused(request, refused.message)
    except client.PaymentServiceError as error:
        messages.warning(request, error.message)
        return redirect("billing:plan")
    return redirect(url)


@login_required
@require_POST
def plan_change(request: AuthedRequest) -> HttpResponse:
    """Upgrade now, or plan a downgrade or an interval change for the period's end."""
    _teacher_only(request)
    prices = PlanPrice.objects.exclude(stripe_price_id="").select_related("plan")
    form = PriceChoiceForm(request.POST, prices=prices)
    if not form.is_valid():
        return _refused(request, str(form.errors["price"][0]))
    try:
        changed = subscriptions.change_plan(teacher=request.user, price=form.cleaned_data["price"])
    except PlanChangeRefusedError as refused:
        return _refused(request, refused.message)
    except client.PaymentServiceError as error:
        messages.warning(request, error.message)
        return redirect("billing:plan")
    if changed.pending_plan is not None and changed.pending_change_at is not None:
        when = date_format(timezone.localtime(changed.pending_change_at), "j F Y")
        messages.success(request, f"Your plan changes to {changed.pending_plan.name} on {when}.")
    else:
        messages.success(request, f"You're on {changed.plan.name} now.")
    return redirect("billing:plan")


@login_required
@require_POST
def plan_cancel_change(request: AuthedRequest) -> HttpResponse:
    """Drop the planned change: the plan goes on as it is."""
    _teacher_only(request)
    try:
        kept = subscriptions.cancel_pending_change(teacher=request.user)
    except PlanChangeRefusedError as refused:
        return _refused(request, refused.message)
    except client.PaymentServiceError as error:
        messages.warning(request, error.message)
        return redirect("billing:plan")
    messages.success(request, f"Planned change cancelled: you stay on {kept.plan.name}.")
    return redirect("billing:plan")


@login_required
@require_POST
def plan_portal(request: AuthedRequest) -> HttpResponse:
    """Open Stripe's Customer Portal: the card, cancelling, billing details and invoices."""
    _teacher_only(request)
    form = PortalForm(request.POST)
    if not form.is_valid():
        return _refused(request, str(form.errors["flow"][0]))
    try:
        url = subscriptions.portal_url(
            teacher=request.user,
            return_url=_base_url(request) + reverse("billing:plan_return"),
            flow=form.cleaned_data["flow"],
        )
    except PlanChangeRefusedError as refused:
        return _refused(request, refused.message)
    except client.PaymentServiceError as error:
        messages.warning(request, error.message)
        return redirect("billing:plan")
    return redirect(url)


@login_required
@never_cache
@require_safe
def plan_return(request: AuthedRequest) -> HttpResponse:
    """Back from Checkout or the Customer Portal: read the plan from Stripe, then show it."""
    _teacher_only(request)
    session_id = request.GET.get("session_id", "")[:200]
    try:
        if session_id:
            subscription = subscriptions.finish_checkout(
                teacher=request.user, session_id=session_id
            )
            if subscription is not None and subscription.is_live:
                messages.success(request, f"You're on {subscription.plan.name}. Thank you!")
            else:
                messages.info(
                    request, "Stripe is confirming your payment: this page shows it in a moment."
                )
        else:
            subscriptions.refresh_teacher(teacher=request.user)
    except client.PaymentServiceError as error:
        messages.warning(request, error.message)
    return redirect("billing:plan")
