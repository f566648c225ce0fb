"""Importing contacts from CSV: preview, each bad row with its reason, no duplicates, big files."""

import re
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from crm.models import Contact, Tag
from tests.base import LecternTestCase


def upload(client: Client, text: str, name: str = "contacts.csv") -> Any:
    file = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(reverse("crm:import"), {"file": file})


def token_of(response: Any) -> str:
    found = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert found, "the preview has no import button"
    return found.group(1)


class ImportTests(LecternTestCase):
    def setUp(self) -> None:
        self.login(self.alice)

    def test_it_previews_then_imports_the_good_rows(self) -> None:
        text = (
            "Email,First name,Last name,Phone,Company,Tags\n"
            "ann@example.org,Ann,Able,+44 1,Able Ltd,VIP|Spring\n"
            ",No,Email,,,\n"
            "not-an-email,Bad,Address,,,\n"
            f"long@example.org,{'x' * 201},,,,\n"
            "ANN@example.org,Ann,Again,,,\n"
            "lee@example.org,Lee,Lane,,,\n"
        )
        preview = upload(self.client, text)
        assert preview.status_code == 200
        assert not Contact.objects.exists(), "a preview writes nothing"
        body = preview.content.decode()
        assert "<strong>2</strong> rows can be imported" in body
        assert "No email address" in body
        assert "Not a valid email address" in body
        assert "The name is too long (over 200 characters)" in body
        assert "The same address as line 2" in body
        done = self.client.post(reverse("crm:import_confirm"), {"token": token_of(preview)})
        self.assertContains(done, "Import done")
        ann = Contact.objects.get(teacher=self.alice, email="ann@example.org")
        assert (ann.name, ann.phone, ann.company, ann.imported) == (
            "Ann Able",
            "+44 1",
            "Able Ltd",
            True,
        )
        assert sorted(t.name for t in ann.tags.all()) == ["Spring", "VIP"]
        assert Contact.objects.filter(teacher=self.alice).count() == 2

    def test_it_does_not_duplicate_people_already_in_the_list(self) -> None:
        existing = Contact.objects.create(
            teacher=self.alice, email="ann@example.org", name="Ann", status="student"
        )
        Tag.objects.create(teacher=self.alice, name="vip")
        preview = upload(self.client, "email,company,tags\nAnn@Example.org,Able Ltd,VIP\n")
        done = self.client.post(reverse("crm:import_confirm"), {"token": token_of(preview)})
        assert done.context["summary"].matched == 1
        assert done.context["summary"].created == 0
        existing.refresh_from_db()
        assert Contact.objects.filter(teacher=self.alice).count() == 1
        assert existing.company == "Able Ltd"
        assert existing.status == "student"
        assert [t.name for t in existing.tags.all()] == ["vip"]

    def test_it_imports_once_per_preview(self) -> None:
        preview = upload(self.client, "email\nann@example.org\n")
        token = token_of(preview)
        self.client.post(reverse("crm:import_confirm"), {"token": token})
        again = self.client.post(reverse("crm:import_confirm"), {"token": token})
        self.assertContains(again, "expired or was already imported", status_code=400)

    def test_it_refuses_a_file_without_an_email_column(self) -> None:
        response = upload(self.client, "name,phone\nAnn,1\n")
        self.assertContains(response, "one of them “email”", status_code=400)

    def test_it_refuses_a_file_that_is_not_text(self) -> None:
        file = SimpleUploadedFile("x.csv", b"\xff\xfe\x00\x00" * 10, content_type="text/csv")
        response = self.client.post(reverse("crm:import"), {"file": file})
        assert response.status_code == 400

    def test_it_imports_a_file_of_5000_rows(self) -> None:
        lines = ["email,name,company,tags"]
        lines += [
            f"student{n}@example.org,Student {n},Org {n % 50},Cohort {n % 3}" for n in range(5000)
        ]
        lines += ["student7@example.org,Duplicate,,"]
        preview = upload(self.client, "\n".join(lines) + "\n")
        assert preview.status_code == 200
        assert "<strong>5000</strong> rows can be imported" in preview.content.decode()
        done = self.client.post(reverse("crm:import_confirm"), {"token": token_of(preview)})
        assert done.context["summary"].created == 5000
        assert done.context["bad_count"] == 1
        assert Contact.objects.filter(teacher=self.alice).count() == 5000
        assert Tag.objects.filter(teacher=self.alice).count() == 3
        assert Contact.tags.through.objects.filter(contact__teacher=self.alice).count() == 5000
        # The same file again adds nobody.
        preview = upload(self.client, "\n".join(lines) + "\n")
        done = self.client.post(reverse("crm:import_confirm"), {"token": token_of(preview)})
        assert done.context["summary"].created == 0
        assert Contact.objects.filter(teacher=self.alice).count() == 5000
