"""The outbox admin: staff see what waits, what was sent and what failed, and retry it."""

from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from outbox import services
from outbox.models import OutboundEmail
from outbox.tests.kit import message
from tests.base import LecternTestCase, UserFactory, assert_constant_queries

State = OutboundEmail.State
CHANGELIST = reverse("admin:outbox_outboundemail_changelist")


def queued(key: str, state: str = State.PENDING, **fields: object) -> OutboundEmail:
    """Queue an email whose task never ran, then put it in `state`."""
    email = services.enqueue_email(
        key=key, message=message(subject="Reset your password", body="Choose one: /reset/SECRET/")
    )
    assert email is not None
    OutboundEmail.objects.filter(pk=email.pk).update(state=state, **fields)
    email.refresh_from_db()
    return email


class OutboxAdminTests(LecternTestCase):
    def setUp(self) -> None:
        self.login(self.staff)

    def retry(self, *emails: OutboundEmail):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(
                CHANGELIST,
                {"action": "retry_now", "_selected_action": [e.pk for e in emails]},
                follow=True,
            )

    def test_it_lists_emails_with_their_state(self) -> None:
        queued("reset:1", State.FAILED, last_error="ConnectionRefusedError: refused")
        response = self.client.get(CHANGELIST, {"state__exact": State.FAILED})
        self.assertContains(response, "bob@example.com")
        self.assertContains(response, "Failed, gave up")

    def test_it_never_shows_what_an_email_says(self) -> None:
        email = queued("reset:1")
        change = reverse("admin:outbox_outboundemail_change", args=[email.pk])
        for url in (CHANGELIST, change):
            response = self.client.get(url)
            assert response.status_code == 200
            assert "SECRET" not in response.content.decode()

    def test_it_is_read_only(self) -> None:
        email = queued("reset:1")
        assert self.client.get(reverse("admin:outbox_outboundemail_add")).status_code == 403
        change = reverse("admin:outbox_outboundemail_change", args=[email.pk])
        self.client.post(change, {"to_email": "mallory@example.com"})
        email.refresh_from_db()
        assert email.to_email == "bob@example.com"
        delete = reverse("admin:outbox_outboundemail_delete", args=[email.pk])
        assert self.client.post(delete, {"post": "yes"}).status_code == 403

    def test_it_sends_a_failed_email_again_now(self) -> None:
        email = queued("reset:1", State.FAILED, attempts=12, finished_at=timezone.now())
        response = self.retry(email)
        self.assertContains(response, "1 email(s) queued to send again.")
        email.refresh_from_db()
        assert email.state == State.SENT
        assert email.attempts == 13
        assert len(mail.outbox) == 1

    def test_it_never_sends_a_sent_email_again(self) -> None:
        sent = queued("reset:1", State.SENT, finished_at=timezone.now())
        response = self.retry(sent)
        self.assertContains(response, "0 email(s) queued to send again.")
        self.assertContains(response, "1 already sent or being sent were left alone.")
        assert mail.outbox == []

    def test_it_lets_only_staff_who_may_change_emails_retry(self) -> None:
        email = queued("reset:1", State.FAILED)
        viewer = UserFactory.create(email="viewer@example.com", is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_outboundemail"))
        self.login(viewer)
        self.retry(email)
        email.refresh_from_db()
        assert email.state == State.FAILED
        assert mail.outbox == []

    def test_the_list_costs_the_same_for_many_emails(self) -> None:
        def make_rows(count: int) -> None:
            start = OutboundEmail.objects.count()
            OutboundEmail.objects.bulk_create(
                OutboundEmail(key=f"k{start + n}", to_email=f"p{n}@example.com", subject="Hi")
                for n in range(count)
            )

        assert_constant_queries(self, CHANGELIST, make_rows)
