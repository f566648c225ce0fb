"""What teachers hold about a person goes into their export, and goes with their erasure."""

from django.utils import timezone

from courses.tests.factories import CourseFactory
from crm.models import Contact, ContactNote, Lead, Tag
from privacy.registry import registry
from tests.base import LecternTestCase


def exported(label: str, user: object) -> list[dict]:
    return list(registry.entries[label].exporter(user))


class PrivacyTests(LecternTestCase):
    by_user: Contact
    by_email: Contact

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # alice knows bob by his account; carol only by his address (imported from a file).
        cls.by_user = Contact.objects.create(
            teacher=cls.alice, user=cls.bob, email=cls.bob.email, name="Bob", company="Bakery"
        )
        cls.by_email = Contact.objects.create(
            teacher=cls.carol, email="BOB@example.com".lower(), name="Bobby", imported=True
        )
        ContactNote.objects.create(contact=cls.by_user, body="Keen on glazes")
        ContactNote.objects.create(contact=cls.by_email, body="Met at the fair")
        cls.by_user.tags.add(Tag.objects.create(teacher=cls.alice, name="Keen"))
        Lead.objects.create(
            course=CourseFactory.create(teacher=cls.carol),
            teacher=cls.carol,
            email=cls.bob.email,
            consent_at=timezone.now(),
        )
        Contact.objects.create(teacher=cls.alice, email="someone@example.org")

    def test_it_exports_every_teachers_contact_and_notes(self) -> None:
        contacts = exported("crm.Contact", self.bob)
        assert {c["teacher"] for c in contacts} == {"Alice Archer", "Carol Cole"}
        assert {c["company"] for c in contacts} == {"Bakery", ""}
        assert ["Keen"] in [c["tags"] for c in contacts]
        notes = exported("crm.ContactNote", self.bob)
        assert {n["body"] for n in notes} == {"Keen on glazes", "Met at the fair"}
        assert len(exported("crm.Lead", self.bob)) == 1

    def test_it_erases_the_person_from_every_teachers_list(self) -> None:
        for label in ("crm.ContactNote", "crm.Contact", "crm.Lead"):
            registry.entries[label].eraser(self.bob)
        assert not Contact.objects.filter(email="bob@example.com").exists()
        assert not ContactNote.objects.exists()
        assert not Lead.objects.exists()
        assert Contact.objects.filter(email="someone@example.org").exists()

    def test_it_exports_a_teachers_own_tags(self) -> None:
        assert [t["name"] for t in exported("crm.Tag", self.alice)] == ["Keen"]
