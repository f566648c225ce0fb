"""The contacts list: search, filters, sorting, pages, and a fixed number of queries."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from courses.models import Course, Enrollment
from courses.tests.factories import CourseFactory
from crm.models import Contact, Lead, Tag
from crm.tests.kit import contacts
from tests.base import LecternTestCase, assert_constant_queries


class ListTests(LecternTestCase):
    course: Course
    bob_contact: Contact
    zed: Contact
    ann: Contact
    vip: Tag

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        now = timezone.now()
        cls.course = CourseFactory.create(teacher=cls.alice, title="Pottery")
        Enrollment.objects.create(course=cls.course, student=cls.bob)
        cls.bob_contact = Contact.objects.create(
            teacher=cls.alice,
            user=cls.bob,
            email=cls.bob.email,
            name="Bob Baker",
            status=Contact.Status.STUDENT,
            company="Kiln Works",
            source="newsletter",
            first_seen=now - timedelta(days=30),
            last_activity=now - timedelta(days=1),
        )
        cls.zed = Contact.objects.create(
            teacher=cls.alice,
            email="zed@example.org",
            name="Zed Zimmer",
            status=Contact.Status.LEAD,
            first_seen=now - timedelta(days=2),
            last_activity=now - timedelta(days=10),
        )
        Lead.objects.create(
            course=CourseFactory.create(teacher=cls.alice, title="Glazes"),
            teacher=cls.alice,
            email="zed@example.org",
            consent_at=now,
        )
        cls.ann = Contact.objects.create(
            teacher=cls.alice,
            email="ann@example.org",
            name="Ann Able",
            status=Contact.Status.PAST,
            first_seen=now - timedelta(days=60),
        )
        cls.vip = Tag.objects.create(teacher=cls.alice, name="VIP")
        cls.ann.tags.add(cls.vip)

    def names(self, **params: str) -> list[str]:
        self.login(self.alice)
        response = self.client.get(reverse("crm:list"), params)
        assert response.status_code == 200
        return [row.contact.name for row in response.context["rows"]]

    def test_it_lists_everyone_by_name(self) -> None:
        assert self.names() == ["Ann Able", "Bob Baker", "Zed Zimmer"]

    def test_it_searches_name_email_and_company(self) -> None:
        assert self.names(q="zimmer") == ["Zed Zimmer"]
        assert self.names(q="ann@") == ["Ann Able"]
        assert self.names(q="kiln") == ["Bob Baker"]

    def test_it_filters_by_status_tag_source_and_course(self) -> None:
        assert self.names(status="lead") == ["Zed Zimmer"]
        assert self.names(tag=str(self.vip.pk)) == ["Ann Able"]
        assert self.names(source="newsletter") == ["Bob Baker"]
        assert self.names(source="-") == ["Ann Able", "Zed Zimmer"]
        assert self.names(course=str(self.course.pk)) == ["Bob Baker"]
        glazes = Lead.objects.get().course_id
        assert self.names(course=str(glazes)) == ["Zed Zimmer"]

    def test_it_sorts_by_activity_and_first_seen(self) -> None:
        assert self.names(sort="activity") == ["Bob Baker", "Zed Zimmer", "Ann Able"]
        assert self.names(sort="first_seen") == ["Zed Zimmer", "Bob Baker", "Ann Able"]
        assert self.names(sort="-name") == ["Zed Zimmer", "Bob Baker", "Ann Able"]

    def test_it_ignores_filters_it_does_not_know(self) -> None:
        assert self.names(status="king", course="abc", sort="drop table", tag="99999999999999")

    def test_it_shows_courses_tags_and_pages(self) -> None:
        contacts(self.alice, 60)
        self.login(self.alice)
        response = self.client.get(reverse("crm:list"))
        self.assertContains(response, "63 people")
        self.assertContains(response, "Page 1 of 2")
        self.assertContains(response, "Pottery")
        second = self.client.get(reverse("crm:list"), {"page": "2", "q": "person"})
        assert len(second.context["rows"]) == 10

    def test_it_runs_as_many_queries_for_1000_people_as_for_10(self) -> None:
        self.login(self.alice)
        made = [0]
        tag = Tag.objects.create(teacher=self.alice, name="Bulk")

        def make(n: int) -> None:
            rows = contacts(self.alice, n, start=made[0] + 1000, source=f"s{made[0]}")
            made[0] += n
            Contact.tags.through.objects.bulk_create(
                [Contact.tags.through(contact_id=c.pk, tag_id=tag.pk) for c in rows]
            )

        assert_constant_queries(self, reverse("crm:list"), make)
