"""The facts the visitors' page is checked against: compiled once, read in one query."""

from courses.models import Enrollment
from courses.tests.factories import CourseFactory, EnrollmentFactory
from courses.views import storefront
from tests.base import LecternTestCase


class PageFactsTests(LecternTestCase):
    def test_it_reads_what_the_orm_query_answers(self) -> None:
        open_course = CourseFactory.create(teacher=self.alice, slug="open", capacity=4)
        EnrollmentFactory.create_batch(2, course=open_course)
        EnrollmentFactory.create(course=open_course, status=Enrollment.Status.LEFT)
        CourseFactory.create(teacher=self.alice, slug="draft", draft=True)
        CourseFactory.create(teacher=self.carol, slug="archived", archived=True)
        for slug in ("open", "draft", "archived"):
            row = storefront._facts_query(slug).get()
            facts = storefront.page_facts(slug)
            assert facts is not None
            assert (facts.pk, facts.visibility, facts.seats_taken) == (row[0], row[2], row[4])
            assert facts.archived == (row[3] is not None)
        assert storefront.page_facts("open").seats_taken == 2  # type: ignore[union-attr]

    def test_it_sees_the_teacher_deactivated(self) -> None:
        CourseFactory.create(teacher=self.carol, slug="carols")
        assert storefront.page_facts("carols").reachable  # type: ignore[union-attr]
        self.carol.is_active = False
        self.carol.save(update_fields=["is_active"])
        assert not storefront.page_facts("carols").reachable  # type: ignore[union-attr]

    def test_it_answers_none_for_an_unknown_slug(self) -> None:
        assert storefront.page_facts("nope") is None

    def test_it_takes_one_query(self) -> None:
        CourseFactory.create(teacher=self.alice, slug="open")
        storefront.page_facts("open")
        with self.assertNumQueries(1):
            storefront.page_facts("open")
