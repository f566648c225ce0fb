"""Retrieval for the course assistant over a course of 2,000 items and 5 MB of text.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lectern_bench_ai_retrieval \\
        .venv/bin/python -m bench.ai_retrieval [--items 2000] [--mb 5] [--questions 200]

PostgreSQL only. Fills one course (a teacher and an enrolled student, created
once, the items replaced on every run) with `--items` published materials whose
bodies add up to about `--mb` megabytes, written from a Zipf-distributed
vocabulary of made-up words, so a few words are everywhere and most are rare,
as in real text. Then asks `--questions` questions as the student through
`ai.retrieval.context_for` with a 2,000-token budget, each made of words of one
random item plus filler ("how does ... work?"), and reports:

- time per retrieval (median, p95), and the same for questions made only of the
  commonest words, the worst case (every item matches and is ranked);
- statements per retrieval, which must be the same for every question;
- the plan of the ranking statement (EXPLAIN ANALYZE), which must read the GIN
  index `courseitem_search`, and how often PostgreSQL planned the prepared
  statement generically (a generic plan cannot match the index expression).

Results also go to artifacts/bench/ai_retrieval.json.
"""

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

from bench.postgres import setup_django

ROOT = Path(__file__).resolve().parent.parent
EMAIL_PREFIX = "ai-retrieval-bench"
COURSE_SLUG = "ai-retrieval-bench"
BUDGET_TOKENS = 2000
SYLLABLES = [consonant + vowel for consonant in "bdklm" for vowel in "aeiou"]
FILLERS = ["how does", "what is", "explain", "why do we need", "when should I use"]


def _vocabulary(size: int = 20_000) -> list[str]:
    """Return made-up words, the same on every run; the first are the commonest."""
    words: set[str] = set()
    rng = random.Random(0)
    while len(words) < size:
        words.add("".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))))
    return sorted(words)


def _seed(items: int, megabytes: float, rng: random.Random) -> tuple[Any, Any, list[Any]]:
    from accounts.models import User
    from courses.models import Course, CourseItem, Enrollment, ItemKind

    teacher, _ = User.objects.get_or_create(
        email=f"{EMAIL_PREFIX}-teacher@example.com",
        defaults={"password": "!", "is_teacher": True, "organisation_name": "Bench"},
    )
    student, _ = User.objects.get_or_create(
        email=f"{EMAIL_PREFIX}-student@example.com", defaults={"password": "!"}
    )
    course, _ = Course.objects.get_or_create(
        slug=COURSE_SLUG,
        defaults={"teacher": teacher, "title": "Retrieval bench", "organisation": "Bench"},
    )
    Enrollment.objects.get_or_create(
        course=course, student=student, defaults={"status": Enrollment.Status.ACTIVE}
    )
    CourseItem.objects.filter(course=course).delete()

    vocabulary = _vocabulary()
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    body_chars = int(megabytes * 1_000_000 / items)
    rows = []
    for position in range(items):
        # Titles from the middle of the distribution: neither everywhere nor unique.
        title = " ".join(rng.choices(vocabulary[200:5000], k=rng.randint(2, 5))).capitalize()
        words: list[str] = []
        length = 0
        for word in rng.choices(vocabulary, weights=weights, k=body_chars // 4):
            words.append(word)
            length += len(word) + 1
            if length >= body_chars:
                break
        rows.append(
            CourseItem(
                course=course,
                kind=ItemKind.MATERIAL,
                title=title,
                body=" ".join(words),
                position=position,
                published=True,
            )
        )
    CourseItem.objects.bulk_create(rows, batch_size=500)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE courses_courseitem")
    return course, student, vocabulary


def _questions(
    rng: random.Random, course: Any, count: int, rare_from: int | None = None
) -> list[str]:
    """Return questions on random items: a title word and two words of the body.

    With `rare_from`, the body words are among the vocabulary's rarer ones (from
    that frequency rank on), as in a specific question.
    """
    from courses.models import CourseItem

    items = list(CourseItem.objects.filter(course=course).values_list("title", "body"))
    rank = {word: n for n, word in enumerate(_vocabulary())}
    questions = []
    for _ in range(count):
        title, body = rng.choice(items)
        body_words = sorted(set(body.split()))
        if rare_from is not None:
            body_words = [word for word in body_words if rank[word] >= rare_from] or body_words
        picked = [*rng.sample(title.lower().split(), 1), *rng.sample(body_words, 2)]
        questions.append(f"{rng.choice(FILLERS)} {' '.join(picked)} work?")
    return questions


class _Statements:
    def __init__(self) -> None:
        self.run: list[tuple[str, Any]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.run.append((sql, params))
        return execute(sql, params, many, context)


def _time(course: Any, student: Any, questions: list[str]) -> dict[str, Any]:
    from django.db import connection

    from ai import retrieval

    timings, statements, sizes = [], set(), []
    last: list[tuple[str, Any]] = []
    for question in questions:
        counted = _Statements()
        with connection.execute_wrapper(counted):
            started = time.perf_counter()
            context = retrieval.context_for(
                course=course, viewer=student, question=question, budget_tokens=BUDGET_TOKENS
            )
            timings.append((time.perf_counter() - started) * 1000)
        statements.add(len(counted.run))
        sizes.append(len(context))
        last = counted.run
    timings.sort()
    return {
        "questions": len(questions),
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
        "max_ms": round(timings[-1], 2),
        "statements_per_retrieval": sorted(statements),
        "items_returned_median": statistics.median(sizes),
        "last_statements": last,
    }


def _plan(statement: tuple[str, Any]) -> list[str]:
    from django.db import connection

    sql, params = statement
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {sql}", params)
        return [line for (line,) in cursor.fetchall()]


def _prepared() -> list[dict[str, Any]]:
    """Say how PostgreSQL planned the prepared ranking statement on this connection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE '%%search_document%%'"
        )
        return [{"generic_plans": g, "custom_plans": c} for g, c in cursor.fetchall()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--items", type=int, default=2000, help="items in the course")
    parser.add_argument("--mb", type=float, default=5.0, help="megabytes of text in all")
    parser.add_argument("--questions", type=int, default=200, help="questions to time")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit(
            "This benchmark needs PostgreSQL: set DATABASE_URL, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/lectern_bench_ai_retrieval"
        )
    setup_django(url)
    from django.db import connection

    from courses.models import CourseItem

    rng = random.Random(args.seed)
    started = time.perf_counter()
    course, student, vocabulary = _seed(args.items, args.mb, rng)
    seed_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), sum(length(title) + length(body)) FROM courses_courseitem "
            "WHERE course_id = %s",
            [course.pk],
        )
        item_count, text_chars = cursor.fetchone()
    print(
        f"{item_count:,} items, {text_chars / 1e6:.1f} MB of text, seeded in {seed_seconds:.1f} s"
    )

    typical = _time(course, student, _questions(rng, course, args.questions))
    specific = _time(course, student, _questions(rng, course, args.questions, rare_from=5000))
    common = _time(
        course, student, [f"what is {' '.join(vocabulary[i : i + 3])}?" for i in range(0, 60, 3)]
    )
    typical_plan = _plan(typical["last_statements"][-1])
    plan = _plan(specific["last_statements"][-1])
    uses_index = any("courseitem_search" in line for line in plan)
    prepared = _prepared()
    sets = (("typical", typical), ("specific", specific), ("commonest words", common))
    for name, figures in sets:
        print(
            f"{name}: {figures['questions']} questions, median {figures['median_ms']} ms, "
            f"p95 {figures['p95_ms']} ms, max {figures['max_ms']} ms, "
            f"statements per retrieval {figures['statements_per_retrieval']}, "
            f"items returned (median) {figures['items_returned_median']}"
        )
    print("plan of a typical question's ranking statement:\n  " + "\n  ".join(typical_plan))
    print("plan of a specific question's ranking statement:\n  " + "\n  ".join(plan))
    print(f"GIN index used: {uses_index}; prepared statement plans: {prepared}")

    result = {
        "items": item_count,
        "text_mb": round(text_chars / 1e6, 2),
        "budget_tokens": BUDGET_TOKENS,
        **{
            name.replace(" ", "_"): {k: v for k, v in figures.items() if k != "last_statements"}
            for name, figures in sets
        },
        "typical_ranking_plan": typical_plan,
        "specific_ranking_plan": plan,
        "gin_index_used": uses_index,
        "prepared_statement_plans": prepared,
        "items_in_table": CourseItem.objects.count(),
    }
    out = ROOT / "artifacts" / "bench" / "ai_retrieval.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if not uses_index:
        raise SystemExit("A specific question's ranking did not use the GIN index.")
    if {len(figures["statements_per_retrieval"]) for _, figures in sets} != {1}:
        raise SystemExit("The number of statements per retrieval varied between questions.")


if __name__ == "__main__":
    main()
