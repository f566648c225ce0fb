"""Grounding: which course content an AI request may see, best first, within a budget.

Visibility comes first and is decided here, once, for every caller: a student
sees only what `CourseItem.objects.visible_to_students()` shows them in a course
they are actively enrolled in; the teacher sees their course's items, drafts only
when a teacher's action asks for them (`include_drafts`). Private notes never
reach a prompt, not even the teacher's own: a teacher's action drafts text for
students, and a private note quoted there would be published by accident.
Submissions are another model and are never read here.

Ranking on PostgreSQL is full-text search over a stored tsvector under the GIN
index `courseitem_search` (courses migration 0006 says why stored), with the "simple"
configuration: lowercased words, no stemming and no stop words, because a course
may be written in any language and one language's stemmer mangles the others.
A question is searched as any of its words (websearch's `or`): a natural
question rarely has all its words in one item. SQLite has no full-text search of
this kind, so there the same function matches words with `icontains` over a
bounded candidate set and scores them in Python.

Either way a retrieval makes a fixed number of queries whatever the course's
size: one to check a student's enrolment, one to rank.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import Expression, F, Q, QuerySet
from django.db.models.functions import Left
from django.http import Http404
from django.urls import reverse

from courses import access
from courses.models import Course, CourseItem, ItemKind

SEARCH_CONFIG = "simple"
# Tokens are approximated as characters / 4, good enough for English and most
# European languages, and on the safe side for code.
CHARS_PER_TOKEN = 4
# What each item's block costs besides its title and excerpt (delimiters, kind, URL).
ITEM_OVERHEAD_CHARS = 80
# The most items one request is grounded on, and the share of the budget one may take,
# so a long item does not crowd out the second-best match.
MAX_ITEMS = 12
MAX_SHARE = 0.5
# An excerpt shorter than this is not worth a citation.
MIN_EXCERPT_CHARS = 120
MAX_QUESTION_WORDS = 12
# SQLite: how many matching items are scored in Python, and how much of each body.
FALLBACK_CANDIDATES = 200
FALLBACK_BODY_CHARS = 20_000
# Question words too common to tell items apart. The "simple" configuration keeps
# every word, so the commonest ones of the interface's language are dropped here.
_STOP_WORDS_TEXT = """
the and for are but not you your with what how does did can could would should this
that these those from about into which when where why who whom there their they them
have has had was were will shall been being its it's than then also our out all any
some more most such only own same too very just
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class ContextItem:
    """One course item given to the model, numbered for citations as [number]."""

    number: int
    item_id: int
    title: str
    kind: str
    url: str
    excerpt: str


class SearchDocument(Expression):
    """The item's stored tsvector, a column PostgreSQL generates and indexes.

    The column `search_document` (courses migration 0006) is not a model field, as
    SQLite has no such type: the title weighted A and the body weighted B, with
    the "simple" configuration, under the GIN index `courseitem_search`.
    """

    output_field = SearchVectorField()

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        table = compiler.quote_name(compiler.query.get_initial_alias())
        return f"{table}.{connection.ops.quote_name('search_document')}", ()


def question_words(question: str) -> list[str]:
    """Return the distinct words of `question` worth searching for, in order."""
    words: list[str] = []
    for word in _WORD.findall(question.lower()):
        if len(word) < 3 or word in STOP_WORDS or word in words:
            continue
        words.append(word)
    return words[:MAX_QUESTION_WORDS]


def context_for(
    *,
    course: Course,
    viewer: Any,
    question: str,
    budget_tokens: int,
    include_drafts: bool = False,
) -> list[ContextItem]:
    """Return the items of `course` that `viewer` may see and that best answer `question`.

    Best first, numbered from 1, with excerpts cut so that titles, excerpts and
    their blocks' overhead fit in `budget_tokens`. An empty list means the course
    says nothing about the question. `include_drafts` is for the teacher's own
    actions; raise Http404 when anyone but the teacher asks for drafts, and for a
    viewer who is neither the teacher nor an actively enrolled student.
    """
    if budget_tokens <= 0:
        raise ValueError("budget_tokens must be positive.")
    items = _visible_items(course, viewer, include_drafts)
    words = question_words(question)
    if not words:
        return []
    budget_chars = budget_tokens * CHARS_PER_TOKEN
    if connection.vendor == "postgresql":
        ranked = _ranked_by_full_text(items, words, budget_chars)
    else:
        ranked = _ranked_by_word_match(items, words, budget_chars)
    return _fit(course, ranked, budget_chars)


def chosen_context(
    *,
    course: Course,
    viewer: Any,
    item_ids: Sequence[int],
    budget_tokens: int,
    include_drafts: bool = False,
) -> list[ContextItem]:
    """Return the items `item_ids` of `course` that `viewer` may see, in the order given.

    For actions about particular items ("explain this", questions from chosen
    materials): the same visibility rules and token budget as `context_for`,
    no ranking. Ids of items the viewer may not see are dropped silently.
    """
    if budget_tokens <= 0:
        raise ValueError("budget_tokens must be positive.")
    budget_chars = budget_tokens * CHARS_PER_TOKEN
    wanted = list(dict.fromkeys(int(pk) for pk in item_ids))[:MAX_ITEMS]
    rows = {
        row[0]: row
        for row in _visible_items(course, viewer, include_drafts)
        .filter(pk__in=wanted)
        .annotate(excerpt=Left("body", budget_chars))
        .values_list("pk", "title", "kind", "excerpt")
    }
    return _fit(course, [rows[pk] for pk in wanted if pk in rows], budget_chars)


def _visible_items(course: Course, viewer: Any, include_drafts: bool) -> QuerySet[CourseItem]:
    items = CourseItem.objects.filter(course=course)
    if viewer.is_authenticated and course.teacher_id == viewer.pk:
        items = items.exclude(kind=ItemKind.NOTE, is_private=True)
        return items if include_drafts else items.filter(published=True)
    if include_drafts or not viewer.is_authenticated:
        raise Http404
    if access.get_enrollment(viewer, course) is None:
        raise Http404
    return items.visible_to_students()


def _ranked_by_full_text(
    items: QuerySet[CourseItem], words: list[str], budget_chars: int
) -> list[tuple[int, str, str, str]]:
    # Words only, joined by websearch's `or`: quotes and minus signs in the question
    # cannot turn into phrase or negation operators, and nothing raises a syntax error.
    query = SearchQuery(" or ".join(words), config=SEARCH_CONFIG, search_type="websearch")
    rows = (
        items.alias(document=SearchDocument())
        .filter(document=query)
        .annotate(rank=SearchRank(F("document"), query), excerpt=Left("body", budget_chars))
        .order_by("-rank", "position", "pk")
        .values_list("pk", "title", "kind", "excerpt")[:MAX_ITEMS]
    )
    return list(rows)


def _ranked_by_word_match(
    items: QuerySet[CourseItem], words: list[str], budget_chars: int
) -> list[tuple[int, str, str, str]]:
    matches = Q()
    for word in words:
        matches |= Q(title__icontains=word) | Q(body__icontains=word)
    candidates = (
        items.filter(matches)
        .annotate(text=Left("body", max(FALLBACK_BODY_CHARS, budget_chars)))
        .order_by("position", "pk")
        .values_list("pk", "title", "kind", "text")[:FALLBACK_CANDIDATES]
    )
    scored = []
    for order, (pk, title, kind, text) in enumerate(candidates):
        title_words = set(_WORD.findall(title.lower()))
        body = text.lower()
        # Like the weights on PostgreSQL: a word in the title counts more than many in the body.
        score = sum(
            (3.0 if word in title_words else 0.0) + math.log1p(body.count(word)) for word in words
        )
        if score > 0:
            scored.append((-score, order, (pk, title, kind, text[:budget_chars])))
    scored.sort(key=lambda entry: entry[:2])
    return [row for _, _, row in scored[:MAX_ITEMS]]


def _fit(
    course: Course, ranked: list[tuple[int, str, str, str]], budget_chars: int
) -> list[ContextItem]:
    context: list[ContextItem] = []
    left = budget_chars
    share = max(int(budget_chars * MAX_SHARE), 4 * MIN_EXCERPT_CHARS)
    for pk, title, kind, body in ranked:
        room = min(left, share) - ITEM_OVERHEAD_CHARS - len(title)
        if room < MIN_EXCERPT_CHARS and not (room > 0 and len(body) <= room):
            break
        excerpt = _cut(body.strip(), room)
        context.append(
            ContextItem(
                number=len(context) + 1,
                item_id=pk,
                title=title,
                kind=kind,
                url=reverse("courses:item", args=[course.slug, pk]),
                excerpt=excerpt,
            )
        )
        left -= ITEM_OVERHEAD_CHARS + len(title) + len(excerpt)
    return context


def _cut(text: str, limit: int) -> str:
    """Return `text`, or as much of it as fits in `limit` characters, ending at a word."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"
