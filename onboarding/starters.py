"""Suggested starting points for a teacher's first course, chosen from their survey answers.

A starter fills the new-course form (title, summary, description, schedule,
seats); the teacher changes anything before saving. Nothing is created until
they do.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class CourseStarter:
    key: str
    name: str  # what the suggestion is called on the page
    blurb: str  # one line on what it is good for
    title: str
    summary: str
    description: str
    schedule: str
    capacity: int | None = None
    subjects: tuple[str, ...] = ()
    goals: tuple[str, ...] = ()


_OUTLINE = "## What you'll learn\n\n- \n- \n- \n\n## Who it's for\n\n\n\n## How it works\n\n{how}\n"

STARTERS = (
    CourseStarter(
        key="live-cohort",
        name="Paid live cohort",
        blurb="A fixed group meeting weekly for a few weeks, with a start date and a price.",
        title="Six-week live course",
        summary="Six weekly live classes in a small group, with exercises between sessions.",
        description=_OUTLINE.format(
            how="Six live classes, one a week, recorded for anyone who misses one. "
            "A short exercise after each class, with feedback."
        ),
        schedule="Weekly, 6 sessions of 90 minutes",
        capacity=20,
        goals=("sell_course",),
    ),
    CourseStarter(
        key="weekly-class",
        name="Ongoing weekly class",
        blurb="The class you already teach, moved here: one time slot, every week.",
        title="Weekly class",
        summary="Our regular weekly class: materials, homework and messages in one place.",
        description=_OUTLINE.format(
            how="We meet every week at the same time. Materials and homework are posted "
            "after each class."
        ),
        schedule="Every week, 60 minutes",
        goals=("teach_class",),
    ),
    CourseStarter(
        key="free-study-group",
        name="Free study group",
        blurb="An open, free group: people join, meet and learn together.",
        title="Open study group",
        summary="A free, friendly group that meets online to learn together.",
        description=_OUTLINE.format(
            how="We meet every two weeks. Everyone is welcome; bring questions."
        ),
        schedule="Every other week, 60 minutes",
        goals=("free_course", "explore"),
    ),
    CourseStarter(
        key="language-conversation",
        name="Conversation practice",
        blurb="Small-group speaking practice at one level.",
        title="Conversation practice (intermediate)",
        summary="Speak more, with confidence: small-group conversation on everyday topics.",
        description=_OUTLINE.format(
            how="Twice a week in groups of up to eight. Each class starts with a short "
            "vocabulary list, posted beforehand."
        ),
        schedule="Twice a week, 45 minutes",
        capacity=8,
        subjects=("languages",),
    ),
    CourseStarter(
        key="music-lessons",
        name="Group music lessons",
        blurb="Lessons with practice pieces and a recital at the end.",
        title="Beginner group lessons",
        summary="Learn the basics in a small group, with practice pieces each week.",
        description=_OUTLINE.format(
            how="One lesson a week with a practice piece to prepare. A short recital "
            "in the last class."
        ),
        schedule="Weekly, 8 lessons of 45 minutes",
        capacity=6,
        subjects=("music", "art"),
    ),
    CourseStarter(
        key="coding-bootcamp",
        name="Hands-on workshop series",
        blurb="Build something real, one session at a time, with assignments to submit.",
        title="Build your first project",
        summary="A hands-on workshop series: build a working project step by step.",
        description=_OUTLINE.format(
            how="Four live workshops; each ends with an assignment you submit and get feedback on."
        ),
        schedule="Weekly, 4 workshops of 2 hours",
        capacity=25,
        subjects=("tech", "business"),
    ),
    CourseStarter(
        key="exam-prep",
        name="Exam preparation",
        blurb="Timed practice papers, marked, in the weeks before an exam.",
        title="Exam preparation course",
        summary="Practice papers, marked feedback and live review sessions before the exam.",
        description=_OUTLINE.format(
            how="A practice paper each week, graded with feedback, and a live session "
            "going through the hardest questions."
        ),
        schedule="Weekly, 8 sessions of 60 minutes",
        capacity=30,
        subjects=("academic",),
    ),
    CourseStarter(
        key="wellbeing-classes",
        name="Drop-in classes",
        blurb="Regular live classes people join when they can.",
        title="Weekly live classes",
        summary="Live classes you can join from home, at every level.",
        description=_OUTLINE.format(how="Three live classes a week. Join the ones that suit you."),
        schedule="Mon, Wed and Fri, 45 minutes",
        subjects=("wellbeing",),
    ),
)

BY_KEY = {starter.key: starter for starter in STARTERS}


def suggest(*, subjects: tuple[str, ...], goal: str, limit: int = 3) -> list[CourseStarter]:
    """Return up to `limit` starters: those for the subject first, then for the goal."""
    ranked = [s for s in STARTERS if set(s.subjects) & set(subjects)]
    ranked += [s for s in STARTERS if goal in s.goals and s not in ranked]
    return ranked[:limit]
