"""The onboarding survey's questions, one set for teachers and one for students.

Questions and choices are identified by short stable keys: answers are stored
by key, so a label can be reworded without touching stored answers, and the
admin's aggregates group by key. Removing a choice leaves its old answers in
place (shown under their key) until they expire.
"""

from dataclasses import dataclass


class Role:
    TEACHER = "teacher"
    STUDENT = "student"
    CHOICES = [(TEACHER, "Teacher"), (STUDENT, "Student")]


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    choices: tuple[tuple[str, str], ...]
    many: bool = False  # checkboxes; otherwise one answer (radio buttons)
    help_text: str = ""

    def label_for(self, choice: str) -> str:
        return dict(self.choices).get(choice, choice)


SUBJECTS = (
    ("languages", "Languages"),
    ("music", "Music"),
    ("art", "Art and design"),
    ("tech", "Programming and technology"),
    ("business", "Business and marketing"),
    ("academic", "School subjects and exam preparation"),
    ("wellbeing", "Fitness, yoga and wellbeing"),
    ("other", "Something else"),
)

TEACHER_QUESTIONS = (
    Question(
        "goal",
        "What would you like to do first?",
        (
            ("sell_course", "Sell a course"),
            ("teach_class", "Teach a class I already have"),
            ("free_course", "Run a free course or study group"),
            ("explore", "Just looking around"),
        ),
    ),
    Question(
        "platforms",
        "What do you use for teaching today?",
        (
            ("video_calls", "Zoom, Google Meet or Teams"),
            ("course_sites", "Teachable, Thinkific, Kajabi or similar"),
            ("classroom", "Google Classroom, Moodle or another school system"),
            ("marketplaces", "Udemy, Skillshare or another marketplace"),
            ("email_sheets", "Email and spreadsheets"),
            ("nothing", "Nothing yet"),
        ),
        many=True,
        help_text="Choose all that apply.",
    ),
    Question(
        "audience",
        "Who do you teach?",
        (
            ("children", "Children"),
            ("teens", "Teenagers"),
            ("university", "University students"),
            ("adults", "Adults learning for themselves"),
            ("professionals", "Professionals and teams"),
        ),
    ),
    Question(
        "budget",
        "What do you spend on teaching tools each month?",
        (
            ("none", "Nothing"),
            ("low", "Up to 20 (dollars, euros or pounds)"),
            ("mid", "20 to 100"),
            ("high", "More than 100"),
        ),
    ),
    Question("subject", "What do you teach?", SUBJECTS),
)

STUDENT_QUESTIONS = (
    Question(
        "goal",
        "What brings you to Lectern?",
        (
            ("invited", "A teacher invited me to their course"),
            ("find_course", "I'm looking for a course"),
            ("new_skill", "Learning something new for myself"),
            ("exam", "Preparing for an exam or a job"),
        ),
    ),
    Question(
        "platforms",
        "Where have you taken online classes before?",
        (
            ("video_calls", "Zoom, Google Meet or Teams"),
            ("course_sites", "Udemy, Coursera or similar"),
            ("classroom", "Google Classroom, Moodle or another school system"),
            ("nothing", "This is my first"),
        ),
        many=True,
        help_text="Choose all that apply.",
    ),
    Question("subject", "What would you like to learn?", SUBJECTS),
    Question(
        "style",
        "How do you like things explained?",
        (
            ("simple", "Simply, with everyday examples"),
            ("detailed", "In depth, with the details"),
            ("brief", "Short and to the point"),
        ),
    ),
)

QUESTIONS = {Role.TEACHER: TEACHER_QUESTIONS, Role.STUDENT: STUDENT_QUESTIONS}


def role_of(user: object) -> str:
    """Return which survey a person answers: a teacher's, even when they also learn."""
    return Role.TEACHER if getattr(user, "is_teacher", False) else Role.STUDENT


def question(role: str, key: str) -> Question | None:
    return next((q for q in QUESTIONS.get(role, ()) if q.key == key), None)
