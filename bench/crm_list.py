"""The contacts list of a teacher with 20,000 contacts: a fixed number of queries per page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lectern_hcrm \\
        .venv/bin/python -m bench.crm_list [--contacts 20000]

PostgreSQL only. Creates (once; later runs reuse them) a teacher with three
courses and `--contacts` contacts: a quarter have an account and an enrolment
(active, left or held), a third carry one of five tags, a tenth have a source,
and a second teacher with 20 contacts. Then asks the list page, through
Django's test client signed in as each teacher, for the first page, a late
page, a search, each filter and each sort, and reports for each the number of
SQL queries and the median time of five requests. The count must be the same
for a few dozen contacts as for 20,000.

Results also go to artifacts/bench/crm_list.json.
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench.postgres import setup_django

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "crm-bench"
RUNS = 5


def _ready(teacher: Any) -> None:
    """Give a bench teacher a verified address and the current policies, as a real one has."""
    from allauth.account.models import EmailAddress

    from privacy import documents
    from privacy import services as privacy_services

    EmailAddress.objects.get_or_create(
        user=teacher, email=teacher.email, defaults={"primary": True, "verified": True}
    )
    privacy_services.record_acceptances(user=teacher, docs=documents.required_for(teacher))


def _teacher(name: str) -> Any:
    from accounts.models import User

    teacher, _ = User.objects.get_or_create(
        email=f"{PREFIX}-{name}@example.com",
        defaults={"is_teacher": True, "first_name": "Bench", "last_name": name.title()},
    )
    _ready(teacher)
    return teacher


def _seed(teacher: Any, name: str, count: int) -> None:
    """Give `teacher` `count` contacts, every 4th with an account and an enrolment."""
    from django.utils import timezone

    from accounts.models import User
    from courses.models import Course, Enrollment
    from crm.models import Contact, Tag

    if Course.objects.filter(slug=f"{PREFIX}-{name}-0").exists():
        return  # seeded by an earlier run
    courses = [
        Course.objects.get_or_create(
            slug=f"{PREFIX}-{name}-{n}", defaults={"teacher": teacher, "title": f"Course {n}"}
        )[0]
        for n in range(3)
    ]
    tags = [Tag.objects.get_or_create(teacher=teacher, name=f"Tag {n}")[0] for n in range(5)]
    now = timezone.now()
    emails = {n: f"{PREFIX}-{name}-student-{n}@example.com" for n in range(0, count, 4)}
    User.objects.bulk_create(
        [
            User(email=e, password="!", first_name="Student", last_name=str(n))
            for n, e in emails.items()
        ],
        batch_size=5000,
        ignore_conflicts=True,
    )
    users = dict(User.objects.filter(email__in=emails.values()).values_list("email", "pk"))
    statuses = ["active", "left", "held"]
    Enrollment.objects.bulk_create(
        [
            Enrollment(
                course=courses[n % 3],
                student_id=users[e],
                status=statuses[n % 3],
                hold_reason="guest" if n % 3 == 2 else "",
                hold_expires_at=now if n % 3 == 2 else None,
            )
            for n, e in emails.items()
        ],
        batch_size=5000,
        ignore_conflicts=True,
    )
    status_of = {"active": "student", "left": "past", "held": "registrant"}
    rows = []
    for n in range(count):
        email = emails.get(n) or f"{PREFIX}-{name}-person-{n}@example.org"
        rows.append(
            Contact(
                teacher=teacher,
                user_id=users.get(email),
                email=email,
                name=f"Person {n:06d}",
                company=f"Company {n % 12}",
                status=status_of[statuses[n % 3]]
                if n in emails
                else ("lead" if n % 2 else "contact"),
                source=f"source-{n % 3}" if n % 2 == 0 else "",
                first_seen=now,
                last_activity=now,
            )
        )
    Contact.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    ids = list(Contact.objects.filter(teacher=teacher).values_list("pk", flat=True))
    through = Contact.tags.through
    through.objects.bulk_create(
        [through(contact_id=pk, tag_id=tags[pk % 5].pk) for pk in ids if pk % 3 == 0],
        batch_size=5000,
        ignore_conflicts=True,
    )


def _measure(client: Any, url: str) -> tuple[int, float]:
    from django.db import connection

    client.get(url, secure=True)  # warm: the session, the caches
    statements: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url, secure=True)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        client.get(url, secure=True)
        times.append((time.perf_counter() - start) * 1000)
    return len(statements), round(statistics.median(times), 1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=20_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit(
            "This benchmark needs PostgreSQL: set DATABASE_URL, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/lectern_hcrm"
        )
    setup_django(url)
    from django.test import Client
    from django.urls import reverse

    from courses.models import Course
    from crm.models import Contact, Tag

    big, small = _teacher("big"), _teacher("small")
    _seed(big, "big", args.contacts)
    _seed(small, "small", 20)
    results: dict[str, Any] = {}
    for teacher in (small, big):
        who = f"{Contact.objects.filter(teacher=teacher).count():,} contacts"
        course = Course.objects.filter(teacher=teacher).order_by("pk").first()
        tag = Tag.objects.filter(teacher=teacher).order_by("pk").first()
        assert course is not None
        assert tag is not None
        base = reverse("crm:list")
        last = -(-Contact.objects.filter(teacher=teacher).count() // 50)
        pages = {
            "first page": base,
            "last page": f"{base}?page={last}",
            "search": f"{base}?q=company+1",
            "status": f"{base}?status=student",
            "tag": f"{base}?tag={tag.pk}",
            "course": f"{base}?course={course.pk}",
            "source": f"{base}?source=source-0",
            "sort by activity": f"{base}?sort=activity",
            "sort by first seen": f"{base}?sort=-first_seen",
        }
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(teacher, backend="django.contrib.auth.backends.ModelBackend")
        results[who] = {
            "contacts": Contact.objects.filter(teacher=teacher).count(),
            "pages": {
                name: dict(zip(("queries", "median_ms"), _measure(client, url), strict=True))
                for name, url in pages.items()
            },
        }
    small_result, big_result = results.values()
    small_counts = {k: v["queries"] for k, v in small_result["pages"].items()}
    big_counts = {k: v["queries"] for k, v in big_result["pages"].items()}
    result = {"runs_per_page": RUNS, "results": results, "fixed": small_counts == big_counts}
    out = ROOT / "artifacts" / "bench" / "crm_list.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    if small_counts != big_counts:
        raise SystemExit("The list's query count grows with the number of contacts.")


if __name__ == "__main__":
    main()
