"""Contacts belong to their teacher: anyone else is told they don't exist."""

from django.urls import reverse

from crm.models import Contact, ContactNote, Tag
from tests.base import LecternTestCase


class VisibilityTests(LecternTestCase):
    contact: Contact
    note: ContactNote

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.contact = Contact.objects.create(
            teacher=cls.alice, user=cls.bob, email=cls.bob.email, name="Bob Baker"
        )
        cls.note = ContactNote.objects.create(contact=cls.contact, body="Secret note")

    def test_it_shows_the_owner_their_contact(self) -> None:
        self.login(self.alice)
        response = self.client.get(reverse("crm:contact", args=[self.contact.pk]))
        self.assertContains(response, "Secret note")

    def test_it_answers_404_to_another_teacher_everywhere(self) -> None:
        self.login(self.carol)
        pk, note = self.contact.pk, self.note.pk
        for url in (
            reverse("crm:contact", args=[pk]),
            reverse("crm:contact_edit", args=[pk]),
            reverse("crm:note_edit", args=[pk, note]),
        ):
            assert self.client.get(url).status_code == 404, url
        for url, data in (
            (reverse("crm:contact_edit", args=[pk]), {"name": "X"}),
            (reverse("crm:contact_tags", args=[pk]), {"tag": "X"}),
            (reverse("crm:note_add", args=[pk]), {"body": "X"}),
            (reverse("crm:note_edit", args=[pk, note]), {"body": "X"}),
            (reverse("crm:note_delete", args=[pk, note]), {}),
            (reverse("crm:bulk_tag"), {"tag": "X", "action": "add", "ids": [pk]}),
        ):
            assert self.client.post(url, data).status_code == 404, url
        assert ContactNote.objects.get(pk=note).body == "Secret note"
        assert not Tag.objects.filter(teacher=self.carol).exists()

    def test_it_keeps_another_teachers_people_out_of_the_list_and_export(self) -> None:
        self.login(self.carol)
        response = self.client.get(reverse("crm:list"))
        self.assertNotContains(response, "bob@example.com")
        response = self.client.get(reverse("crm:export"))
        export = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert b"bob@example.com" not in export

    def test_it_answers_404_to_students(self) -> None:
        self.login(self.bob)
        assert self.client.get(reverse("crm:list")).status_code == 404
