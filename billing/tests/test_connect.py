"""A teacher connects their own Stripe account, and Lectern mirrors where it stands."""

from django.test import override_settings
from django.urls import reverse

from billing.models import ConnectAccount
from billing.tests.fake_stripe import post_event, serve_for
from courses.tests.factories import CourseFactory
from tests.base import LecternTestCase


class ConnectTests(LecternTestCase):
    def setUp(self) -> None:
        self.stripe = serve_for(self)
        self.teacher = self.login(self.alice)

    def start(self) -> str:
        response = self.teacher.post(reverse("billing:connect"), {"country": "FR"})
        assert response.status_code == 302
        return response["Location"]

    def test_it_opens_an_express_account_once_and_sends_the_teacher_to_onboarding(self) -> None:
        location = self.start()
        account = ConnectAccount.objects.get(teacher=self.alice)
        assert location.startswith(f"{self.stripe.url}/onboarding/{account.stripe_account_id}")
        assert "billing/connect/return" in location
        assert "billing/connect/refresh" in location
        created = next(c for c in self.stripe.calls if c["path"] == "/v1/accounts")
        assert created["params"]["type"] == "express"
        assert created["params"]["country"] == "FR"
        assert created["headers"]["Idempotency-Key"] == f"connect-account:{self.alice.pk}"
        self.start()  # a second press continues the same account
        assert ConnectAccount.objects.count() == 1
        assert len([c for c in self.stripe.calls if c["path"] == "/v1/accounts"]) == 1

    def test_it_says_in_plain_words_what_stripe_still_needs(self) -> None:
        self.start()
        page = self.teacher.get(reverse("billing:connect"))
        self.assertContains(page, "Finish setting up Stripe: 2 details needed.")
        dashboard = self.teacher.get(reverse("dashboard"))
        self.assertContains(dashboard, "Finish setting up Stripe: 2 details needed.")

    def test_coming_back_from_onboarding_refreshes_the_state_and_opens_sales(self) -> None:
        self.start()
        account = ConnectAccount.objects.get()
        self.stripe.enable(account.stripe_account_id)
        response = self.teacher.get(reverse("billing:connect_return"), follow=True)
        self.assertContains(response, "Ready to sell")
        account.refresh_from_db()
        assert (account.charges_enabled, account.payouts_enabled) == (True, True)
        CourseFactory.create(teacher=self.alice, slug="paid", price_amount=2000)
        storefront = self.new_client(self.bob).get("/c/paid/")
        self.assertContains(storefront, "Buy this course")

    def test_an_expired_onboarding_link_is_made_again(self) -> None:
        self.start()
        response = self.teacher.get(reverse("billing:connect_refresh"))
        assert response["Location"].startswith(f"{self.stripe.url}/onboarding/")
        assert len([c for c in self.stripe.calls if c["path"] == "/v1/account_links"]) == 2

    def test_the_express_dashboard_opens_with_a_login_link(self) -> None:
        self.start()
        response = self.teacher.post(reverse("billing:connect_dashboard"))
        assert response["Location"].startswith(f"{self.stripe.url}/express/acct_")

    def test_account_updated_events_keep_the_mirror_current(self) -> None:
        self.start()
        account = ConnectAccount.objects.get()
        enabled = self.stripe.enable(account.stripe_account_id)
        event = self.stripe.event("account.updated", enabled, account=account.stripe_account_id)
        with self.captureOnCommitCallbacks(execute=True):
            assert post_event(self.client, event, connect=True).status_code == 200
        account.refresh_from_db()
        assert account.can_sell

    def test_a_country_stripe_does_not_serve_is_refused(self) -> None:
        response = self.teacher.post(reverse("billing:connect"), {"country": "KP"})
        assert response.status_code == 400
        assert not ConnectAccount.objects.exists()

    def test_students_have_no_connect_page(self) -> None:
        assert self.new_client(self.bob).get(reverse("billing:connect")).status_code == 404

    @override_settings(STRIPE_SECRET_KEY="")
    def test_without_keys_payments_are_visibly_off(self) -> None:
        page = self.teacher.get(reverse("billing:connect"))
        self.assertContains(page, "Payments aren't set up on this server")
        dashboard = self.teacher.get(reverse("dashboard"))
        self.assertContains(dashboard, "Payments aren")
