"""Exporting the filtered list as CSV."""

import csv
import io

from django.urls import reverse
from django.utils import timezone

from crm.models import Contact, Tag
from tests.base import LecternTestCase


class ExportTests(LecternTestCase):
    def rows(self, **params: str) -> list[dict[str, str]]:
        self.login(self.alice)
        response = self.client.get(reverse("crm:export"), params)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
        return list(csv.DictReader(io.StringIO(text)))

    def test_it_exports_the_filtered_list_with_tags(self) -> None:
        vip = Tag.objects.create(teacher=self.alice, name="VIP")
        early = Tag.objects.create(teacher=self.alice, name="Early")
        ann = Contact.objects.create(
            teacher=self.alice,
            email="ann@example.org",
            name="Ann Able",
            phone="+44 1",
            company="Able Ltd",
            status=Contact.Status.STUDENT,
            source="newsletter",
            last_activity=timezone.now(),
        )
        ann.tags.add(vip, early)
        Contact.objects.create(
            teacher=self.alice, email="lee@example.org", name="Lee", status="lead"
        )
        rows = self.rows(status="student")
        assert len(rows) == 1
        row = rows[0]
        assert row["email"] == "ann@example.org"
        assert row["name"] == "Ann Able"
        assert row["company"] == "Able Ltd"
        assert row["status"] == "Student"
        assert row["tags"] == "Early|VIP"
        assert row["source"] == "newsletter"
        assert len(self.rows()) == 2

    def test_it_defuses_spreadsheet_formulas(self) -> None:
        Contact.objects.create(teacher=self.alice, email="f@example.org", name="=HYPERLINK(1)")
        assert self.rows()[0]["name"] == "'=HYPERLINK(1)"
