"""The Plan & billing page: what a teacher sees, and subscribing, changing and leaving a plan."""

import re
from datetime import timedelta
from typing import Any

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from billing.models import BillingCustomer, Invoice, Subscription
from billing.tests.plan_kit import PlanTestCase
from courses.tests.factories import CourseFactory
from tests.base import assert_constant_queries

PLAN = reverse("billing:plan")


class PlanPageTests(PlanTestCase):
    def test_a_teacher_on_free_sees_their_usage_and_the_plans(self) -> None:
        page = self.login(self.alice).get(PLAN)
        self.assertContains(page, "Your plan: Free")
        self.assertContains(page, "<meter", count=4)
        self.assertContains(page, "AI features aren&#x27;t available on this server yet")
        self.assertContains(page, "Choose Pro")
        self.assertContains(page, "Choose Studio")
        self.assertContains(page, "$29.00")  # USD by default
        self.assertContains(page, "No invoices yet.")
        assert re.search(r'href="/billing/plan/"\s+aria-current="page"', page.content.decode())

    def test_it_shows_prices_in_the_currency_of_the_teachers_courses(self) -> None:
        CourseFactory.create(teacher=self.alice, price_amount=5000, currency="GBP")
        page = self.login(self.alice).get(PLAN)
        self.assertContains(page, "£24.00")
        yearly = self.client.get(PLAN, {"interval": "year", "currency": "EUR"})
        self.assertContains(yearly, "€270.00")

    def test_a_currency_plans_arent_priced_in_is_refused_with_a_message(self) -> None:
        page = self.login(self.alice).get(PLAN, {"currency": "JPY", "interval": "week"})
        self.assertContains(page, "Plans aren&#x27;t priced in that currency.", status_code=400)
        self.assertContains(page, "Choose monthly or yearly.", status_code=400)

    def test_it_is_for_teachers_only(self) -> None:
        assert self.login(self.bob).get(PLAN).status_code == 404
        assert self.login(self.staff).get(PLAN).status_code == 404
        nav = self.login(self.bob).get(reverse("billing:purchases"))
        self.assertNotContains(nav, "Plan &amp; billing")

    def test_without_stripe_it_says_paid_plans_are_off(self) -> None:
        with override_settings(STRIPE_SECRET_KEY=""):
            page = self.login(self.alice).get(PLAN)
        self.assertContains(page, "Paid plans aren't available on this server")
        self.assertNotContains(page, "Choose Pro")


class SubscribingTests(PlanTestCase):
    def subscribe_through_pages(self, price_pk: int) -> Any:
        response = self.login(self.alice).post(
            reverse("billing:plan_subscribe"), {"price": price_pk}
        )
        assert response.status_code == 302
        return response

    def test_a_teacher_subscribes_through_checkout_and_comes_back_to_their_plan(self) -> None:
        pro = self.price("pro", "month", "EUR")
        response = self.subscribe_through_pages(pro.pk)
        session_id = response["Location"].rsplit("/", 1)[1]
        assert response["Location"] == f"{self.stripe.url}/pay/{session_id}"
        call = next(c for c in self.stripe.calls if c["path"] == "/v1/checkout/sessions")
        customer = BillingCustomer.objects.get(teacher=self.alice)
        assert call["params"]["mode"] == "subscription"
        assert call["params"]["customer"] == customer.stripe_customer_id
        assert call["params"]["line_items"] == [{"price": pro.stripe_price_id, "quantity": "1"}]
        assert "Stripe-Account" not in call["headers"]  # the platform's own account
        assert call["headers"]["Idempotency-Key"].startswith(f"plan-checkout:{self.alice.pk}:")
        created = next(c for c in self.stripe.calls if c["path"] == "/v1/customers")
        assert created["headers"]["Idempotency-Key"] == f"billing-customer:{self.alice.pk}"

        self.stripe.billing.complete_checkout(self.stripe.sessions[session_id])
        back = self.client.get(reverse("billing:plan_return"), {"session_id": session_id})
        assert back["Location"] == PLAN
        page = self.client.get(PLAN)
        self.assertContains(page, "You&#x27;re on Pro. Thank you!")
        self.assertContains(page, "Your plan: Pro")
        self.assertContains(page, "Upgrade to Studio")
        self.assertContains(page, "Prices in EUR, your plan's currency.")

    def test_a_second_click_reopens_the_same_checkout_and_customer(self) -> None:
        pro = self.price("pro", "month", "EUR")
        first = self.subscribe_through_pages(pro.pk)
        second = self.subscribe_through_pages(pro.pk)
        assert first["Location"] == second["Location"]
        assert BillingCustomer.objects.count() == 1
        assert len(self.stripe.billing.customers) == 1

    def test_a_price_not_offered_is_refused_with_a_message(self) -> None:
        client = self.login(self.alice)
        for data in ({}, {"price": "nope"}, {"price": 999999}):
            response = client.post(reverse("billing:plan_subscribe"), data)
            self.assertContains(response, "Choose", status_code=400)
        assert not self.stripe.billing.customers

    def test_someone_elses_checkout_session_changes_nothing(self) -> None:
        self.subscribe(self.carol, self.price("pro", "month", "EUR"))
        carols = next(iter(self.stripe.sessions))
        BillingCustomer.objects.create(teacher=self.alice, stripe_customer_id="cus_alice_own")
        back = self.login(self.alice).get(reverse("billing:plan_return"), {"session_id": carols})
        assert back.status_code == 302
        assert not Subscription.objects.filter(teacher=self.alice).exists()

    def test_subscribing_twice_is_refused(self) -> None:
        self.subscribe(self.alice, self.price("pro", "month", "EUR"))
        response = self.login(self.alice).post(
            reverse("billing:plan_subscribe"), {"price": self.price("studio", "month", "EUR").pk}
        )
        self.assertContains(response, "You have a plan already", status_code=400)


class ChangingPlanTests(PlanTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.subscribe(self.alice, self.price("pro", "month", "EUR"))
        self.clock.shift(timedelta(hours=1))
        self.login(self.alice)

    def change(self, code: str, interval: str = "month", currency: str = "EUR") -> Any:
        price = self.price(code, interval, currency)
        return self.client.post(reverse("billing:plan_change"), {"price": price.pk}, follow=True)

    def test_an_upgrade_applies_now(self) -> None:
        page = self.change("studio")
        self.assertContains(page, "You&#x27;re on Studio now.")
        self.assertContains(page, "Your plan: Studio")
        update = next(
            c
            for c in self.stripe.calls
            if c["path"].startswith("/v1/subscriptions/sub_") and c["method"] == "POST"
        )
        assert update["params"]["proration_behavior"] == "always_invoice"

    def test_a_downgrade_is_planned_for_the_period_end_and_can_be_cancelled(self) -> None:
        self.change("studio")
        page = self.change("pro")
        self.assertContains(page, "Your plan changes to Pro on")
        self.assertContains(page, "Planned change:")
        self.assertContains(page, "Your plan: Studio")
        subscription = Subscription.objects.get()
        assert subscription.pending_change_at == subscription.current_period_end
        again = self.change("pro")
        self.assertContains(again, "This change is planned already.", status_code=400)
        cancelled = self.client.post(reverse("billing:plan_cancel_change"), follow=True)
        self.assertContains(cancelled, "Planned change cancelled: you stay on Studio.")
        self.assertNotContains(cancelled, "Planned change:")
        nothing = self.client.post(reverse("billing:plan_cancel_change"))
        self.assertContains(nothing, "There&#x27;s no planned change to cancel.", status_code=400)

    def test_yearly_billing_waits_for_the_period_end(self) -> None:
        page = self.change("pro", "year")
        self.assertContains(page, "Your plan changes to Pro on")
        assert Subscription.objects.get().pending_price == self.price("pro", "year")

    def test_the_same_plan_or_another_currency_is_refused(self) -> None:
        self.assertContains(
            self.change("pro"), "You&#x27;re on this plan already.", status_code=400
        )
        other = self.change("studio", "month", "USD")
        self.assertContains(other, "Your plan is billed in EUR", status_code=400)
        self.assertContains(
            self.client.post(reverse("billing:plan_change")), "Choose a plan.", status_code=400
        )

    def test_a_cancelled_plan_is_renewed_before_it_can_change(self) -> None:
        self.stripe.billing.cancel_at_period_end(self.stripe_subscription(self.alice)["id"])
        self.client.get(reverse("billing:plan_return"))  # back from the portal
        page = self.client.get(PLAN)
        self.assertContains(page, "Renew plan")
        self.assertContains(page, "Renew your plan first to change it.", count=1)
        self.assertNotContains(page, "Upgrade to Studio")
        response = self.change("studio")
        self.assertContains(response, "Your plan is cancelled: renew it", status_code=400)

    def test_a_teacher_without_a_plan_cant_change_it(self) -> None:
        self.login(self.carol)
        response = self.change("studio")
        self.assertContains(response, "You&#x27;re on the Free plan", status_code=400)


class PortalTests(PlanTestCase):
    def test_manage_payment_method_opens_the_portal_on_that_task(self) -> None:
        self.subscribe(self.alice, self.price("pro", "month", "EUR"))
        response = self.login(self.alice).post(
            reverse("billing:plan_portal"), {"flow": "payment_method"}
        )
        assert response["Location"].startswith(f"{self.stripe.url}/portal/bps_")
        call = next(c for c in self.stripe.calls if c["path"] == "/v1/billing_portal/sessions")
        assert call["params"]["flow_data"] == {"type": "payment_method_update"}
        assert call["params"]["return_url"] == "http://testserver/billing/plan/return/"

    def test_cancel_opens_the_portals_cancellation_of_the_plan(self) -> None:
        subscription = self.subscribe(self.alice, self.price("pro", "month", "EUR"))
        self.login(self.alice).post(reverse("billing:plan_portal"), {"flow": "cancel"})
        call = next(c for c in self.stripe.calls if c["path"] == "/v1/billing_portal/sessions")
        assert call["params"]["flow_data"] == {
            "type": "subscription_cancel",
            "subscription_cancel": {"subscription": subscription.stripe_subscription_id},
        }

    def test_back_from_the_portal_the_page_shows_the_new_card_and_cancellation(self) -> None:
        self.subscribe(self.alice, self.price("pro", "month", "EUR"))
        response = self.login(self.alice).post(reverse("billing:plan_portal"), {"flow": "manage"})
        session_id = response["Location"].rsplit("/", 1)[1]
        self.stripe.billing.portal_action(session_id, "card")
        self.stripe.billing.portal_action(session_id, "cancel")
        self.client.get(reverse("billing:plan_return"))
        page = self.client.get(PLAN)
        self.assertContains(page, "<strong>Mastercard</strong> ending in 4444", html=False)
        self.assertContains(page, "Your plan is cancelled: you keep it until")

    def test_the_portal_needs_a_customer_and_a_known_task(self) -> None:
        client = self.login(self.alice)
        response = client.post(reverse("billing:plan_portal"), {"flow": "manage"})
        self.assertContains(response, "You have no billing account yet", status_code=400)
        response = client.post(reverse("billing:plan_portal"), {"flow": "everything"})
        self.assertContains(response, "Say what to open", status_code=400)


class BannerTests(PlanTestCase):
    def test_a_failed_payment_shows_a_banner_on_the_plan_page_and_the_dashboard(self) -> None:
        subscription = self.subscribe(self.alice, self.price("pro", "month", "EUR"))
        Subscription.objects.filter(pk=subscription.pk).update(
            status="past_due", payment_failed_at=timezone.now()
        )
        client = self.login(self.alice)
        self.assertContains(client.get(PLAN), "Your last payment for Pro didn't go through")
        dashboard = client.get(reverse("dashboard"))
        self.assertContains(dashboard, "Your last payment for your plan didn&#x27;t go through")
        self.assertContains(dashboard, 'href="/billing/plan/"', html=False)

    def test_an_ended_plan_says_so_and_the_teacher_is_on_free(self) -> None:
        subscription = self.subscribe(self.alice, self.price("pro", "month", "EUR"))
        Subscription.objects.filter(pk=subscription.pk).update(
            status="canceled", ended_at=timezone.now()
        )
        page = self.login(self.alice).get(PLAN)
        self.assertContains(page, "Your plan: Free")
        self.assertContains(page, "Your Pro plan ended on")


class InvoiceListTests(PlanTestCase):
    def test_the_invoice_list_costs_the_same_queries_for_10_and_1000_invoices(self) -> None:
        subscription = self.subscribe(self.alice, self.price("pro", "month", "EUR"))
        made = Invoice.objects.count()

        def make_rows(n: int) -> None:
            nonlocal made
            Invoice.objects.bulk_create(
                Invoice(
                    teacher=self.alice,
                    subscription=subscription,
                    stripe_invoice_id=f"in_bulk_{made + i}",
                    number=f"BULK-{made + i:05d}",
                    status="paid",
                    currency="EUR",
                    amount_due=2700,
                    amount_paid=2700,
                    hosted_invoice_url="https://invoice.stripe.com/i/x",
                    invoice_pdf="https://pay.stripe.com/invoice/x/pdf",
                    issued_at=timezone.now() - timedelta(days=made + i),
                )
                for i in range(n)
            )
            made += n

        self.login(self.alice)
        assert_constant_queries(self, PLAN, make_rows, budget=15)
        page = self.client.get(PLAN)
        self.assertContains(page, "Older ones are in Stripe's billing portal.")
