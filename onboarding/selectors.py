"""What the survey tells the rest of Lectern, and the only view of it staff get.

Higher apps read a person's answers through `preferences_for` and `ai_tone`,
never the rows: the dashboard picks its first view, the new-course page its
suggested starting points, the AI assistant its tone. Staff see
`aggregates()`, where any answer given by fewer than `MIN_BUCKET` people is
withheld, so no chart can point at a handful of people.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from onboarding import starters
from onboarding.models import SurveyAnswer, SurveyResponse
from onboarding.questions import QUESTIONS, Question, Role, role_of

# The dashboard's first view, from what the person said they came to do.
CREATE_COURSE = "create_course"
FIND_COURSE = "find_course"
MY_COURSES = "my_courses"

# Aggregates below this many people are withheld.
MIN_BUCKET = 10
# New accounts without an answer are invited from the dashboard for this long.
INVITE_FOR = timedelta(days=30)

_TEACHER_FIRST_VIEW = {
    "sell_course": CREATE_COURSE,
    "teach_class": CREATE_COURSE,
    "free_course": CREATE_COURSE,
}
_STUDENT_FIRST_VIEW = {
    "invited": MY_COURSES,
    "find_course": FIND_COURSE,
    "new_skill": FIND_COURSE,
    "exam": FIND_COURSE,
}
_STUDENT_TONE = {
    "simple": "Explain simply, with everyday examples and no jargon.",
    "detailed": "Explain in depth, with the details and the reasons behind them.",
    "brief": "Keep answers short and to the point.",
}
_TEACHER_TONE = {
    "children": "Write for children: short sentences, simple words, a warm tone.",
    "teens": "Write for teenagers: clear, friendly and direct.",
    "university": "Write for university students: precise, using the subject's terms.",
    "adults": "Write for adults learning for themselves: friendly and plain.",
    "professionals": "Write for professionals: concise and businesslike.",
}
_MEMO = "_onboarding_preferences"


@dataclass(frozen=True)
class Preferences:
    """What a person's survey says about the defaults they should get."""

    role: str
    asked: bool = False  # they answered or skipped: don't ask again
    answered: bool = False
    goal: str = ""
    subjects: tuple[str, ...] = ()
    audience: str = ""
    platforms: tuple[str, ...] = ()
    style: str = ""
    first_view: str = ""  # CREATE_COURSE, FIND_COURSE, MY_COURSES or "" (the usual dashboard)
    tone: str = ""  # a one-line style hint for the AI assistant, "" when unknown


def preferences_for(user: Any) -> Preferences:
    """Return `user`'s preferences from their survey, in one query, remembered on the user."""
    cached = getattr(user, _MEMO, None)
    if cached is not None:
        return cached
    prefs = _read_preferences(user)
    setattr(user, _MEMO, prefs)
    return prefs


def forget(user: Any) -> None:
    """Drop the preferences remembered on `user`, after their answers change."""
    if hasattr(user, _MEMO):
        delattr(user, _MEMO)


def _read_preferences(user: Any) -> Preferences:
    role = role_of(user)
    if not getattr(user, "is_authenticated", False):
        return Preferences(role=role)
    # A response without answers (skipped) still gives one row, with NULL answer columns.
    rows = list(
        SurveyResponse.objects.filter(user=user).values_list(
            "role", "skipped", "answers__question", "answers__choice"
        )
    )
    if not rows:
        return Preferences(role=role)
    answered_as, skipped = rows[0][0], rows[0][1]
    chosen: dict[str, list[str]] = {}
    for _, _, question, choice in rows:
        if question:
            chosen.setdefault(question, []).append(choice)
    if skipped or not chosen or answered_as != role:
        # Answers given in another role (a student who now teaches) don't fit the new one.
        return Preferences(role=role, asked=True)

    def one(key: str) -> str:
        return chosen.get(key, [""])[0]

    goal = one("goal")
    if role == Role.TEACHER:
        first_view = _TEACHER_FIRST_VIEW.get(goal, "")
        tone = _TEACHER_TONE.get(one("audience"), "")
    else:
        first_view = _STUDENT_FIRST_VIEW.get(goal, "")
        tone = _STUDENT_TONE.get(one("style"), "")
    return Preferences(
        role=role,
        asked=True,
        answered=True,
        goal=goal,
        subjects=tuple(sorted(chosen.get("subject", []))),
        audience=one("audience"),
        platforms=tuple(sorted(chosen.get("platforms", []))),
        style=one("style"),
        first_view=first_view,
        tone=tone,
    )


def ai_tone(user: Any) -> str:
    """Return a one-line style hint for AI answers to `user`, or "" when they didn't say."""
    return preferences_for(user).tone


def should_invite(user: Any) -> bool:
    """Say whether the dashboard should offer the survey: a new account that was never asked."""
    if preferences_for(user).asked:
        return False
    return bool(user.date_joined and user.date_joined >= timezone.now() - INVITE_FOR)


def suggested_starters(user: Any) -> list[starters.CourseStarter]:
    """Return up to 3 starting points for a teacher's course, from their answers (none without)."""
    prefs = preferences_for(user)
    if prefs.role != Role.TEACHER or not prefs.answered:
        return []
    return starters.suggest(subjects=prefs.subjects, goal=prefs.goal)


def starter(key: str) -> starters.CourseStarter | None:
    """Return the starting point called `key`, or None for an unknown key."""
    return starters.BY_KEY.get(key)


# --- Aggregates, for staff -------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    label: str
    count: int | None  # None: fewer than MIN_BUCKET people, withheld

    @property
    def withheld(self) -> bool:
        return self.count is None


@dataclass(frozen=True)
class Chart:
    question: Question
    buckets: list[Bucket]
    top: int  # the largest shown count, the bars' full scale

    @property
    def withheld_all(self) -> bool:
        return all(b.withheld for b in self.buckets)


@dataclass(frozen=True)
class RoleSummary:
    role: str
    label: str
    answered: int | None  # None: fewer than MIN_BUCKET
    skipped: int | None
    charts: list[Chart] = field(default_factory=list)


def _shown(count: int) -> int | None:
    return count if count >= MIN_BUCKET else None


def aggregates() -> list[RoleSummary]:
    """Return, per survey, how many answered or skipped and a chart per question.

    Two GROUP BY queries whatever the number of answers. Every count below
    MIN_BUCKET (zero included) is withheld, not shown; so are per-question
    totals, which would let a withheld bucket be worked out by subtraction.
    """
    counts: dict[tuple[str, str, str], int] = {
        (row["response__role"], row["question"], row["choice"]): row["n"]
        for row in SurveyAnswer.objects.values("response__role", "question", "choice")
        .annotate(n=Count("id"))
        .order_by()
    }
    responses: dict[tuple[str, bool], int] = {
        (row["role"], row["skipped"]): row["n"]
        for row in SurveyResponse.objects.values("role", "skipped")
        .annotate(n=Count("id"))
        .order_by()
    }
    summaries = []
    for role, label in Role.CHOICES:
        charts = []
        for question in QUESTIONS[role]:
            known = [c for c, _ in question.choices]
            retired = sorted(
                c for (r, q, c) in counts if r == role and q == question.key and c not in known
            )
            buckets = [
                Bucket(question.label_for(c), _shown(counts.get((role, question.key, c), 0)))
                for c in [*known, *retired]
            ]
            top = max((b.count for b in buckets if b.count is not None), default=0)
            charts.append(Chart(question=question, buckets=buckets, top=top))
        summaries.append(
            RoleSummary(
                role=role,
                label=label,
                answered=_shown(responses.get((role, False), 0)),
                skipped=_shown(responses.get((role, True), 0)),
                charts=charts,
            )
        )
    return summaries
