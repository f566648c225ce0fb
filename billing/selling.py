"""Tell the courses app which teachers can take payments (its `courses.selling` hook)."""

from typing import Any

from django.db.models import Exists, OuterRef
from django.urls import reverse

from billing import client
from billing.models import ConnectAccount, PlanCapState, Subscription
from billing.services import cap_emails, caps, gate
from courses import selling

CapState = PlanCapState.State


def can_sell_expression() -> Any:
    """True for a course whose teacher's Stripe account has charges and payouts on."""
    return Exists(
        ConnectAccount.objects.filter(
            teacher_id=OuterRef("teacher_id"), charges_enabled=True, payouts_enabled=True
        )
    )


def paused_expression() -> Any:
    """Why a course's teacher takes no new paid enrolments now, for students ("": they do)."""
    return gate.refusal_expression("teacher_id")


def describe(teacher: Any) -> selling.Selling | None:
    """Where the teacher's Stripe set-up stands; None when payments are off on this server."""
    if not client.configured():
        return None
    account = ConnectAccount.objects.filter(teacher_id=teacher.pk).first()
    url = reverse("billing:connect")
    links = (
        ("Sales", reverse("billing:sales")),
        ("Coupons", reverse("billing:coupons")),
        ("Plan & billing", reverse("billing:plan")),
    )
    notices = plan_payment_notices(teacher) + cap_notices(teacher)
    if account is None:
        words = "Payments go straight to your own Stripe account."
        return selling.Selling(False, words, url, links, notices)
    return selling.Selling(account.can_sell, account.state_words, url, links, notices)


def plan_payment_notices(teacher: Any) -> tuple[selling.Notice, ...]:
    """The banner while the last payment for the teacher's own plan has failed."""
    failed = Subscription.objects.filter(
        teacher_id=teacher.pk, status__in=Subscription.LIVE, payment_failed_at__isnull=False
    ).exists()
    if not failed:
        return ()
    words = (
        "Stripe tries your card again over the next days and you keep your plan meanwhile. "
        "Update your card so the next try succeeds; if every try fails, your account moves to "
        "the Free plan's limits (nothing is deleted)."
    )
    title = "Your last payment for your plan didn't go through"
    return (selling.Notice("danger", title, words, reverse("billing:plan"), "Update your card"),)


def cap_notices(teacher: Any) -> tuple[selling.Notice, ...]:
    """The banner about the teacher's plan limit, when they are near it or over it."""
    row = PlanCapState.objects.filter(teacher_id=teacher.pk).first()
    state = row.effective_state if row is not None else CapState.NORMAL
    if row is None or state == CapState.NORMAL:
        return ()
    figures = (
        f"You have {row.active_students} active students; your plan includes {row.cap}."
        if row.cap is not None
        else f"You have {row.active_students} active students."
    )
    upgrade = cap_emails.plan_url()
    if state == CapState.WARNING:
        title = "You're close to your plan's limit of active students"
        words = (
            f"{figures} Nothing changes for now. If you go over the limit you'll have "
            f"{caps.grace_period().days} days to upgrade before new paid enrolments pause."
        )
        return (selling.Notice("warning", title, words, upgrade, "See your plan"),)
    if state == CapState.GRACE:
        ends = (
            f" until {cap_emails.teacher_time(row.grace_ends_at, teacher)}"
            if row.grace_ends_at
            else ""
        )
        title = "You're over your plan's limit of active students"
        words = (
            f"{figures} You have{ends} to upgrade your plan or fall back within the limit; "
            "after that, new paid enrolments in your courses pause. Students already enrolled "
            "keep full access."
        )
        return (selling.Notice("warning", title, words, upgrade, "Upgrade your plan"),)
    title = "New paid enrolments in your courses are paused"
    words = (
        f"{figures} Students who try to buy a course see that you aren't taking new paid "
        "enrolments right now; students already enrolled keep full access. Upgrade your plan "
        "to open them again at once."
    )
    if row.override_state:
        words = (
            "The Lectern team paused new paid enrolments in your courses. Students already "
            "enrolled keep full access. Write to us if you have questions."
        )
    return (selling.Notice("danger", title, words, upgrade, "Upgrade your plan"),)


def connect() -> None:
    selling.provide(expression=can_sell_expression, paused=paused_expression, describe=describe)
