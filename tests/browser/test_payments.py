"""A paid course end to end, in two browsers: connect Stripe, a coupon, a purchase, a refund.

alice connects Stripe from her dashboard (the stand-in's onboarding page sends her straight
back), makes a 25% coupon for her €120 course; a visitor buys it with the code on its page,
pays on the stand-in's Checkout page and comes back; Stripe's webhook arrives; the visitor
chooses a password from the invitation email and opens the course. alice finds the sale on
her Sales page and refunds it in full; the student's access ends and the course is on sale
to them again.

Stripe is replaced at its HTTP edge by `billing/tests/fake_stripe.py`, a local server the
real SDK talks to and the browser visits for onboarding and Checkout.
"""

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import BrowserContext, Page, expect

from accounts.models import User
from billing.models import ConnectAccount, Purchase, StripeEvent
from billing.tests.fake_stripe import FakeStripe
from courses.models import Course, Enrollment
from courses.tests.factories import CourseFactory
from privacy import cookies as privacy_cookies
from tests.base import PASSWORD
from tests.browser.kit import Browsing, post_stripe_event, snap_light_and_dark, snap_on_a_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LogIn = Callable[[Page, str, str, str], None]

COURSE_TITLE = "Botanical Drawing in Ink"
SLUG = "botanical-drawing"
CODE = "SPRING"
BUYER_EMAIL = "vera.visitor@example.org"
BUYER_PASSWORD = "a quiet fern by the river"
LINK = re.compile(r"https?://\S+")


@pytest.fixture
def course(alice: User) -> Course:
    return CourseFactory.create(
        teacher=alice,
        title=COURSE_TITLE,
        slug=SLUG,
        price_amount=12000,
        currency="EUR",
        capacity=6,
    )


def test_it_sells_a_course_with_a_coupon_and_refunds_it(
    watched_page: Page,
    browsing: Browsing,
    alice: User,
    course: Course,
    stripe: FakeStripe,
    new_context: Callable[..., BrowserContext],
    log_in: LogIn,
) -> None:
    teacher = watched_page
    log_in(teacher, alice.email, PASSWORD, "01-alice-login")
    connect_stripe(teacher, browsing)
    make_coupon(teacher, browsing)

    visitor = browsing.watch(new_context().new_page())
    # The stand-in's pages have no icon; a browser asking for one is not an error of ours.
    visitor.route(f"{stripe.url}/favicon.ico", lambda route: route.fulfill(status=204))
    buy_with_the_code(visitor, browsing)
    purchase = Purchase.objects.get(course=course)
    stripe_sends_the_webhook(browsing, stripe, purchase)
    purchase.refresh_from_db()
    assert (purchase.status, purchase.amount, purchase.discount_amount) == ("paid", 9000, 3000)
    assert purchase.coupon_code == CODE
    buyer = User.objects.get(email=BUYER_EMAIL)
    assert (buyer.first_name, buyer.last_name) == ("Vera", "Visitor")
    receipts = emails_to(BUYER_EMAIL, "Your receipt")
    assert len(receipts) == 1, [m.subject for m in mail.outbox]
    assert "€90.00" in str(receipts[0].body)

    choose_a_password(visitor, browsing)
    assert Enrollment.objects.get(course=course, student=buyer).status == "active"
    see_the_purchase(visitor, browsing)

    refund_the_sale(teacher, browsing)
    purchase.refresh_from_db()
    assert (purchase.status, purchase.refunded_amount) == ("refunded", 9000)
    assert Enrollment.objects.get(course=course, student=buyer).status == "left"
    assert len(emails_to(BUYER_EMAIL, "Refund of €90.00")) == 1

    lose_access(visitor, browsing)
    # The teacher's browser is checked by the suite; the buyer's is checked here.
    undeclared = {c["name"] for c in visitor.context.cookies()} - privacy_cookies.declared_names()
    assert not undeclared, f"Cookies not declared in privacy/cookies.py: {sorted(undeclared)}"


# --- alice gets ready to sell ----------------------------------------------------------------


def connect_stripe(page: Page, browsing: Browsing) -> None:
    """From the dashboard's checklist to Stripe's onboarding and back, ready to sell."""
    step = page.get_by_role("listitem").filter(has_text="Connect Stripe to sell paid courses")
    expect(step).to_be_visible()
    browsing.snap(page, "02-alice-dashboard")
    step.get_by_role("link", name="Connect", exact=True).click()

    expect(page).to_have_url(re.compile(r"/billing/connect/$"))
    expect(page.get_by_role("heading", name="Get paid with Stripe", level=1)).to_be_visible()
    page.get_by_label("Country of your business or residence").select_option("FR")
    browsing.snap(page, "03-alice-connect")
    page.get_by_role("button", name="Continue to Stripe").click()

    # The stand-in's onboarding page enables the account and sends her back at once.
    expect(page).to_have_url(re.compile(r"/billing/connect/$"))
    expect(
        page.get_by_text("Stripe is connected: your paid courses are open to buy.")
    ).to_be_visible()
    state = page.get_by_role("region", name="Your Stripe account")
    expect(state.get_by_text("Ready to sell", exact=True)).to_be_visible()
    snap_light_and_dark(page, browsing, "04-alice-ready-to-sell")
    account = ConnectAccount.objects.get()
    assert account.can_sell
    assert account.country == "FR"


def make_coupon(page: Page, browsing: Browsing) -> None:
    """From the Stripe page to Coupons, and SPRING: 25% off her course, once per student."""
    page.get_by_role("region", name="Your Stripe account").get_by_role(
        "link", name="Coupons"
    ).click()
    expect(page).to_have_url(re.compile(r"/billing/coupons/$"))
    expect(page.get_by_role("heading", name="Coupons", level=1)).to_be_visible()
    expect(page.get_by_text("No coupons yet.")).to_be_visible()
    form = page.get_by_role("region", name="New coupon")
    form.get_by_label("Code", exact=True).fill(CODE)
    form.get_by_label("Works for").select_option(label=COURSE_TITLE)
    form.get_by_role("radio", name="A percentage off").check()
    form.get_by_label("How much off").fill("25")
    browsing.snap(page, "05-alice-new-coupon")
    form.get_by_role("button", name="Create coupon").click()

    expect(page.get_by_text("Coupon created. Share its code with your students.")).to_be_visible()
    row = page.get_by_role("region", name="Your coupons").get_by_role("row").filter(has_text=CODE)
    expect(row).to_contain_text("25% off")
    expect(row).to_contain_text(COURSE_TITLE)
    expect(row).to_contain_text("Active")
    snap_light_and_dark(page, browsing, "06-alice-coupons")


# --- a visitor buys it -----------------------------------------------------------------------


def buy_with_the_code(page: Page, browsing: Browsing) -> None:
    """Name, email and the code on the course's page, Stripe's Checkout, and back."""
    page.goto(browsing.url(f"/c/{SLUG}/"))
    expect(page.get_by_role("heading", name=COURSE_TITLE, level=1)).to_be_visible()
    box = page.get_by_role("region", name="Buy this course")
    expect(box).to_contain_text("€120.00")
    box.get_by_label("First name").fill("Vera")
    box.get_by_label("Last name").fill("Visitor")
    box.get_by_label("Email").fill(BUYER_EMAIL)
    code = box.get_by_label(re.compile(r"^\s*Coupon code"))
    price = box.locator("#buy-price")
    code.fill("SPRNG")
    expect(price).to_contain_text("“SPRNG” isn't a code for this course.")
    browsing.snap(page, "10-visitor-buy-box-wrong-code")

    with page.expect_response(re.compile(rf"/c/{SLUG}/price/\?code={CODE}$")) as priced:
        code.fill(CODE)
    assert priced.value.status == 200
    expect(price).to_contain_text("€90.00")
    expect(price).to_contain_text("€30.00 off")
    snap_light_and_dark(page, browsing, "11-visitor-buy-box")
    snap_on_a_phone(page, browsing, "12-visitor-buy-box-phone")

    box.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("heading", name="Test checkout")).to_be_visible()
    expect(page.get_by_text("Amount: 9000 eur")).to_be_visible()
    page.get_by_role("button", name="Pay").click()

    # Back from Checkout: the page asks Stripe how the session ended; had Stripe not known
    # yet, it would say "Confirming your payment…" and check again by itself.
    expect(page).to_have_url(re.compile(r"/billing/return/[^/]+/$"))
    expect(page.get_by_role("heading", name="Payment received, you're in")).to_be_visible()
    expect(page.get_by_text("You paid €90.00")).to_be_visible()
    expect(
        page.get_by_text("We've also emailed you a link to choose your password")
    ).to_be_visible()
    snap_light_and_dark(page, browsing, "13-visitor-return")
    snap_on_a_phone(page, browsing, "14-visitor-return-phone")


def stripe_sends_the_webhook(browsing: Browsing, stripe: FakeStripe, purchase: Purchase) -> None:
    """POST checkout.session.completed, signed, to the live server, as Stripe does."""
    assert purchase.checkout_session_id
    session = stripe.expanded_session(purchase.checkout_session_id)
    assert session["payment_status"] == "paid"
    answer = post_stripe_event(browsing, stripe.event("checkout.session.completed", session))
    assert answer["received"] is True
    assert StripeEvent.objects.get(type="checkout.session.completed").status == "done"


def emails_to(address: str, subject_part: str) -> list[Any]:
    return [m for m in mail.outbox if address in m.to and subject_part in m.subject]


def choose_a_password(page: Page, browsing: Browsing) -> None:
    """Follow the invitation email's link, choose a password, land in the course."""
    [invitation] = emails_to(BUYER_EMAIL, "choose your password")
    links = [link for link in LINK.findall(str(invitation.body)) if "/join/" in link]
    assert links, invitation.body
    # Emails carry SITE_URL; the browser talks to the live test server.
    page.goto(browsing.url(re.sub(r"^https?://[^/]+", "", links[0])))
    expect(page.get_by_role("heading", name="Welcome, Vera", level=1)).to_be_visible()
    page.get_by_label("Password", exact=True).fill(BUYER_PASSWORD)
    page.get_by_label("Repeat password").fill(BUYER_PASSWORD)
    browsing.snap(page, "15-visitor-choose-password")
    page.get_by_role("button", name="Set password and open my course").click()

    # Buying asked for no policies: they are accepted here, before the course opens.
    expect(page).to_have_url(re.compile(r"/policies/accept/"))
    browsing.snap(page, "16-visitor-accept-policies")
    for box in page.get_by_role("checkbox", name=re.compile(r"^I accept the ")).all():
        box.check()
    page.get_by_role("button", name="Accept and continue").click()

    expect(page).to_have_url(re.compile(rf"/courses/{SLUG}/$"))
    expect(page.get_by_role("heading", name=COURSE_TITLE, level=1)).to_be_visible()
    browsing.snap(page, "17-student-course")


def see_the_purchase(page: Page, browsing: Browsing) -> None:
    """Settings → Purchases lists the course, what was paid and the code used."""
    page.get_by_role("banner").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Purchases").click()
    expect(page).to_have_url(re.compile(r"/settings/purchases/$"))
    row = page.get_by_role("row").filter(has_text=COURSE_TITLE)
    expect(row).to_contain_text("€90.00")
    expect(row).to_contain_text(f"€30.00 off with {CODE}")
    expect(row).to_contain_text("Paid")
    expect(row.get_by_role("link", name="Stripe receipt")).to_be_visible()
    browsing.snap(page, "18-student-purchases")


# --- alice refunds it ------------------------------------------------------------------------


def refund_the_sale(page: Page, browsing: Browsing) -> None:
    """Sales → the sale → a full refund, confirmed in the browser's dialog."""
    page.get_by_role("banner").get_by_role("link", name="Dashboard").click()
    step = page.get_by_role("listitem").filter(has_text="Connect Stripe to sell paid courses")
    step.get_by_role("link", name="Sales", exact=True).click()
    expect(page).to_have_url(re.compile(r"/billing/sales/$"))
    expect(page.get_by_role("heading", name="Sales", level=1)).to_be_visible()
    expect(page.get_by_role("img", name="Net revenue per month in EUR")).to_be_visible()
    expect(page.get_by_role("img", name="Net revenue per course in EUR")).to_be_visible()
    sales = page.get_by_role("region", name="Every sale")
    row = sales.get_by_role("row").filter(has_text="Vera Visitor")
    expect(row).to_contain_text("€90.00")
    expect(row).to_contain_text(f"€30.00 off with {CODE}")
    expect(row).to_contain_text("Paid")
    snap_light_and_dark(page, browsing, "20-alice-sales")
    row.get_by_role("link", name=COURSE_TITLE).click()

    expect(page).to_have_url(re.compile(r"/billing/sales/\d+/$"))
    expect(page.get_by_role("heading", name=COURSE_TITLE, level=1)).to_be_visible()
    money = page.get_by_role("region", name="Money")
    expect(money).to_contain_text("€120.00")
    expect(money).to_contain_text(f"Discount ({CODE})")
    expect(money).to_contain_text("€90.00")
    refund = page.get_by_role("region", name="Refund", exact=True)
    expect(refund.get_by_label("Amount to refund")).to_have_value("90.00")
    expect(refund.get_by_label("Let the student keep access to the course")).not_to_be_checked()
    refund.get_by_label("Note for your records").fill("Asked to switch to the autumn course")
    snap_light_and_dark(page, browsing, "21-alice-sale")

    asked: list[str] = []

    def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    refund.get_by_role("button", name="Refund").click()
    expect(page.get_by_text("Refund sent. The student gets an email.")).to_be_visible()
    assert asked == ["Send this refund? The money goes back to the student's card."]
    expect(page.get_by_role("region", name="Money")).to_contain_text("Refunded")
    refunds = page.get_by_role("region", name="Refunds")
    expect(refunds.get_by_role("row").filter(has_text="€90.00")).to_contain_text("Succeeded")
    expect(page.get_by_role("region", name="Refund", exact=True)).to_have_count(0)
    expect(page.locator(".page-header .badge")).to_have_text("Refunded")
    snap_light_and_dark(page, browsing, "22-alice-sale-refunded")

    page.get_by_role("main").get_by_role("link", name="Sales", exact=True).click()
    expect(page).to_have_url(re.compile(r"/billing/sales/$"))
    row = (
        page.get_by_role("region", name="Every sale")
        .get_by_role("row")
        .filter(has_text="Vera Visitor")
    )
    expect(row).to_contain_text("€90.00 refunded")
    expect(row).to_contain_text("Refunded")
    snap_light_and_dark(page, browsing, "23-alice-sales-refunded")


# --- the student's access ends ---------------------------------------------------------------


def lose_access(page: Page, browsing: Browsing) -> None:
    """The course page is gone for them; Purchases says refunded; it is on sale to them again."""
    browsing.allow(r"status of 404")
    response = page.goto(browsing.url(f"/courses/{SLUG}/"))  # their bookmark
    assert response is not None
    assert response.status == 404
    browsing.snap(page, "30-student-course-gone")

    page.get_by_role("banner").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Purchases").click()
    row = page.get_by_role("row").filter(has_text=COURSE_TITLE)
    expect(row).to_contain_text("Refunded")
    expect(row).to_contain_text("€90.00 refunded")
    browsing.snap(page, "31-student-purchases-refunded")

    row.get_by_role("link", name=COURSE_TITLE).click()
    expect(page).to_have_url(re.compile(rf"/c/{SLUG}/$"))
    box = page.get_by_role("region", name="Buy this course")
    expect(box.get_by_role("button", name="Buy for €120.00")).to_be_visible()
    browsing.snap(page, "32-student-storefront-again")
