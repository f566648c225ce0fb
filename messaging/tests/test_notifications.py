"""A message still unread some minutes later becomes a notification, once per catch-up."""

from django.core import mail
from django.test import override_settings

from messaging import services, tasks
from messaging.tests.kit import MessagingTestCase
from notifications.models import Notification


class NotificationTests(MessagingTestCase):
    def post(self, user, body: str, conversation=None):
        """Post as the page does; tasks run inline here, so the delayed check runs at commit."""
        with self.captureOnCommitCallbacks(execute=True):
            return services.post_message(
                conversation=conversation or self.channel, author=user, body=body
            )

    def test_unread_recipients_are_notified_but_not_the_author(self) -> None:
        message = self.post(self.alice, "Class is moved to **Thursday**")
        notes = Notification.objects.filter(kind="message")
        assert set(notes.values_list("recipient_id", flat=True)) == {self.bob.pk, self.erin.pk}
        note = notes.get(recipient=self.bob)
        assert note.title == "New messages in Studio"
        assert note.body == "Alice Archer: Class is moved to Thursday"
        assert note.url.endswith(f"/messages/{self.channel.pk}/#message-{message.pk}")
        assert note.course == self.course

    def test_someone_who_read_it_in_time_is_not_notified(self) -> None:
        message = services.post_message(conversation=self.channel, author=self.alice, body="hi")
        services.mark_read(conversation=self.channel, user=self.bob, up_to=message.pk)
        tasks.notify_unread_message_task.delay(message.pk)
        recipients = set(
            Notification.objects.filter(kind="message").values_list("recipient_id", flat=True)
        )
        assert recipients == {self.erin.pk}

    def test_more_messages_before_catching_up_add_no_notification(self) -> None:
        self.post(self.alice, "one")
        self.post(self.alice, "two")
        assert Notification.objects.filter(recipient=self.bob, kind="message").count() == 1
        self.page(self.bob)
        self.post(self.alice, "three")
        assert Notification.objects.filter(recipient=self.bob, kind="message").count() == 2

    def test_running_the_task_twice_notifies_once(self) -> None:
        message = services.post_message(conversation=self.channel, author=self.alice, body="hi")
        tasks.notify_unread_message_task.delay(message.pk)
        tasks.notify_unread_message_task.delay(message.pk)
        assert Notification.objects.filter(recipient=self.bob, kind="message").count() == 1

    def test_a_deleted_message_notifies_nobody(self) -> None:
        message = services.post_message(conversation=self.channel, author=self.alice, body="oops")
        services.delete_message(message=message, by=self.alice)
        assert tasks.notify_unread_message_task.delay(message.pk).get() == 0
        assert not Notification.objects.exists()

    def test_a_direct_message_names_its_sender(self) -> None:
        conversation = self.direct(self.bob, self.alice)
        self.post(self.bob, "Quick question", conversation)
        note = Notification.objects.get(kind="message")
        assert note.recipient == self.alice
        assert note.title == "Bob Baker sent you a message"
        assert note.course is None

    def test_it_can_send_an_email(self) -> None:
        mail.outbox.clear()
        self.post(self.alice, "Reminder")
        assert any("Studio" in m.subject or "Reminder" in m.body for m in mail.outbox)

    @override_settings(MESSAGE_NOTIFY_DELAY_MINUTES=0)
    def test_the_delay_comes_from_the_settings(self) -> None:
        self.post(self.alice, "now")
        assert Notification.objects.filter(kind="message").count() == 2
