"""What messaging tests share: a course with a channel, and quick ways to talk in it.

alice teaches "studio" with bob and erin enrolled; carol teaches elsewhere and
dave takes nothing of alice's.
"""

from typing import Any

from django.test import Client
from django.urls import reverse

from accounts.models import User
from courses.models import Course
from courses.tests.factories import CourseFactory, EnrollmentFactory
from messaging import services
from messaging.models import Conversation, Message
from tests.base import LecternTestCase, StudentFactory


class MessagingTestCase(LecternTestCase):
    course: Course
    erin: User

    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice, slug="studio", title="Studio")
        self.erin = StudentFactory.create(first_name="Erin", last_name="Evans")
        for student in (self.bob, self.erin):
            EnrollmentFactory.create(course=self.course, student=student)
        self.channel = services.get_or_create_channel(course=self.course)

    def say(self, author: User, body: str, conversation: Conversation | None = None) -> Message:
        """Post through the service, as the page would, without the delayed notification.

        What runs once the post commits (the version copied to the cache) runs too.
        """
        with self.captureOnCommitCallbacks(execute=True):
            return services.post_message(
                conversation=conversation or self.channel, author=author, body=body, notify=False
            )

    def url(self, name: str, *args: Any) -> str:
        return reverse(f"messaging:{name}", args=args)

    def page(self, user: User, conversation: Conversation | None = None, **params: str) -> Any:
        client = self.new_client(user)
        return client.get(self.url("conversation", (conversation or self.channel).pk), params)

    def direct(self, user: User, other: User) -> Conversation:
        with self.captureOnCommitCallbacks(execute=True):
            return services.get_or_create_direct(user=user, other=other)

    def htmx(self, user: User) -> Client:
        return self.new_client(user, headers={"HX-Request": "true"})
