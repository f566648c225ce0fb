"""A teacher's own plan in a browser: subscribe through Checkout, upgrade, plan a downgrade.

alice opens Plan & billing from her dashboard, sees her Free plan's usage, chooses Pro and
pays on the stand-in's Checkout page, which sends her back to her plan. She upgrades to
Studio (at once), plans a move back to Pro for the end of her period and cancels that
plan again, then changes her card in the stand-in's Customer Portal. Each page is right
from Lectern's own reads of Stripe after each step; the checkout's webhooks, posted once,
bring her first invoice.
"""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from billing.models import Subscription
from billing.tests.fake_stripe import FakeStripe
from tests.base import PASSWORD
from tests.browser.kit import Browsing, snap_everywhere, stripe_sends_the_webhooks

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("plans_synced"),
]

LogIn = Callable[[Page, str, str, str], None]
PLAN_URL = re.compile(r"/billing/plan/$")


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
