"""Attachments: stored like course files, downloadable by the conversation's people only."""

from django.urls import reverse

from files.models import StoredFile
from files.tests import files_kit as kit
from messaging import services
from messaging.models import Attachment, Message
from messaging.tests.kit import MessagingTestCase


class AttachmentTests(kit.TemporaryStorageMixin, MessagingTestCase):
    def send(self, user, conversation, *files, body: str = "Here you go"):
        return self.new_client(user).post(
            self.url("post", conversation.pk), {"body": body, "attachments": list(files)}
        )

    def download(self, user, stored: StoredFile):
        return self.new_client(user).get(reverse("files:download", args=[stored.pk]))

    def test_a_file_sent_in_a_direct_message_is_for_the_two_people_only(self) -> None:
        conversation = self.direct(self.bob, self.alice)
        response = self.send(self.bob, conversation, kit.pdf("essay.pdf"))
        assert response.status_code == 302
        attachment = Attachment.objects.select_related("file").get()
        stored = attachment.file
        assert stored.original_name == "essay.pdf"
        assert stored.course is None
        assert self.download(self.bob, stored).status_code == 200
        assert self.download(self.alice, stored).status_code == 200
        for outsider in (self.erin, self.carol, self.dave, self.staff):
            assert self.download(outsider, stored).status_code == 404
        self.assertContains(self.page(self.alice, conversation), "essay.pdf")

    def test_a_file_in_the_channel_is_for_its_members(self) -> None:
        self.send(self.alice, self.channel, kit.pdf("syllabus.pdf"))
        stored = Attachment.objects.get().file
        assert stored.course == self.course
        assert self.download(self.erin, stored).status_code == 200
        assert self.download(self.dave, stored).status_code == 404

    def test_a_message_can_be_only_a_file(self) -> None:
        response = self.send(self.bob, self.channel, kit.pdf("notes.pdf"), body="")
        assert response.status_code == 302
        message = Message.objects.get()
        assert message.body == ""
        assert message.preview == ""

    def test_a_refused_file_stores_nothing(self) -> None:
        response = self.send(
            self.bob, self.channel, kit.pdf("ok.pdf"), kit.upload("tool.pdf", kit.ELF_BYTES)
        )
        self.assertContains(response, "program or a script", status_code=400)
        assert not Message.objects.exists()
        assert not StoredFile.objects.exists()
        assert self.stored_paths() == []

    def test_a_zip_bomb_is_refused_with_a_clear_message(self) -> None:
        bomb = kit.upload("essay.odt", kit.zeros_odt(64 * 2**20))
        response = self.send(self.bob, self.channel, bomb)
        self.assertContains(response, "would unpack to far more than its own size", status_code=400)
        assert not Message.objects.exists()
        assert not StoredFile.objects.exists()

    def test_at_most_five_files(self) -> None:
        files = [kit.pdf(f"f{n}.pdf") for n in range(6)]
        response = self.send(self.bob, self.channel, *files)
        self.assertContains(response, "Attach at most 5 files", status_code=400)
        assert not StoredFile.objects.exists()

    def test_deleting_the_message_deletes_its_files(self) -> None:
        self.send(self.bob, self.channel, kit.pdf("draft.pdf"))
        message = Message.objects.get()
        with self.captureOnCommitCallbacks(execute=True):
            services.delete_message(message=message, by=self.bob)
        assert not StoredFile.objects.exists()
        assert self.stored_paths() == []
