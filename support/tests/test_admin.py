"""Staff handle requests in the admin: find them, read them, reply, close, reopen."""

from datetime import UTC, datetime
from typing import Any

import time_machine
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from support import services
from support.models import SupportReply, SupportRequest
from tests.base import LecternTestCase, assert_constant_queries

CHANGELIST = reverse("admin:support_supportrequest_changelist")
SUPPORT = "help@lectern.example"
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def change_url(request: SupportRequest) -> str:
    return reverse("admin:support_supportrequest_change", args=[request.pk])


def submit(**changes: str) -> SupportRequest:
    fields: dict[str, Any] = {
        "name": "Zoë Marsh",
        "email": "zoe@example.org",
        "category": "billing",
        "message": "I was charged twice for the pottery course.",
        **changes,
    }
    return services.submit_request(**fields)


@time_machine.travel(NOW, tick=False)
@override_settings(SUPPORT_EMAIL=SUPPORT)
class SupportAdminTests(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.request = submit()
        mail.outbox.clear()
        self.login(self.staff)

    def test_it_lists_requests_with_filters_and_search(self) -> None:
        submit(name="Ulf", email="ulf@example.org", category="privacy", message="Delete my data.")

        listed = self.client.get(
            CHANGELIST, {"status__exact": "open", "category__exact": "billing"}
        )
        found = self.client.get(CHANGELIST, {"q": "delete my"})

        assert list(listed.context["cl"].result_list) == [self.request]
        assert [r.name for r in found.context["cl"].result_list] == ["Ulf"]

    def test_it_shows_the_message(self) -> None:
        response = self.client.get(change_url(self.request))

        self.assertContains(response, "I was charged twice for the pottery course.")
        self.assertContains(response, "zoe@example.org")
        self.assertContains(response, 'name="reply"')

    def test_it_lets_no_one_add_a_request_by_hand(self) -> None:
        response = self.client.get(reverse("admin:support_supportrequest_add"))

        assert response.status_code == 403

    def test_it_emails_the_reply_and_marks_the_request_answered(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                change_url(self.request), {"reply": "Refunded the second charge.\nSorry!"}
            )

        assert response.status_code == 302
        self.request.refresh_from_db()
        assert self.request.status == SupportRequest.Status.ANSWERED
        assert self.request.answered_at == NOW
        reply = SupportReply.objects.get()
        assert (reply.request, reply.staff, reply.text) == (
            self.request,
            self.staff,
            "Refunded the second charge.\nSorry!",
        )
        [email] = mail.outbox
        assert email.to == ["zoe@example.org"]
        assert str(email.message()["Reply-To"]) == SUPPORT
        assert f"#{self.request.pk}" in email.subject
        assert "Refunded the second charge." in email.body
        assert "I was charged twice for the pottery course." in email.body  # quoted

    def test_it_keeps_replies_with_the_request(self) -> None:
        services.reply(support_request=self.request, staff=self.staff, text="First answer.")
        services.reply(support_request=self.request, staff=self.staff, text="Second answer.")

        response = self.client.get(change_url(self.request))

        self.assertContains(response, "First answer.")
        self.assertContains(response, "Second answer.")
        assert self.request.replies.count() == 2

    def test_it_sends_nothing_when_the_reply_is_empty(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(change_url(self.request), {"reply": "   "})

        self.request.refresh_from_db()
        assert self.request.status == SupportRequest.Status.OPEN
        assert not SupportReply.objects.exists()
        assert not mail.outbox

    def test_it_replies_and_closes_in_one_save(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(change_url(self.request), {"reply": "Done.", "close": "on"})

        self.request.refresh_from_db()
        assert self.request.status == SupportRequest.Status.CLOSED
        assert self.request.closed_at is not None
        assert len(mail.outbox) == 1

    def test_it_closes_and_reopens_selected_requests(self) -> None:
        other = submit(email="ulf@example.org")

        self.client.post(
            CHANGELIST,
            {"action": "close_requests", "_selected_action": [self.request.pk, other.pk]},
        )
        self.request.refresh_from_db()
        assert (self.request.status, self.request.closed_at) == ("closed", NOW)

        self.client.post(
            CHANGELIST, {"action": "reopen_requests", "_selected_action": [self.request.pk]}
        )
        self.request.refresh_from_db()
        other.refresh_from_db()
        assert (self.request.status, self.request.closed_at) == ("open", None)
        assert other.status == "closed"
        assert not mail.outbox

    def test_it_refuses_people_who_are_not_staff(self) -> None:
        response = self.new_client(self.alice).get(change_url(self.request))

        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]

    def test_it_lists_many_requests_with_a_fixed_number_of_queries(self) -> None:
        def make_rows(n: int) -> None:
            SupportRequest.objects.bulk_create(
                SupportRequest(user=self.bob, name="Bob", email="bob@example.org", message="Hi?")
                for _ in range(n)
            )

        assert_constant_queries(self, CHANGELIST, make_rows)
