"""Authorization-matrix entries for getting paid, buying, purchases, sales and webhooks.

paula (a teacher who can sell) has a paid course, "authz-paid", whose one seat
is taken, so buying it is refused before Stripe is asked; bob has a pending
purchase of another of her courses; alice has sold a course to bob. alice and
carol have no Stripe account, so nothing here calls Stripe.
"""

from django.urls import reverse

from billing.models import Coupon, Purchase
from billing.services import checkout
from billing.tests.kit import seller
from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from tests.authz import (
    ANON,
    NOT_ALLOWED,
    NOT_FOUND,
    OK,
    OTHER,
    OWNER,
    PERSONS,
    STAFF,
    STUDENT,
    TO_LOGIN,
    Context,
    Entry,
    Outcome,
    everyone,
    signed_in,
)
from tests.base import StudentFactory, TeacherFactory

PAID = "authz-paid"
BAD_REQUEST = Outcome(400)
TO_CONNECT = Outcome(302, "billing:connect")
TO_PAID_PAGE = Outcome(302, f"/c/{PAID}/")


def build(ctx: Context) -> None:
    alice, bob = ctx.people["alice"], ctx.people["bob"]
    paula = TeacherFactory.create(email="paula-authz@example.org")
    seller(paula)
    full = CourseFactory.create(teacher=paula, slug=PAID, price_amount=3000, capacity=1)
    Enrollment.objects.create(course=full, student=StudentFactory.create())
    other = CourseFactory.create(teacher=paula, price_amount=3000)
    pending = Purchase.objects.create(
        student=bob,
        teacher=paula,
        course=other,
        course_title=other.title,
        connect_account_id="acct_test_paula",
        gross_amount=3000,
        amount=3000,
        currency="EUR",
    )
    ctx.objects["billing_return_url"] = checkout.return_url(pending)
    sold = CourseFactory.create(teacher=alice, price_amount=5000)
    ctx.objects["billing_coupon"] = Coupon.objects.create(
        teacher=alice, code="AUTHZ", percent_off=5
    )
    ctx.objects["billing_sale"] = Purchase.objects.create(
        student=bob,
        teacher=alice,
        course=sold,
        course_title=sold.title,
        connect_account_id="acct_test_alice",
        gross_amount=5000,
        amount=5000,
        currency="EUR",
        status=Purchase.Status.PAID,
        payment_intent_id="pi_test_authz",
    )


def _teachers(outcome: Outcome) -> dict[str, Outcome]:
    """Teachers get `outcome`; students and staff (not teachers) a 404; visitors log in."""
    return {ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: outcome, OWNER: outcome, STAFF: NOT_FOUND}


def _owner_only(outcome: Outcome) -> dict[str, Outcome]:
    return {ANON: TO_LOGIN, STUDENT: NOT_FOUND, OTHER: NOT_FOUND, OWNER: outcome, STAFF: NOT_FOUND}


ENTRIES: dict[str, Entry] = {
    "billing:connect": Entry(get=_teachers(OK), post=_teachers(BAD_REQUEST)),
    "billing:connect_refresh": Entry(get=_teachers(TO_CONNECT), post=signed_in(NOT_ALLOWED)),
    "billing:connect_return": Entry(get=_teachers(TO_CONNECT), post=signed_in(NOT_ALLOWED)),
    "billing:connect_dashboard": Entry(get=signed_in(NOT_ALLOWED), post=_teachers(NOT_FOUND)),
    "billing:buy": Entry(
        get=everyone(OK),
        post=everyone(NOT_ALLOWED),
        url=lambda ctx: reverse("billing:buy", args=[PAID]),
    ),
    "billing:checkout": Entry(
        get=everyone(NOT_ALLOWED),
        post={**dict.fromkeys(PERSONS, TO_PAID_PAGE), ANON: BAD_REQUEST},
        url=lambda ctx: reverse("billing:checkout", args=[PAID]),
    ),
    "billing:price": Entry(
        get=everyone(OK), url=lambda ctx: reverse("billing:price", args=[PAID]) + "?code=NOPE"
    ),
    "billing:checkout_return": Entry(
        get={ANON: OK, STUDENT: OK, OTHER: NOT_FOUND, OWNER: NOT_FOUND, STAFF: NOT_FOUND},
        url=lambda ctx: ctx.objects["billing_return_url"],
    ),
    "billing:purchases": Entry(get=signed_in(), post=signed_in(NOT_ALLOWED)),
    "billing:sale": Entry(
        get=_owner_only(OK),
        post=_owner_only(BAD_REQUEST),
        url=lambda ctx: reverse("billing:sale", args=[ctx.objects["billing_sale"].pk]),
    ),
    "billing:coupons": Entry(get=_teachers(OK), post=_teachers(BAD_REQUEST)),
    "billing:coupon": Entry(
        get=_owner_only(OK),
        post=_owner_only(BAD_REQUEST),
        url=lambda ctx: reverse("billing:coupon", args=[ctx.objects["billing_coupon"].pk]),
    ),
    "billing:stripe_webhook": Entry(get=everyone(NOT_ALLOWED), post=everyone(BAD_REQUEST)),
    "billing:stripe_connect_webhook": Entry(get=everyone(NOT_ALLOWED), post=everyone(BAD_REQUEST)),
}
