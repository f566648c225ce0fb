"""A teacher's own plan in a browser: subscribe through Checkout, upgrade, plan a downgrade.

alice opens Plan & billing from her dashboard, sees her Free plan's usage, chooses Pro and
pays on the stand-in's Checkout page, which sends her back to her plan. She upgrades to
Studio (at once), plans a move back to Pro for the end of her period and cancels that
plan again, then changes her card in the stand-in's Customer Portal. Each page is right
from Lectern's own reads of Stripe after each step; the checkout's webhooks, posted once,
bring her first invoice.
"""

import re
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from accounts.models import User
from billing.models import StripeEvent, Subscription
from billing.services import catalogue
from billing.tests.fake_stripe import FakeStripe, signed
from billing.tests.kit import restore_default_catalogue
from tests.base import PASSWORD
from tests.browser.kit import Browsing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LogIn = Callable[[Page, str, str, str], None]
PHONE: ViewportSize = {"width": 390, "height": 844}
PLAN_URL = re.compile(r"/billing/plan/$")


@pytest.fixture
def stripe(settings: Any) -> Iterator[FakeStripe]:
    """Stripe's stand-in with the plan catalogue synced; its pages stand where Stripe's do."""
    with FakeStripe() as fake:
        settings.STRIPE_API_BASE = fake.url
        csp = dict(settings.SECURE_CSP)
        csp["form-action"] = [*csp["form-action"], fake.url]
        settings.SECURE_CSP = csp
        restore_default_catalogue()
        catalogue.sync_plans()
        yield fake


def test_a_teacher_subscribes_upgrades_and_plans_a_downgrade(
    watched_page: Page, browsing: Browsing, alice: User, stripe: FakeStripe, log_in: LogIn
) -> None:
    page = watched_page
    # The stand-in's pages have no icon; a browser asking for one is not an error of ours.
    page.route(f"{stripe.url}/favicon.ico", lambda route: route.fulfill(status=204))
    log_in(page, alice.email, PASSWORD, "01-alice-login")
    page.get_by_role("link", name="Plan & billing").first.click()
    expect(page).to_have_url(PLAN_URL)
    expect(page.get_by_role("heading", name="Your plan: Free")).to_be_visible()
    usage = page.get_by_role("region", name="Usage")
    expect(usage.get_by_role("meter", name="Active students")).to_have_attribute("max", "10")
    page.get_by_role("combobox", name="Currency").select_option("EUR")
    page.get_by_role("button", name="Show prices").click()
    expect(page.get_by_text("€27.00")).to_be_visible()
    snap_everywhere(page, browsing, "02-free-plan")

    subscribe_to_pro(page, browsing)
    stripe_sends_the_webhooks(browsing, stripe)
    page.reload()
    invoices = page.get_by_role("region", name="Invoices")
    expect(invoices.get_by_role("row").filter(has_text="€27.00")).to_contain_text("Paid")
    upgrade_to_studio(page, browsing)
    plan_and_cancel_a_downgrade(page, browsing)
    change_the_card(page, browsing)


def subscribe_to_pro(page: Page, browsing: Browsing) -> None:
    page.get_by_role("button", name="Choose Pro").click()
    expect(page.get_by_role("heading", name="Test checkout")).to_be_visible()
    browsing.snap(page, "03-checkout")
    page.get_by_role("button", name="Pay").click()
    expect(page).to_have_url(PLAN_URL)
    expect(page.get_by_text("You're on Pro. Thank you!")).to_be_visible()
    expect(page.get_by_role("heading", name="Your plan: Pro")).to_be_visible()
    card = page.get_by_role("region", name="Payment method")
    expect(card).to_contain_text("Visa ending in 4242")
    browsing.snap(page, "04-on-pro")


def upgrade_to_studio(page: Page, browsing: Browsing) -> None:
    page.get_by_role("button", name="Upgrade to Studio").click()
    expect(page.get_by_text("You're on Studio now.")).to_be_visible()
    expect(page.get_by_role("heading", name="Your plan: Studio")).to_be_visible()
    assert Subscription.objects.get().plan.code == "studio"
    browsing.snap(page, "05-on-studio")


def plan_and_cancel_a_downgrade(page: Page, browsing: Browsing) -> None:
    page.get_by_role("button", name="Move to Pro").click()
    expect(page.get_by_text(re.compile(r"Your plan changes to Pro on \d"))).to_be_visible()
    expect(page.get_by_text("Planned change:")).to_be_visible()
    snap_everywhere(page, browsing, "06-downgrade-planned")
    page.get_by_role("button", name="Cancel this change").click()
    expect(page.get_by_text("Planned change cancelled: you stay on Studio.")).to_be_visible()
    expect(page.get_by_text("Planned change:")).to_have_count(0)
    browsing.snap(page, "07-downgrade-cancelled")


def change_the_card(page: Page, browsing: Browsing) -> None:
    page.get_by_role("button", name="Manage payment method").click()
    expect(page.get_by_role("heading", name="Test customer portal")).to_be_visible()
    page.get_by_role("button", name="Update card").click()
    expect(page).to_have_url(PLAN_URL)
    card = page.get_by_role("region", name="Payment method")
    expect(card).to_contain_text("Mastercard ending in 4444")
    browsing.snap(page, "08-new-card")


def stripe_sends_the_webhooks(browsing: Browsing, stripe: FakeStripe) -> None:
    """POST the events the checkout made, signed, to the live server, as Stripe does."""
    events = stripe.billing.take_events()
    for event in events:
        body, signature = signed(event)
        request = urllib.request.Request(
            browsing.url("/billing/webhooks/stripe/"),
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    processed = StripeEvent.objects.filter(event_id__in=[e["id"] for e in events])
    assert set(processed.values_list("status", flat=True)) == {"done"}


# --- screenshots -------------------------------------------------------------------------------


def switch_scheme(page: Page, scheme: str) -> None:
    with page.expect_response(re.compile(r"/preferences/color-scheme/")) as saved:
        page.get_by_role("banner").get_by_role("button", name=scheme, exact=True).click()
    assert saved.value.status == 204
    expect(page.locator("html")).to_have_attribute("data-theme", scheme.lower())
    page.evaluate("Promise.all(document.getAnimations().map((a) => a.finished))")


def snap_everywhere(page: Page, browsing: Browsing, step: str) -> None:
    """Screenshots in light and dark, and on a phone."""
    browsing.snap(page, f"{step}-light")
    switch_scheme(page, "Dark")
    browsing.snap(page, f"{step}-dark")
    switch_scheme(page, "Light")
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        browsing.snap(page, f"{step}-phone")
    finally:
        if size is not None:
            page.set_viewport_size(size)
