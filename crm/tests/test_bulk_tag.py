"""Tagging the people selected on the list, all at once."""

from django.urls import reverse

from crm.models import Contact, Tag
from crm.tests.kit import contacts
from tests.base import LecternTestCase


class BulkTagTests(LecternTestCase):
    def test_it_adds_and_removes_a_tag(self) -> None:
        people = contacts(self.alice, 3)
        self.login(self.alice)
        ids = [c.pk for c in people[:2]]
        response = self.client.post(
            reverse("crm:bulk_tag"), {"ids": ids, "tag": "Spring 2027", "action": "add"}
        )
        assert response.status_code == 302
        tag = Tag.objects.get(teacher=self.alice)
        assert set(tag.contacts.values_list("pk", flat=True)) == set(ids)
        self.client.post(
            reverse("crm:bulk_tag"), {"ids": ids, "tag": "Spring 2027", "action": "add"}
        )
        assert tag.contacts.count() == 2
        self.client.post(
            reverse("crm:bulk_tag"), {"ids": ids[:1], "tag": "spring 2027", "action": "remove"}
        )
        assert list(tag.contacts.values_list("pk", flat=True)) == ids[1:]

    def test_it_only_tags_the_teachers_own_people(self) -> None:
        mine = contacts(self.alice, 1)[0]
        theirs = Contact.objects.create(teacher=self.carol, email="c@example.org")
        self.login(self.alice)
        self.client.post(
            reverse("crm:bulk_tag"), {"ids": [mine.pk, theirs.pk], "tag": "X", "action": "add"}
        )
        assert not theirs.tags.exists()
        assert mine.tags.exists()

    def test_it_says_when_nobody_is_selected(self) -> None:
        self.login(self.alice)
        response = self.client.post(reverse("crm:bulk_tag"), {"tag": "X", "action": "add"})
        self.assertContains(response, "Select at least one person.", status_code=400)
