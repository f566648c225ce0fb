"""Getting paid (Connect), buying a course, the return from Checkout, purchases, sales, webhooks."""

import logging
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_countries import countries

from accounts import signup_rules
from accounts import views as account_views
from billing import client, webhooks
from billing.forms import BuyForm, ConnectForm, CouponForm, RefundForm, VisitorBuyForm
from billing.models import Coupon, Purchase, StripeEvent
from billing.services import checkout as checkout_services
from billing.services import connect as connect_services
from billing.services import outcomes, pricing, refunds
from core.http import AuthedRequest, Request
from core.money import format_money, to_major
from core.ratelimit import Limit, client_ip, hit, too_many_requests
from courses import enrolment_policy
from courses.models import Course

log = logging.getLogger(__name__)

VISITOR_CHECKOUTS = Limit("visitor_checkout", count=10, window=3600)


def _teacher_only(request: AuthedRequest) -> None:
    if not request.user.is_teacher:
        raise Http404


def _base_url(request: Request) -> str:
    return f"{request.scheme}://{request.get_host()}"


# --- Getting paid: Stripe Connect -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def connect(request: AuthedRequest) -> HttpResponse:
    """Show the teacher's Stripe state; POST opens an Express account and starts onboarding."""
    _teacher_only(request)
    account = connect_services.connect_account_of(request.user)
    form = ConnectForm(request.POST or None, initial={"country": request.user.country})
    status = 200
    if request.method == "POST":
        if not client.configured():
            messages.warning(request, "Payments aren't set up on this server.")
            return redirect("billing:connect")
        if account is not None:
            return _to_onboarding(request, account)
        if form.is_valid():
            try:
                account = connect_services.start_onboarding(
                    teacher=request.user, country=form.cleaned_data["country"]
                )
            except client.PaymentServiceError as error:
                form.add_error(None, error.message)
            else:
                return _to_onboarding(request, account)
        status = 400
    context = {
        "account": account,
        "country": countries.name(account.country) if account else "",
        "form": form,
        "payments_on": client.configured(),
    }
    return render(request, "billing/connect.html", context, status=status)


def _to_onboarding(request: AuthedRequest, account: Any) -> HttpResponse:
    try:
        url = connect_services.onboarding_link(
            account=account,
            refresh_url=_base_url(request) + reverse("billing:connect_refresh"),
            return_url=_base_url(request) + reverse("billing:connect_return"),
        )
    except client.PaymentServiceError as error:
        messages.warning(request, error.message)
        return redirect("billing:connect")
    return redirect(url)


@login_required
@require_safe
def connect_refresh(request: AuthedRequest) -> HttpResponse:
    """Stripe's onboarding link expired or was reused: make a fresh one."""
    _teacher_only(request)
    account = connect_services.connect_account_of(request.user)
    if account is None:
        return redirect("billing:connect")
    return _to_onboarding(request, account)


@login_required
@require_safe
def connect_return(request: AuthedRequest) -> HttpResponse:
    """Back from onboarding: ask Stripe where the account stands now."""
    _teacher_only(request)
    account = connect_services.connect_account_of(request.user)
    if account is None:
        return redirect("billing:connect")
    try:
        account = connect_services.refresh_account(account=account)
    except client.PaymentServiceError as error:
        messages.warning(request, error.message)
    else:
        if account.can_sell:
            messages.success(request, "Stripe is connected: your paid courses are open to buy.")
        else:
            messages.info(request, account.state_words)
    return redirect("billing:connect")


@login_required
@require_POST
def connect_dashboard(request: AuthedRequest) -> HttpResponse:
    """Open the teacher's Stripe Express dashboard (a one-time login link)."""
    _teacher_only(request)
    account = connect_services.connect_account_of(request.user)
    if account is None:
        raise Http404
    try:
        return redirect(connect_services.dashboard_link(account=account))
    except client.PaymentServiceError as error:
        messages.warning(request, error.message)
        return redirect("billing:connect")


# --- Buying a course --------------------------------------------------------------------------


def _course_to_buy(user: Any, slug: str) -> tuple[Course, enrolment_policy.Answer]:
    course = get_object_or_404(
        Course.objects.select_related("teacher").with_enrolment_facts(), slug=slug
    )
    answer = enrolment_policy.answer_for(user, course)
    if not answer.reachable:
        raise Http404
    return course, answer


@never_cache
@require_POST
def checkout(request: Request, slug: str) -> HttpResponse:
    """Send the buyer to Stripe Checkout for a paid course, holding their seat meanwhile."""
    course, answer = _course_to_buy(request.user, slug)
    if not answer.needs_payment:
        return redirect(course.get_absolute_url())
    too_many = _checkouts_over_limit(request)
    if too_many is not None:
        return too_many
    if request.user.is_authenticated:
        return _student_checkout(cast(AuthedRequest, request), course)
    return _visitor_checkout(request, course, answer)


def _checkouts_over_limit(request: Request) -> HttpResponse | None:
    """The 429 page once an IP address, or a signed-in student, starts too many checkouts an hour.

    Card testers try stolen cards through many checkouts; a real buyer needs a few.
    """
    counted = [(Limit("checkout_ip", settings.CHECKOUTS_PER_IP_PER_HOUR, 3600), client_ip(request))]
    if request.user.is_authenticated:
        per_student = Limit("checkout_student", settings.CHECKOUTS_PER_STUDENT_PER_HOUR, 3600)
        counted.append((per_student, f"user:{request.user.pk}"))
    for limit, key in counted:
        verdict = hit(limit, key)
        if not verdict.allowed:
            return too_many_requests(request, verdict.retry_after)
    return None


def _student_checkout(request: AuthedRequest, course: Course) -> HttpResponse:
    form = BuyForm(request.POST)
    code = form.cleaned_data["code"] if form.is_valid() else ""
    try:
        started = checkout_services.start_checkout(
            course=course, student=request.user, code=code, base_url=_base_url(request)
        )
    except checkout_services.CheckoutRefusedError as refused:
        messages.warning(request, refused.message)
        return redirect(course.get_absolute_url())
    if started.purchase is not None and started.purchase.status == Purchase.Status.PAID:
        messages.success(request, f"You're enrolled in {course.title}. Welcome!")
    return redirect(started.redirect_url)


def _visitor_checkout(
    request: Request, course: Course, answer: enrolment_policy.Answer
) -> HttpResponse:
    country = signup_rules.blocked_signup_country(request)
    if country:
        return account_views.signup_closed(request, country)
    verdict = hit(VISITOR_CHECKOUTS, client_ip(request))
    if not verdict.allowed:
        return too_many_requests(request, verdict.retry_after)
    form = VisitorBuyForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            started = checkout_services.start_visitor_checkout(
                course=course,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                code=data["code"],
                base_url=_base_url(request),
            )
        except checkout_services.CheckoutRefusedError as refused:
            form.add_error("code" if "code" in refused.message.lower() else None, refused.message)
        else:
            if started.redirect_url:
                return redirect(started.redirect_url)
            return render(
                request, "billing/check_email.html", {"course": course, "email": data["email"]}
            )
    context = {"course": course, "answer": answer, "form": form}
    return render(request, "billing/buy.html", context, status=400)


@never_cache
@require_safe
def buy(request: Request, slug: str) -> HttpResponse:
    """The buying form on a page of its own (no JavaScript, or after a refusal)."""
    course, answer = _course_to_buy(request.user, slug)
    if not answer.needs_payment:
        return redirect(course.get_absolute_url())
    form = BuyForm() if request.user.is_authenticated else VisitorBuyForm()
    return render(request, "billing/buy.html", {"course": course, "answer": answer, "form": form})


@require_safe
def price(request: Request, slug: str) -> HttpResponse:
    """The price with a coupon code applied, for the enrol box (htmx) before checkout."""
    course, answer = _course_to_buy(request.user, slug)
    if not answer.needs_payment:
        raise Http404
    code = request.GET.get("code", "")[:40]
    student = request.user if request.user.is_authenticated else None
    try:
        quoted = pricing.quote(course=course, code=code, student=student)
    except pricing.CouponError as error:
        context = {"course": course, "error": error.message, "code": code}
        return render(request, "billing/_price.html", context, status=200)
    return render(request, "billing/_price.html", {"course": course, "quote": quoted, "code": code})


@never_cache
@require_safe
def checkout_return(request: Request, token: str) -> HttpResponse:
    """Back from Checkout: "you're in" once paid, else a page that checks again by itself."""
    purchase = checkout_services.purchase_from_token(token)
    if purchase is None:
        raise Http404
    if request.user.is_authenticated and purchase.student_id != request.user.pk:
        raise Http404
    if purchase.status == Purchase.Status.PENDING and purchase.checkout_session_id:
        try:
            purchase = outcomes.confirm_from_stripe(purchase=purchase)
        except client.PaymentServiceError:
            log.info("Couldn't confirm purchase %s with Stripe; the webhook will", purchase.pk)
    context = {
        "purchase": purchase,
        "course": purchase.course,
        "amount": format_money(purchase.amount, purchase.currency),
        "signed_in": request.user.is_authenticated,
        "poll_url": request.path,
    }
    template = "billing/_return_status.html" if request.htmx else "billing/return.html"
    return render(request, template, context)


# --- Purchases (students) ---------------------------------------------------------------------


@login_required
@require_safe
def purchases(request: AuthedRequest) -> HttpResponse:
    rows = (
        Purchase.objects.filter(student=request.user)
        .exclude(status__in=[Purchase.Status.EXPIRED, Purchase.Status.PENDING])
        .select_related("course")
    )
    return render(request, "billing/purchases.html", {"purchases": rows})


# --- A sale (teachers) ------------------------------------------------------------------------


def _sale_for_teacher(user: Any, pk: int) -> Purchase:
    return get_object_or_404(
        Purchase.objects.select_related("student", "course").prefetch_related("refunds"),
        pk=pk,
        teacher=user,
    )


@login_required
@require_http_methods(["GET", "POST"])
def sale(request: AuthedRequest, pk: int) -> HttpResponse:
    """One sale: what was paid, refunds so far, and the refund form."""
    _teacher_only(request)
    purchase = _sale_for_teacher(request.user, pk)
    form = RefundForm(
        request.POST or None, currency=purchase.currency, refundable=purchase.refundable_amount
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                refunds.refund(
                    purchase=purchase,
                    amount=form.cleaned_data["amount"],
                    keep_access=form.cleaned_data["keep_access"],
                    reason=form.cleaned_data["reason"],
                )
            except refunds.RefundRefusedError as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, "Refund sent. The student gets an email.")
                return redirect("billing:sale", pk=purchase.pk)
        status = 400
    refundable = purchase.status in (Purchase.Status.PAID, Purchase.Status.PARTIALLY_REFUNDED)
    context = {
        "purchase": purchase,
        "form": form,
        "can_refund": refundable and bool(purchase.payment_intent_id),
        "money": {
            "gross": format_money(purchase.gross_amount, purchase.currency),
            "discount": format_money(purchase.discount_amount, purchase.currency),
            "amount": format_money(purchase.amount, purchase.currency),
            "fee": format_money(purchase.fee_kept, purchase.currency),
            "refunded": format_money(purchase.refunded_amount, purchase.currency),
            "net": format_money(purchase.net_amount, purchase.currency),
        },
    }
    return render(request, "billing/sale.html", context, status=status)


# --- Coupons (teachers) -----------------------------------------------------------------------


def _coupon_form(request: AuthedRequest, coupon: Coupon | None = None) -> CouponForm:
    courses = list(Course.objects.filter(teacher=request.user, archived_at__isnull=True))
    if coupon is not None and coupon.course is not None and coupon.course not in courses:
        courses.append(coupon.course)
    initial = _coupon_initial(request, coupon) if coupon is not None else None
    data = request.POST if request.method == "POST" else None
    return CouponForm(data, courses=courses, initial=initial)


def _coupon_initial(request: AuthedRequest, coupon: Coupon) -> dict[str, Any]:
    zone = pricing.teacher_zone(request.user)
    percent = coupon.percent_off is not None
    return {
        "code": coupon.code,
        "course": coupon.course_id or "",
        "kind": "percent" if percent else "amount",
        "value": coupon.percent_off
        if percent
        else to_major(coupon.amount_off or 0, coupon.currency),
        "currency": coupon.currency,
        "starts_on": coupon.starts_at.astimezone(zone).date() if coupon.starts_at else None,
        "ends_on": (coupon.expires_at.astimezone(zone) - timedelta(days=1)).date()
        if coupon.expires_at
        else None,
        "max_redemptions": coupon.max_redemptions,
        "once_per_student": coupon.once_per_student,
        "active": coupon.active,
    }


def _save_coupon(request: AuthedRequest, form: CouponForm, coupon: Coupon | None) -> bool:
    if not form.is_valid():
        return False
    try:
        pricing.save_coupon(teacher=request.user, coupon=coupon, data=form.cleaned_data)
    except pricing.CouponTakenError as error:
        form.add_error("code", str(error))
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def coupons(request: AuthedRequest) -> HttpResponse:
    """The teacher's coupons, and the form to make one."""
    _teacher_only(request)
    form = _coupon_form(request)
    if request.method == "POST" and _save_coupon(request, form, None):
        messages.success(request, "Coupon created. Share its code with your students.")
        return redirect("billing:coupons")
    rows = Coupon.objects.filter(teacher=request.user).select_related("course")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "billing/coupons.html", {"coupons": rows, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def coupon(request: AuthedRequest, pk: int) -> HttpResponse:
    """Change one of the teacher's coupons (switching it off included)."""
    _teacher_only(request)
    found = get_object_or_404(Coupon.objects.select_related("course"), pk=pk, teacher=request.user)
    form = _coupon_form(request, found)
    if request.method == "POST" and _save_coupon(request, form, found):
        messages.success(request, "Coupon saved.")
        return redirect("billing:coupons")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "billing/coupon.html", {"coupon": found, "form": form}, status=status)


# --- Stripe's webhooks ------------------------------------------------------------------------


# Stripe reads only the status; the body says whether the event was new.
_STORED = b'{"received": true, "duplicate": false}'
_DUPLICATE = b'{"received": true, "duplicate": true}'


def _webhook(request: Request, secret: str, source: str) -> HttpResponse:
    signature = request.META.get("HTTP_STRIPE_SIGNATURE", "")
    try:
        body = request.body.decode("utf-8")
        event = client.verify_event(body, signature, secret)
    except (client.BadSignatureError, UnicodeDecodeError):
        return HttpResponseBadRequest("Bad signature.", content_type="text/plain")
    if not isinstance(event.get("id"), str) or not event["id"]:
        return HttpResponseBadRequest("Not an event.", content_type="text/plain")
    stored = webhooks.receive(event=event, body=body, source=source)
    return HttpResponse(_STORED if stored else _DUPLICATE, content_type="application/json")


@csrf_exempt
@require_POST
def stripe_webhook(request: Request) -> HttpResponse:
    """Events of the platform's own account."""
    return _webhook(request, settings.STRIPE_WEBHOOK_SECRET, StripeEvent.Source.PLATFORM)


@csrf_exempt
@require_POST
def stripe_connect_webhook(request: Request) -> HttpResponse:
    """Events of teachers' connected accounts (`account.updated`, and their payments)."""
    return _webhook(request, settings.STRIPE_CONNECT_WEBHOOK_SECRET, StripeEvent.Source.CONNECT)
