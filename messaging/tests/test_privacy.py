"""Privacy: every model declared; export holds one's own words; erasure and course deletion."""

from django.apps import apps

from courses.services import courses as course_services
from files.models import StoredFile
from files.tests import files_kit as kit
from messaging import services
from messaging.models import Attachment, Conversation, Message, Participant, Reaction
from messaging.tests.kit import MessagingTestCase
from privacy.registry import registry


def entry(model):
    return registry.entries[model._meta.label]


class PrivacyTests(kit.TemporaryStorageMixin, MessagingTestCase):
    def test_every_messaging_model_is_registered(self) -> None:
        for model in apps.get_app_config("messaging").get_models():
            assert registry.is_declared(model), model

    def test_the_export_holds_my_messages_and_conversation_metadata_only(self) -> None:
        direct = self.direct(self.bob, self.alice)
        self.say(self.bob, "My own words", direct)
        self.say(self.alice, "The teacher's private reply", direct)
        self.say(self.erin, "Erin in the channel")
        services.toggle_reaction(
            message=Message.objects.get(body="Erin in the channel"), user=self.bob, emoji="👍"
        )
        exported = {
            model._meta.label: list(entry(model).exporter(self.bob))
            for model in (Conversation, Message, Reaction, Participant, Attachment)
        }
        text = repr(exported)
        assert "My own words" in text
        assert "The teacher's private reply" not in text
        assert "Erin in the channel" not in text
        kinds = {c["kind"] for c in exported["messaging.Conversation"]}
        assert kinds == {"direct", "channel"}
        channel = next(c for c in exported["messaging.Conversation"] if c["kind"] == "channel")
        assert channel["course"] == "Studio"
        assert exported["messaging.Reaction"][0]["emoji"] == "👍"

    def test_erasing_an_account_removes_their_messages_files_and_direct_conversations(self) -> None:
        direct = self.direct(self.bob, self.alice)
        self.say(self.alice, "Hi Bob", direct)
        with self.captureOnCommitCallbacks(execute=True):
            services.post_message(
                conversation=self.channel,
                author=self.bob,
                body="with a file",
                uploads=[kit.pdf("mine.pdf")],
                notify=False,
            )
        kept = self.say(self.erin, "Erin stays")
        group = services.create_group(teacher=self.alice, course=self.course, students=[self.bob])
        self.say(self.alice, "Group message", group)
        with self.captureOnCommitCallbacks(execute=True):
            for model in (Conversation, Message, Attachment, Reaction, Participant):
                entry(model).eraser(self.bob)
        assert not Message.objects.filter(author=self.bob).exists()
        assert not Conversation.objects.filter(pk=direct.pk).exists()
        assert not Message.objects.filter(body="Hi Bob").exists()
        assert not StoredFile.objects.exists()
        assert self.stored_paths() == []
        assert Message.objects.filter(pk=kept.pk).exists()
        assert Conversation.objects.filter(pk=group.pk).exists()
        assert not Participant.objects.filter(user=self.bob).exists()

    def test_deleting_a_course_deletes_its_conversations(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            services.post_message(
                conversation=self.channel,
                author=self.alice,
                body="syllabus",
                uploads=[kit.pdf("syllabus.pdf")],
                notify=False,
            )
        group = services.create_group(teacher=self.alice, course=self.course, students=[self.bob])
        self.say(self.bob, "in the group", group)
        direct = self.direct(self.bob, self.erin)
        self.say(self.bob, "between classmates", direct)
        with self.captureOnCommitCallbacks(execute=True):
            course_services.delete_course(course=self.course)
        assert list(Conversation.objects.all()) == [direct]
        assert list(Message.objects.values_list("body", flat=True)) == ["between classmates"]
        assert not StoredFile.objects.exists()
        assert self.stored_paths() == []

    def test_deleting_a_user_row_removes_their_messages(self) -> None:
        self.say(self.erin, "soon gone")
        self.erin.delete()
        assert not Message.objects.exists()
