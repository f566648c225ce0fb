"""Staff see the webhook log and can process an event again; purchases are theirs to read."""

from django.urls import reverse

from billing.models import StripeEvent
from billing.tests.fake_stripe import FakeStripe, post_event
from tests.base import LecternTestCase


class EventLogTests(LecternTestCase):
    def test_staff_replay_a_failed_event(self) -> None:
        event = FakeStripe().event("transfer.created", {"id": "tr_1"})
        with self.captureOnCommitCallbacks(execute=True):
            post_event(self.client, event)
        StripeEvent.objects.update(status=StripeEvent.Status.FAILED, last_error="boom")
        self.login(self.staff)
        changelist = reverse("admin:billing_stripeevent_changelist")
        page = self.client.get(changelist, {"status__exact": "failed"})
        self.assertContains(page, event["id"])
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                changelist,
                {"action": "replay", "_selected_action": [StripeEvent.objects.get().pk]},
            )
        assert response.status_code == 302
        row = StripeEvent.objects.get()
        assert (row.status, row.last_error) == ("done", "")

    def test_purchases_cannot_be_added_by_hand(self) -> None:
        self.login(self.staff)
        assert self.client.get(reverse("admin:billing_purchase_add")).status_code == 403
        assert self.client.get(reverse("admin:billing_purchase_changelist")).status_code == 200
