"""The plan catalogue: a teacher's plan and fee, and the catalogue synced with Stripe."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing.models import ActiveStudent, Plan, PlanPrice, Subscription
from billing.services import plans
from billing.services.pricing import platform_fee
from billing.tests.fake_stripe import serve_for
from tests.base import LecternTestCase, StudentFactory


def _subscription(teacher: User, code: str, status: str) -> Subscription:
    plan = Plan.objects.get(code=code)
    return Subscription.objects.create(
        teacher=teacher,
        stripe_subscription_id=f"sub_{code}_{status}",
        plan=plan,
        interval="month",
        currency="EUR",
        status=status,
    )


class PlanOfTests(LecternTestCase):
    def test_a_teacher_without_a_subscription_is_on_free(self) -> None:
        assert plans.plan_of(self.alice).code == "free"

    def test_a_live_subscription_sets_the_plan(self) -> None:
        for status in ("trialing", "active", "past_due"):
            Subscription.objects.all().delete()
            _subscription(self.alice, "pro", status)
            assert plans.plan_of(self.alice).code == "pro", status

    def test_an_ended_or_unpaid_subscription_falls_back_to_free(self) -> None:
        for status in ("canceled", "unpaid", "incomplete", "incomplete_expired", "paused"):
            Subscription.objects.all().delete()
            _subscription(self.alice, "studio", status)
            assert plans.plan_of(self.alice).code == "free", status

    def test_a_lost_free_plan_is_made_again_with_its_defaults(self) -> None:
        Plan.objects.filter(is_free=True).delete()
        free = plans.plan_of(self.alice)
        assert (free.code, free.is_free, free.max_active_students) == ("free", True, 10)
        assert free.platform_fee_percent == Decimal("5")
        assert plans.free_plan() == free

    def test_the_more_generous_of_two_live_plans_counts(self) -> None:
        _subscription(self.alice, "studio", "active")
        _subscription(self.alice, "pro", "active")
        assert plans.plan_of(self.alice).code == "studio"
        assert plans.plan_of(self.carol).code == "free"


class FeeTests(LecternTestCase):
    def test_the_fee_is_the_plans_percent_rounded_half_up(self) -> None:
        free, pro, studio = (Plan.objects.get(code=c) for c in ("free", "pro", "studio"))
        assert platform_fee(14900, free) == 745
        assert platform_fee(14900, pro) == 447
        assert platform_fee(14900, studio) == 149
        assert platform_fee(150, studio) == 2  # 1.5 → 2
        assert platform_fee(149, studio) == 1  # 1.49 → 1

    def test_a_percent_with_decimals_counts_to_the_minor_unit(self) -> None:
        plan = Plan(platform_fee_percent=Decimal("2.5"))
        assert platform_fee(1000, plan) == 25
        assert platform_fee(1020, plan) == 26  # 25.5 → 26
        assert platform_fee(0, plan) == 0

    def test_a_sale_takes_the_fee_of_the_teachers_plan(self) -> None:
        _subscription(self.alice, "studio", "active")
        assert platform_fee(10000, plans.plan_of(self.alice)) == 100
        assert platform_fee(10000, plans.plan_of(self.carol)) == 500


class UsageTests(LecternTestCase):
    def test_active_students_count_the_last_30_days_only(self) -> None:
        now = timezone.now()
        for days in (0, 29, 31):
            ActiveStudent.objects.create(
                teacher=self.alice,
                student=StudentFactory.create(),
                last_paid_at=now - timedelta(days=days),
            )
        usage = {u.key: u for u in plans.usage_of(self.alice, plans.plan_of(self.alice))}
        assert (usage["students"].used, usage["students"].limit) == (2, 10)
        assert (usage["ai"].used, usage["live"].used) == (0, 0)
        assert usage["storage"].limit == 1024 * 1024 * 1024

    def test_near_and_over_the_limit(self) -> None:
        near = plans.Usage("students", "Active students", 8, 10)
        over = plans.Usage("students", "Active students", 11, 10)
        unlimited = plans.Usage("students", "Active students", 500, None)
        assert (near.near, near.over, near.percent) == (True, False, 80)
        assert (over.near, over.over, over.percent) == (False, True, 100)
        assert (unlimited.near, unlimited.over, unlimited.percent) == (False, False, 0)


class SyncPlansTests(LecternTestCase):
    def setUp(self) -> None:
        self.stripe = serve_for(self)

    def sync(self) -> str:
        out = StringIO()
        call_command("sync_plans", stdout=out)
        return out.getvalue()

    def creates(self) -> list[str]:
        return [
            c["path"]
            for c in self.stripe.calls
            if c["method"] == "POST" and c["path"] in ("/v1/products", "/v1/prices")
        ]

    def test_it_creates_a_product_per_paid_plan_and_a_price_per_price(self) -> None:
        output = self.sync()
        products = self.stripe.billing.products
        assert sorted(p["name"] for p in products.values()) == ["Pro", "Studio"]
        for plan in Plan.objects.filter(is_free=False):
            assert products[plan.stripe_product_id]["metadata"] == {"plan_code": plan.code}
        assert Plan.objects.get(is_free=True).stripe_product_id == ""
        for price in PlanPrice.objects.select_related("plan"):
            at_stripe = self.stripe.billing.prices[price.stripe_price_id]
            assert at_stripe["unit_amount"] == price.amount
            assert at_stripe["currency"] == price.currency.lower()
            assert at_stripe["recurring"]["interval"] == price.interval
            assert at_stripe["product"] == price.plan.stripe_product_id
        assert len(self.creates()) == 2 + 12
        assert "The plans are in sync with Stripe." in output
        keys = [c["headers"]["Idempotency-Key"] for c in self.stripe.calls if c["method"] == "POST"]
        assert all(key.startswith(("plan-product:", "plan-price:")) for key in keys)

    def test_a_second_run_creates_nothing(self) -> None:
        self.sync()
        before = len(self.creates())
        ids = sorted(PlanPrice.objects.values_list("stripe_price_id", flat=True))
        assert "Nothing to change." in self.sync()
        assert len(self.creates()) == before
        assert sorted(PlanPrice.objects.values_list("stripe_price_id", flat=True)) == ids

    def test_a_changed_amount_gets_a_new_price_and_the_old_one_is_deactivated(self) -> None:
        self.sync()
        price = PlanPrice.objects.get(plan__code="pro", interval="month", currency="EUR")
        old = price.stripe_price_id
        PlanPrice.objects.filter(pk=price.pk).update(amount=2900)
        output = self.sync()
        price.refresh_from_db()
        assert price.stripe_price_id != old
        assert self.stripe.billing.prices[price.stripe_price_id]["unit_amount"] == 2900
        assert self.stripe.billing.prices[old]["active"] is False
        assert f"Replaced {old}" in output
        assert "Nothing to change." in self.sync()

    def test_a_price_no_longer_offered_is_deactivated(self) -> None:
        self.sync()
        price = PlanPrice.objects.get(plan__code="studio", interval="year", currency="GBP")
        PlanPrice.objects.filter(pk=price.pk).update(active=False)
        self.sync()
        assert self.stripe.billing.prices[price.stripe_price_id]["active"] is False

    def test_a_renamed_plan_is_renamed_at_stripe(self) -> None:
        self.sync()
        Plan.objects.filter(code="pro").update(name="Pro+")
        self.sync()
        plan = Plan.objects.get(code="pro")
        assert self.stripe.billing.products[plan.stripe_product_id]["name"] == "Pro+"

    def test_without_stripe_it_says_so(self) -> None:
        with override_settings(STRIPE_SECRET_KEY=""), pytest.raises(CommandError) as raised:
            self.sync()
        assert "STRIPE_SECRET_KEY" in str(raised.value)

    def test_stripe_refusing_stops_with_its_words(self) -> None:
        self.stripe.failing["/v1/products"] = (500, {"error": {"message": "Down"}})
        with pytest.raises(CommandError) as raised:
            self.sync()
        assert "Run the command again" in str(raised.value)


class PlanAdminTests(LecternTestCase):
    def setUp(self) -> None:
        self.stripe = serve_for(self)
        self.login(self.staff)

    def test_staff_edit_a_plan_with_its_prices(self) -> None:
        plan = Plan.objects.get(code="pro")
        page = self.client.get(reverse("admin:billing_plan_change", args=[plan.pk]))
        self.assertContains(page, "prices-TOTAL_FORMS")
        self.assertContains(page, "platform_fee_percent")

    def test_the_sync_action_creates_the_stripe_catalogue(self) -> None:
        changelist = reverse("admin:billing_plan_changelist")
        response = self.client.post(
            changelist,
            {"action": "sync_with_stripe", "_selected_action": [Plan.objects.get(code="pro").pk]},
            follow=True,
        )
        self.assertContains(response, "The plans are in sync with Stripe.")
        assert not PlanPrice.objects.filter(stripe_price_id="").exists()

    def test_plans_are_never_deleted_only_no_longer_offered(self) -> None:
        for plan in Plan.objects.all():
            response = self.client.get(reverse("admin:billing_plan_delete", args=[plan.pk]))
            assert response.status_code == 403

    def test_the_mirrors_are_read_only_and_searchable(self) -> None:
        _subscription(self.alice, "pro", "active")
        for model in ("subscription", "invoice", "billingcustomer", "paymentmethod"):
            page = self.client.get(reverse(f"admin:billing_{model}_changelist"), {"q": "alice"})
            assert page.status_code == 200, model
            assert self.client.get(reverse(f"admin:billing_{model}_add")).status_code == 403
        page = self.client.get(reverse("admin:billing_subscription_changelist"), {"q": "alice"})
        self.assertContains(page, "sub_pro_active")
