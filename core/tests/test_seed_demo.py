"""The demo data: every app seeds its own, bottom layer first, and a second run adds nothing."""

import io

from allauth.account.models import EmailAddress
from django.core.management import call_command

from accounts.models import User
from core import demo
from courses.models import Course, CourseItem, Enrollment
from messaging.models import Conversation, Message
from tests.base import LecternTestCase


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


class SeedDemoTests(LecternTestCase):
    def test_it_seeds_the_apps_from_the_bottom_layer_up(self) -> None:
        labels = [label for label, _seed in demo.seeders()]
        assert labels == ["accounts", "courses", "messaging"]

    def test_it_creates_people_courses_and_conversations_and_says_how_to_sign_in(self) -> None:
        output = _seed()
        teacher = User.objects.get(email="teacher@lectern.localhost")
        assert teacher.check_password("lectern-demo-2026")
        assert EmailAddress.objects.filter(user=teacher, verified=True).exists()
        assert Course.objects.filter(teacher=teacher).count() == 2
        assert Enrollment.objects.filter(student__email="student@lectern.localhost").exists()
        assert Message.objects.exists()
        assert "student@lectern.localhost" in output
        assert "Demo course: Watercolour Foundations at /c/watercolour-foundations/" in output

    def test_it_adds_nothing_when_run_again(self) -> None:
        _seed()
        models = (User, Course, CourseItem, Enrollment, Conversation, Message)
        counts = [model.objects.count() for model in models]
        output = _seed()
        assert [model.objects.count() for model in models] == counts
        assert "Demo course:" not in output
