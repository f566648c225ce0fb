"""What billing holds about people, and for how long.

- A teacher's Stripe Connect mirror (account id, country, what Stripe still
  needs) lives while their account does; deleting the account deletes it (the
  Stripe account itself is the teacher's, at Stripe).
- Purchases are tax and accounting records. While the buyer's account exists
  they are theirs to see and download; erasing the account removes the link to
  them (name and email) and keeps the amounts, course and dates for the tax
  record. 24 months after a person's latest purchase, their purchases are
  unlinked in the same way by the retention sweep.
- Coupon redemptions follow the same 24 months.
- Stripe's webhook payloads (which carry names and emails) are emptied after
  30 days; the event row stays, to keep each event processed once.
- A teacher's plan: their Stripe customer and card metadata live while their
  account does; erasing the account ends a running subscription at once
  through Stripe's API, then deletes the Stripe customer, then the row.
  Subscriptions and invoices are Lectern's own tax records: on
  erasure they lose the link to the teacher and are kept 10 years from their
  date, then deleted.
- The active-student ledger keeps a pair for 30 days after the paid enrolment;
  the cap state and its history live while the teacher's account does; the
  monthly sales totals are folded into yearly ones after 24 months.
- Fraud signals are kept 24 months from creation whatever their status, and
  after the account is deleted without the link to it; the failed card
  attempts they are drawn from, 30 days.
"""

from datetime import timedelta
from typing import Any

from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from billing import client
from billing.models import (
    ActiveStudent,
    BillingCustomer,
    CardFailure,
    ConnectAccount,
    Coupon,
    CouponRedemption,
    FraudSignal,
    GmvMonth,
    GmvYear,
    Invoice,
    PaymentMethod,
    Plan,
    PlanCapState,
    PlanCapTransition,
    PlanPrice,
    Purchase,
    Refund,
    StripeEvent,
    Subscription,
)
from billing.services import gmv, subscriptions
from core.money import format_money
from privacy.registry import (
    Basis,
    DeletionWarning,
    Erasure,
    Retention,
    deletion_warnings,
    exempt,
    register,
    rule,
)

SALES_KEEP = timedelta(days=730)
EVENT_PAYLOAD_KEEP = timedelta(days=30)
TAX_REASON = "tax and accounting law: the sale is kept without your name for 24 months"
BILLING_RECORDS_KEEP = timedelta(days=3653)
BILLING_TAX_REASON = "tax law: Lectern's invoices to you are kept without your name for 10 years"
LEDGER_KEEP = timedelta(days=30)
FRAUD_KEEP = timedelta(days=730)
CARD_FAILURES_KEEP = timedelta(days=30)


def _anonymise_purchases(user: Any) -> int:
    now = timezone.now()
    return Purchase.objects.filter(student=user).update(student=None, anonymised_at=now)


def _stale_buyers_purchases() -> QuerySet:
    """Purchases of people whose latest purchase is more than 24 months old."""
    latest = (
        Purchase.objects.filter(student_id=OuterRef("student_id"))
        .values("student_id")
        .annotate(last=Max("created_at"))
        .values("last")
    )
    return (
        Purchase.objects.filter(student__isnull=False)
        .annotate(latest=Subquery(latest))
        .filter(latest__lt=timezone.now() - SALES_KEEP)
    )


def _unlink(rows: QuerySet) -> int:
    return Purchase.objects.filter(pk__in=list(rows.values_list("pk", flat=True))).update(
        student=None, anonymised_at=timezone.now()
    )


def _anonymise_redemptions(user: Any) -> int:
    return CouponRedemption.objects.filter(student=user).update(student=None)


def _stale_redemptions() -> QuerySet:
    return CouponRedemption.objects.filter(redeemed_at__lt=timezone.now() - SALES_KEEP)


def _old_event_payloads() -> QuerySet:
    return StripeEvent.objects.filter(received_at__lt=timezone.now() - EVENT_PAYLOAD_KEEP).exclude(
        payload={}
    )


def _empty_payloads(rows: QuerySet) -> int:
    return StripeEvent.objects.filter(pk__in=list(rows.values_list("pk", flat=True))).update(
        payload={}
    )


register(
    ConnectAccount,
    category="Payments set-up (Stripe)",
    purpose="Selling your courses through your own Stripe account: whether Stripe lets you take "
    "payments and pay out, and what it still needs from you",
    owner="teacher",
    fields=[
        "stripe_account_id",
        "country",
        "default_currency",
        "business_name",
        "charges_enabled",
        "payouts_enabled",
        "details_submitted",
        "requirements_due",
        "created_at",
    ],
    dated_by="created_at",
    retention=Retention("While your account exists; your Stripe account itself stays yours"),
)
register(
    Purchase,
    category="Purchases",
    purpose="Selling you a course: what you paid, the discount, refunds and the Stripe references "
    "that prove it",
    owner="student",
    fields=[
        "course_title",
        "gross_amount",
        "discount_amount",
        "amount",
        "currency",
        "coupon_code",
        "refunded_amount",
        "status",
        "receipt_url",
        "created_at",
        "paid_at",
        "refunded_at",
        "checkout_session_id",
        "payment_intent_id",
    ],
    erasure=Erasure.KEEP,
    eraser=_anonymise_purchases,
    legal_reason=TAX_REASON,
    erasure_note="Your name is removed; the amounts, course and dates stay for the tax record",
    basis=Basis.LEGAL_OBLIGATION,
    dated_by="created_at",
    retention=Retention(
        "24 months after your latest purchase, then kept without your name for the tax record",
        period=SALES_KEEP,
        expired=_stale_buyers_purchases,
        purge=_unlink,
    ),
)
register(
    CouponRedemption,
    category="Coupons you used",
    purpose="Applying a teacher's coupon once per student and within its limits",
    owner="student",
    fields=["discount_amount", "currency", "redeemed_at"],
    erasure=Erasure.ANONYMISE,
    eraser=_anonymise_redemptions,
    dated_by="redeemed_at",
    retention=Retention("24 months", period=SALES_KEEP, expired=_stale_redemptions),
)
rule(
    "Stripe webhook events",
    description="What Stripe told us about payments and accounts, processed once",
    retention=Retention(
        "The event's content is removed after 30 days; its id stays so it is never applied twice",
        period=EVENT_PAYLOAD_KEEP,
        expired=_old_event_payloads,
        purge=_empty_payloads,
    ),
)
# --- A teacher's plan, limits, sales totals and risk signals ---------------------------------


def _anonymise_subscriptions(user: Any) -> int:
    return Subscription.objects.filter(teacher=user).update(
        teacher=None, customer=None, anonymised_at=timezone.now()
    )


def _anonymise_invoices(user: Any) -> int:
    return Invoice.objects.filter(teacher=user).update(
        teacher=None, customer=None, anonymised_at=timezone.now()
    )


def _old_subscriptions() -> QuerySet:
    return Subscription.objects.filter(created_at__lt=timezone.now() - BILLING_RECORDS_KEEP)


def _old_invoices() -> QuerySet:
    return Invoice.objects.filter(issued_at__lt=timezone.now() - BILLING_RECORDS_KEEP)


def _lapsed_ledger_rows() -> QuerySet:
    return ActiveStudent.objects.filter(last_paid_at__lt=timezone.now() - LEDGER_KEEP)


def _old_fraud_signals() -> QuerySet:
    return FraudSignal.objects.filter(created_at__lt=timezone.now() - FRAUD_KEEP)


def _anonymise_fraud_signals(user: Any) -> int:
    return FraudSignal.objects.filter(teacher=user).update(teacher=None)


def _old_card_failures() -> QuerySet:
    return CardFailure.objects.filter(at__lt=timezone.now() - CARD_FAILURES_KEEP)


register(
    BillingCustomer,
    category="Your plan: Stripe customer",
    purpose="Charging you for your Lectern plan through Stripe",
    owner="teacher",
    fields=["stripe_customer_id", "email", "name", "created_at"],
    eraser=subscriptions.erase_customer,
    erasure_note="Your plan is cancelled at once, then your Stripe customer is deleted",
    dated_by="created_at",
    retention=Retention("While your account exists"),
)
register(
    PaymentMethod,
    category="Your plan: card details",
    purpose="Showing which card pays for your plan: its brand, last 4 digits and expiry only",
    owner="customer__teacher",
    fields=["brand", "last4", "exp_month", "exp_year", "is_default", "created_at"],
    dated_by="created_at",
    retention=Retention("While the card is on your Stripe customer"),
)
register(
    Subscription,
    category="Your plan: subscriptions",
    purpose="Your plan, its interval, currency, status and renewal date",
    owner="teacher",
    fields=[
        "stripe_subscription_id",
        "interval",
        "currency",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "pending_change_at",
        "created_at",
        "canceled_at",
        "ended_at",
    ],
    erasure=Erasure.KEEP,
    eraser=_anonymise_subscriptions,
    legal_reason=BILLING_TAX_REASON,
    erasure_note="Your name is removed; the plan, amounts and dates stay for the tax record",
    basis=Basis.LEGAL_OBLIGATION,
    dated_by="created_at",
    retention=Retention(
        "10 years, then deleted",
        period=BILLING_RECORDS_KEEP,
        expired=_old_subscriptions,
    ),
)
register(
    Invoice,
    category="Your plan: invoices",
    purpose="Lectern's invoices to you: number, amount, status, date and Stripe's links",
    owner="teacher",
    fields=[
        "number",
        "status",
        "currency",
        "amount_due",
        "amount_paid",
        "hosted_invoice_url",
        "invoice_pdf",
        "issued_at",
        "paid_at",
    ],
    erasure=Erasure.KEEP,
    eraser=_anonymise_invoices,
    legal_reason=BILLING_TAX_REASON,
    erasure_note="Your name is removed; the invoice stays for the tax record",
    basis=Basis.LEGAL_OBLIGATION,
    dated_by="issued_at",
    retention=Retention(
        "10 years, then deleted", period=BILLING_RECORDS_KEEP, expired=_old_invoices
    ),
)
register(
    ActiveStudent,
    category="Active-student count",
    purpose="Counting you once among a teacher's active students (a paid enrolment in the last "
    "30 days), for their plan's limit",
    owner="student",
    fields=["last_paid_at"],
    basis=Basis.LEGITIMATE_INTERESTS,
    dated_by="last_paid_at",
    retention=Retention(
        "30 days after the paid enrolment", period=LEDGER_KEEP, expired=_lapsed_ledger_rows
    ),
)
register(
    PlanCapState,
    category="Your plan: active-student limit",
    purpose="Where you stand against your plan's active-student limit, and since when",
    owner="teacher",
    fields=[
        "state",
        "active_students",
        "cap",
        "entered_at",
        "warning_emailed_at",
        "grace_started_at",
        "grace_ends_at",
        "blocked_at",
    ],
    dated_by="entered_at",
    retention=Retention("While your account exists"),
)
register(
    PlanCapTransition,
    category="Your plan: active-student limit history",
    purpose="Each change of your limit state, with the figures and the reason",
    owner="teacher",
    fields=["from_state", "to_state", "reason", "active_students", "cap", "at"],
    dated_by="at",
    retention=Retention("While your account exists"),
)
register(
    GmvMonth,
    category="Sales totals by month",
    purpose="Your gross sales, refunds and fees per month, for your plan's limits and audits",
    owner="teacher",
    fields=[
        "month",
        "currency",
        "gross",
        "refunds",
        "fees",
        "sales",
        "course_count",
        "student_count",
    ],
    basis=Basis.LEGITIMATE_INTERESTS,
    dated_by="month",
    retention=Retention(
        "24 months, then added into yearly totals",
        period=SALES_KEEP,
        expired=gmv.months_to_fold,
        purge=gmv.fold_months,
    ),
)
register(
    GmvYear,
    category="Sales totals by year",
    purpose="Your sales totals for years older than 24 months",
    owner="teacher",
    fields=[
        "year",
        "currency",
        "gross",
        "refunds",
        "fees",
        "sales",
        "course_count",
        "student_count",
        "months",
    ],
    basis=Basis.LEGITIMATE_INTERESTS,
    retention=Retention("While your account exists"),
)
register(
    FraudSignal,
    category="Risk reviews",
    purpose="Protecting students and teachers from fraud: signals raised on your account and "
    "their review",
    owner="teacher",
    fields=["rule", "status", "summary", "created_at", "reviewed_at", "sales_paused_at"],
    erasure=Erasure.ANONYMISE,
    eraser=_anonymise_fraud_signals,
    erasure_note="Kept without your name until 24 months after each was raised",
    basis=Basis.LEGITIMATE_INTERESTS,
    dated_by="created_at",
    retention=Retention(
        "24 months from when it was raised, whatever its status",
        period=FRAUD_KEEP,
        expired=_old_fraud_signals,
    ),
)
register(
    CardFailure,
    category="Declined card payments on your courses",
    purpose="Spotting card testing on your courses (many declined cards in a short time)",
    owner="teacher",
    fields=["decline_code", "at"],
    basis=Basis.LEGITIMATE_INTERESTS,
    dated_by="at",
    retention=Retention("30 days", period=CARD_FAILURES_KEEP, expired=_old_card_failures),
)
exempt(Plan, reason="The plan catalogue: no person's data.")
exempt(PlanPrice, reason="The plan catalogue's prices: no person's data.")

exempt(Coupon, reason="A teacher's discount codes: no person's data beyond the teacher's link.")
exempt(Refund, reason="Part of a purchase; exported and erased with it.")
exempt(StripeEvent, reason="Swept by its own rule; payloads are emptied after 30 days.")


def _selling_blockers(user: Any) -> list[DeletionWarning]:
    """What a teacher must settle before their account can go: disputes, refunds, money held."""
    account = ConnectAccount.objects.filter(teacher_id=user.pk).first()
    if account is None:
        return []
    blockers = []
    disputed = Purchase.objects.filter(teacher_id=user.pk, status=Purchase.Status.DISPUTED).count()
    if disputed:
        blockers.append(
            DeletionWarning(
                "A payment is disputed.",
                f"{disputed} sale{'s are' if disputed != 1 else ' is'} disputed by the buyer's "
                "bank: answer from your Stripe dashboard and wait for the outcome.",
                blocks=True,
            )
        )
    unsettled = Refund.objects.filter(
        purchase__teacher_id=user.pk, status__in=[Refund.Status.REQUESTED, Refund.Status.PENDING]
    ).count()
    open_checkouts = Purchase.objects.filter(
        teacher_id=user.pk, status=Purchase.Status.PENDING, expires_at__gt=timezone.now()
    ).count()
    if unsettled or open_checkouts:
        blockers.append(
            DeletionWarning(
                "Sales are still settling.",
                "A refund or a student's payment is still in progress: try again in a day.",
                blocks=True,
            )
        )
    blockers += _balance_blockers(account)
    return blockers


def _balance_blockers(account: ConnectAccount) -> list[DeletionWarning]:
    if not client.configured():
        return []
    try:
        balance = client.retrieve_balance(account.stripe_account_id)
    except client.PaymentServiceError:
        return [
            DeletionWarning(
                "Your Stripe balance couldn't be checked.",
                "Stripe didn't answer just now: try again in a few minutes.",
                blocks=True,
            )
        ]
    held = [
        format_money(row["amount"], row["currency"].upper())
        for key in ("available", "pending")
        for row in balance.get(key) or []
        if row.get("amount")
    ]
    if not held:
        return []
    return [
        DeletionWarning(
            "Your Stripe account still holds money.",
            f"{', '.join(held)} is waiting to be paid out: wait for the payout, or pay it out "
            "from your Stripe dashboard, then delete the account.",
            blocks=True,
        )
    ]


deletion_warnings(_selling_blockers)
