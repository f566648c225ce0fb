"""A teacher's private notes on a contact: add, edit, delete, with times."""

from django.urls import reverse

from crm.models import Contact, ContactNote
from tests.base import LecternTestCase


class NoteTests(LecternTestCase):
    contact: Contact

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.contact = Contact.objects.create(teacher=cls.alice, email="pat@example.org", name="Pat")

    def setUp(self) -> None:
        self.login(self.alice)

    def test_it_adds_a_timestamped_note(self) -> None:
        response = self.client.post(
            reverse("crm:note_add", args=[self.contact.pk]), {"body": "Wants a weekend class"}
        )
        self.assertRedirects(response, self.contact.get_absolute_url())
        page = self.client.get(self.contact.get_absolute_url())
        self.assertContains(page, "Wants a weekend class")
        self.assertContains(page, "<time datetime=", html=False)

    def test_it_refuses_an_empty_note(self) -> None:
        response = self.client.post(reverse("crm:note_add", args=[self.contact.pk]), {"body": "  "})
        assert response.status_code == 400
        self.assertContains(response, "Write something to keep.", status_code=400)
        assert not ContactNote.objects.exists()

    def test_it_edits_a_note(self) -> None:
        note = ContactNote.objects.create(contact=self.contact, body="Old")
        url = reverse("crm:note_edit", args=[self.contact.pk, note.pk])
        assert self.client.get(url).status_code == 200
        self.client.post(url, {"body": "New"})
        note.refresh_from_db()
        assert note.body == "New"
        assert note.updated_at >= note.created_at

    def test_it_deletes_a_note(self) -> None:
        note = ContactNote.objects.create(contact=self.contact, body="Gone soon")
        self.client.post(reverse("crm:note_delete", args=[self.contact.pk, note.pk]))
        assert not ContactNote.objects.filter(pk=note.pk).exists()

    def test_it_edits_details_and_tags(self) -> None:
        self.client.post(
            reverse("crm:contact_edit", args=[self.contact.pk]),
            {"name": "Pat Potter", "phone": "+1 555 0100", "company": "Wheel Co"},
        )
        self.client.post(
            reverse("crm:contact_tags", args=[self.contact.pk]), {"tag": "  Weekend  "}
        )
        self.client.post(reverse("crm:contact_tags", args=[self.contact.pk]), {"tag": "weekend"})
        self.contact.refresh_from_db()
        assert (self.contact.name, self.contact.phone, self.contact.company) == (
            "Pat Potter",
            "+1 555 0100",
            "Wheel Co",
        )
        assert [t.name for t in self.contact.tags.all()] == ["Weekend"]
        tag = self.contact.tags.get()
        self.client.post(reverse("crm:contact_tags", args=[self.contact.pk]), {"remove": tag.pk})
        assert not self.contact.tags.exists()

    def test_it_refuses_a_phone_too_long(self) -> None:
        response = self.client.post(
            reverse("crm:contact_edit", args=[self.contact.pk]), {"name": "P", "phone": "1" * 41}
        )
        assert response.status_code == 400

    def test_it_answers_404_for_an_id_no_database_could_hold(self) -> None:
        note = ContactNote.objects.create(contact=self.contact, body="Kept")
        too_big = "99999999999999999999"
        for path in (
            f"/teach/contacts/{too_big}/notes/{note.pk}/edit/",
            f"/teach/contacts/{too_big}/notes/{note.pk}/delete/",
            f"/teach/contacts/{self.contact.pk}/notes/{too_big}/edit/",
            f"/teach/contacts/{too_big}/",
        ):
            assert self.client.post(path).status_code == 404, path
        assert ContactNote.objects.filter(pk=note.pk).exists()
