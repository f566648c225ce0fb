"""Demo conversations for `manage.py seed_demo`: a lively course channel and one direct chat."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts import demo as account_demo
from accounts.models import User
from courses import demo as course_demo
from courses.models import Course
from messaging import services
from messaging.models import Conversation, Message

_CHANNEL = [
    (
        "teacher",
        "Welcome to the **Watercolour Foundations** channel! Ask anything here: "
        "everyone in the course reads it.",
    ),
    ("student", "Hi Ada, hi everyone! Really looking forward to Tuesday."),
    (
        "teacher",
        "Before the first class, please check you have:\n\n"
        "- 300 gsm cold-pressed paper\n- round brushes, sizes 6 and 10\n- three primaries",
    ),
    ("student", "Is student-grade paint really fine? The artist-grade sets are so expensive."),
    ("teacher", "Absolutely. Buy good *paper* first: it matters far more than the paint."),
    ("student", "Good to know, thank you!"),
    (
        "teacher",
        "Here is a lovely guide to pigments if you're curious: "
        "[handprint.com](https://www.handprint.com/HP/WCL/water.html)",
    ),
    ("student", "My colour wheel keeps going muddy in the purples 😅"),
    (
        "teacher",
        "That's the classic one: your red probably leans orange. Try a cooler red "
        "such as quinacridone rose for the violets.",
    ),
    ("student", "Tried it: so much cleaner. 🎉"),
    ("teacher", "Wonderful. Bring it on Tuesday and we'll look at it together."),
    (
        "teacher",
        "Reminder: class starts at **18:00 Paris time**. The meeting link is on the course page.",
    ),
]
_DIRECT = [
    ("student", "Hi Ada, I might be ten minutes late on Tuesday: is that all right?"),
    ("teacher", "Of course, no problem. Join whenever you can; the first minutes are setup."),
    ("student", "Thanks a lot!"),
]


def _post_all(
    conversation: Conversation, lines: list[tuple[str, str]], people: dict[str, User]
) -> list[Message]:
    start = timezone.now() - timedelta(hours=2 * len(lines))
    posted = []
    for index, (who, text) in enumerate(lines):
        message = services.post_message(
            conversation=conversation, author=people[who], body=text, notify=False
        )
        posted.append(message)
        if index == len(lines) - 1:
            # The newest keeps its real time: later than the demo student's enrolment, so it
            # is news to them (what came before they joined is history, never unread).
            break
        # Spread the history over the past hours, as if it had been a lively week.
        at = start + timedelta(hours=2 * index)
        Message.objects.filter(pk=message.pk).update(created_at=at)
    return posted


@transaction.atomic
def seed_demo_messages(*, teacher: User, student: User) -> bool:
    """Fill the demo course's channel and a direct conversation once; return whether it did."""
    course = Course.objects.filter(slug=course_demo.FREE_SLUG, teacher=teacher).first()
    if course is None:
        return False
    channel = services.get_or_create_channel(course=course)
    if Message.objects.filter(conversation=channel).exists():
        return False
    people = {"teacher": teacher, "student": student}
    posted = _post_all(channel, _CHANNEL, people)
    services.toggle_reaction(message=posted[0], user=student, emoji="❤️")
    services.toggle_reaction(message=posted[4], user=student, emoji="👍")
    services.toggle_reaction(message=posted[9], user=teacher, emoji="🎉")
    direct = services.get_or_create_direct(user=student, other=teacher)
    if not Message.objects.filter(conversation=direct).exists():
        _post_all(direct, _DIRECT, people)
    return True


def seed() -> list[str]:
    """Seed the demo conversations; they need nothing said about them."""
    teacher, student = account_demo.teacher_and_student()
    seed_demo_messages(teacher=teacher, student=student)
    return []
