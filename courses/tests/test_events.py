"""Course events reach their subscribers once the change commits, and never before."""

from django.db import transaction

from courses import events
from courses.services import items as item_services
from courses.tests.factories import CourseFactory, CourseItemFactory
from tests.base import LecternTestCase


class CourseEventsTest(LecternTestCase):
    def setUp(self) -> None:
        self.heard: list[events.Event] = []
        events.subscribe(events.ItemPublished, self.heard.append)
        self.addCleanup(events.unsubscribe, events.ItemPublished, self.heard.append)

    def test_it_tells_subscribers_once_the_change_commits(self) -> None:
        item = CourseItemFactory.create(
            course=CourseFactory.create(teacher=self.alice), published=False
        )
        with self.captureOnCommitCallbacks(execute=True):
            item_services.set_item_published(item=item, published=True)
            assert self.heard == []
        assert self.heard == [events.ItemPublished(item_id=item.pk, kind=item.kind)]

    def test_it_tells_no_one_of_a_rolled_back_change(self) -> None:
        item = CourseItemFactory.create(
            course=CourseFactory.create(teacher=self.alice), published=False
        )
        with self.captureOnCommitCallbacks(execute=True), transaction.atomic():
            item_services.set_item_published(item=item, published=True)
            transaction.set_rollback(True)
        assert self.heard == []

    def test_it_tells_only_the_subscribers_of_that_kind_of_event(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            events.emit(events.GradeReturned(submission_id=1))
        assert self.heard == []
