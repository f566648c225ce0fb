"""Which course content an AI request may see, best first, within its token budget."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import Http404
from django.urls import reverse

from accounts.models import User
from ai import retrieval
from core.testing import requires_postgres
from courses.models import CourseItem, Enrollment, ItemKind, Submission
from courses.tests.factories import CourseFactory, CourseItemFactory, EnrollmentFactory
from tests.base import LecternTestCase, assert_constant_queries, count_queries

QUESTION = "How are photosynthesis and chlorophyll related?"


class RetrievalTestCase(LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice, slug="botany")
        EnrollmentFactory.create(course=self.course, student=self.bob)
        self.lesson = CourseItemFactory.create(
            course=self.course,
            title="Photosynthesis",
            body="Plants turn light into sugar. Chlorophyll absorbs the light.",
        )

    def context(self, viewer=None, question=QUESTION, budget=2000, **kwargs):
        return retrieval.context_for(
            course=self.course,
            viewer=viewer or self.bob,
            question=question,
            budget_tokens=budget,
            **kwargs,
        )


class VisibilityTests(RetrievalTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.draft = CourseItemFactory.create(
            course=self.course,
            title="Photosynthesis draft",
            body="DRAFT-SECRET chlorophyll answers for the quiz.",
            published=False,
        )
        self.note = CourseItemFactory.create(
            course=self.course,
            note=True,
            title="Photosynthesis private note",
            body="NOTE-SECRET chlorophyll: bob struggles.",
        )
        self.shared_note = CourseItemFactory.create(
            course=self.course,
            shared_note=True,
            title="Photosynthesis reading note",
            body="Shared note on chlorophyll.",
        )
        other = CourseFactory.create(teacher=self.carol)
        CourseItemFactory.create(
            course=other, title="Photosynthesis", body="OTHER-COURSE chlorophyll text."
        )
        assignment = CourseItemFactory.create(
            course=self.course, assignment=True, title="Essay", body="Write an essay."
        )
        classmate = EnrollmentFactory.create(course=self.course).student
        Submission.objects.create(
            item=assignment,
            student=classmate,
            text="SUBMISSION-SECRET photosynthesis chlorophyll chlorophyll photosynthesis",
        )

    def text_of(self, context) -> str:
        return "\n".join(f"{item.title}\n{item.excerpt}" for item in context)

    def test_it_gives_a_student_only_published_items_of_the_course(self):
        context = self.context()
        ids = {item.item_id for item in context}
        assert ids == {self.lesson.pk, self.shared_note.pk}
        text = self.text_of(context)
        for secret in ("DRAFT-SECRET", "NOTE-SECRET", "OTHER-COURSE", "SUBMISSION-SECRET"):
            assert secret not in text

    def test_it_never_gives_a_student_drafts(self):
        with pytest.raises(Http404):
            self.context(include_drafts=True)

    def test_it_gives_the_teacher_drafts_only_when_asked(self):
        published = {item.item_id for item in self.context(self.alice)}
        assert published == {self.lesson.pk, self.shared_note.pk}
        with_drafts = {item.item_id for item in self.context(self.alice, include_drafts=True)}
        assert with_drafts == {self.lesson.pk, self.shared_note.pk, self.draft.pk}

    def test_it_never_gives_private_notes_even_to_the_teacher(self):
        context = self.context(self.alice, include_drafts=True)
        assert "NOTE-SECRET" not in self.text_of(context)

    def test_it_refuses_people_outside_the_course(self):
        for outsider in (self.dave, self.carol, self.staff, AnonymousUser()):
            with self.subTest(outsider=str(outsider)), pytest.raises(Http404):
                self.context(outsider)

    def test_it_refuses_a_student_who_left(self):
        Enrollment.objects.filter(student=self.bob).update(status=Enrollment.Status.LEFT)
        with pytest.raises(Http404):
            self.context()


class RankingTests(RetrievalTestCase):
    def setUp(self) -> None:
        super().setUp()
        CourseItemFactory.create(
            course=self.course,
            title="Welcome",
            body="Welcome to the course. We meet on Tuesdays; bring a notebook.",
        )
        CourseItemFactory.create(
            course=self.course,
            title="Roots and water",
            body="Roots take up water. Leaves are green because of chlorophyll.",
        )

    def test_it_puts_the_item_about_the_question_first(self):
        context = self.context()
        assert context[0].item_id == self.lesson.pk
        assert [item.number for item in context] == list(range(1, len(context) + 1))
        assert "Welcome" not in [item.title for item in context]

    def test_it_describes_each_item(self):
        first = self.context()[0]
        assert first.title == "Photosynthesis"
        assert first.kind == ItemKind.MATERIAL
        assert first.url == reverse("courses:item", args=["botany", self.lesson.pk])
        assert first.excerpt.startswith("Plants turn light into sugar.")

    def test_it_returns_nothing_when_the_course_does_not_cover_it(self):
        assert self.context(question="What is the capital of Mongolia?") == []

    def test_it_returns_nothing_for_a_question_without_words(self):
        assert self.context(question="?? !! the and") == []

    def test_it_reads_search_syntax_as_plain_words(self):
        context = self.context(question='"chlorophyll -photosynthesis OR <script>')
        assert self.lesson.pk in {item.item_id for item in context}


class BudgetTests(RetrievalTestCase):
    def setUp(self) -> None:
        super().setUp()
        paragraph = "Chlorophyll and photosynthesis in depth, sentence after sentence. "
        for n in range(8):
            CourseItemFactory.create(
                course=self.course, title=f"Photosynthesis part {n}", body=paragraph * 200
            )

    def cost(self, context) -> float:
        chars = sum(
            retrieval.ITEM_OVERHEAD_CHARS + len(item.title) + len(item.excerpt) for item in context
        )
        return chars / retrieval.CHARS_PER_TOKEN

    def test_it_stays_within_the_budget(self):
        for budget in (100, 500, 3000):
            with self.subTest(budget=budget):
                context = self.context(budget=budget)
                assert context
                assert self.cost(context) <= budget

    def test_it_cuts_a_long_excerpt_at_a_word(self):
        context = self.context(budget=500)
        long = [item for item in context if item.title.startswith("Photosynthesis part")]
        assert long
        assert long[0].excerpt.endswith("…")
        assert not long[0].excerpt[:-1].endswith(" ")

    def test_it_rejects_a_budget_of_nothing(self):
        with pytest.raises(ValueError, match="budget_tokens"):
            self.context(budget=0)


class QueryCountTests(RetrievalTestCase):
    def test_it_makes_as_many_queries_for_1000_items_as_for_10(self):
        def add_items(n: int) -> None:
            CourseItem.objects.bulk_create(
                CourseItem(
                    course=self.course,
                    kind=ItemKind.MATERIAL,
                    title=f"Leaf {n} {i}",
                    body="Chlorophyll in leaves captures light for photosynthesis.",
                    published=True,
                    position=1000 + i,
                )
                for i in range(n)
            )

        for viewer, expected in ((self.bob, 2), (self.alice, 1)):
            with self.subTest(viewer=viewer.email):
                CourseItem.objects.exclude(pk=self.lesson.pk).delete()

                def retrieve(viewer: User = viewer) -> list[retrieval.ContextItem]:
                    return self.context(viewer)

                queries = assert_constant_queries(self, retrieve, add_items, budget=2)
                assert queries == expected


@requires_postgres
class PostgresIndexTests(RetrievalTestCase):
    def test_it_searches_through_the_gin_index(self):
        CourseItem.objects.bulk_create(
            CourseItem(
                course=self.course,
                kind=ItemKind.MATERIAL,
                title=f"Topic {i}",
                body=f"Notes on subject number {i} of the syllabus. " * 20,
                published=True,
                position=i,
            )
            for i in range(2000)
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE courses_courseitem")
        _, statements, _ = count_queries(lambda: self.context())
        ranking = statements[-1]
        assert '"search_document" @@' in ranking
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {ranking}")
            plan = "\n".join(line for (line,) in cursor.fetchall())
        assert "courseitem_search" in plan, plan
