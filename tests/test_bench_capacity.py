"""The capacity benchmark's own logic: its verdict, its CPU accounting, how it reads pages.

The benchmark itself runs by hand (bench/capacity.py); these tests keep its
arithmetic honest and catch a template change that would leave its simulated
browsers polling a URL the page no longer gives.
"""

from types import SimpleNamespace
from typing import Any

from django.template.loader import render_to_string

from bench import capacity_pages, capacity_report


def test_it_holds_a_step_only_without_errors_and_under_the_p95_limit():
    assert capacity_report.step_held(p95_ms=299, errors=0, requests=100)
    assert not capacity_report.step_held(p95_ms=300, errors=0, requests=100)
    assert not capacity_report.step_held(p95_ms=20, errors=1, requests=100)
    assert not capacity_report.step_held(p95_ms=None, errors=0, requests=0)


def test_it_counts_capacity_up_to_the_first_failed_step():
    steps = [
        {"students": 250, "held": False},
        {"students": 100, "held": True},
        {"students": 125, "held": True},
        {"students": 300, "held": True},
    ]
    assert capacity_report.max_students_held(steps) == 125
    assert capacity_report.max_students_held([{"students": 100, "held": False}]) == 0


def test_it_sums_cpu_over_processes_that_come_and_go():
    account = capacity_report.CpuAccount()
    account.observe(pid=10, created_at=1.0, cpu_seconds=5.0)  # a worker running before
    account.observe(pid=11, created_at=2.0, cpu_seconds=3.0)  # one that exits before the window
    account.start(now=100.0)
    account.observe(pid=10, created_at=1.0, cpu_seconds=7.5)
    account.observe(pid=12, created_at=130.0, cpu_seconds=0.4)  # recycled in: counts from zero
    account.observe(pid=12, created_at=130.0, cpu_seconds=1.0)
    account.observe(pid=10, created_at=150.0, cpu_seconds=0.5)  # pid reused by a new process
    assert account.used() == 2.5 + 1.0 + 0.5
    assert account.started_since() == 2


def test_it_tells_this_benchmarks_database_backends_from_others():
    ours = "postgres: 15/main: postgres lectern_bench_capacity 127.0.0.1(5123) idle"
    other = "postgres: 15/main: postgres test_lectern_main [local] SELECT"
    assert capacity_report.postgres_role(ours, "lectern_bench_capacity") == "ours"
    assert capacity_report.postgres_role(other, "lectern_bench_capacity") == "other"
    assert capacity_report.postgres_role("postgres: 15/main: walwriter ", "x") == "shared"
    assert capacity_report.postgres_role("/usr/lib/postgresql/15/bin/postgres -D /x", "x") == (
        "shared"
    )


def test_it_reads_the_next_poll_from_the_rendered_poller():
    page = render_to_string(
        "messaging/_poller.html",
        {
            "conversation": SimpleNamespace(pk=7),
            "poll": {"after": 41, "version": 9, "etag": 'W/"c7.v9.r1"', "seconds": 3},
        },
    )
    assert capacity_pages.polling_element(capacity_pages.POLLER, page) == (
        "/messages/7/poll/?after=41&v=9",
        'W/"c7.v9.r1"',
        3.0,
    )


def test_it_reads_the_badge_etag_and_interval():
    page = render_to_string(
        "messaging/_unread_badge.html",
        {"unread_count": 4, "message_badge": SimpleNamespace(poll_seconds=15)},
    )
    assert capacity_pages.polling_element(capacity_pages.BADGE, page) == (
        "/messages/unread/",
        'W/"u4"',
        15.0,
    )


def test_it_reads_the_csrf_token_htmx_sends():
    page = '<body hx-headers=\'{"X-CSRFToken": "abc123"}\'>'
    assert capacity_pages.csrf_token(page) == "abc123"
    assert capacity_pages.csrf_token("<body>") is None


def test_it_prints_a_markdown_row_per_step():
    step = {
        "students": 125,
        "held": True,
        "overall": {"rps": 52.4, "p50_ms": 9, "p95_ms": 120, "p99_ms": 250, "errors": 0},
        "endpoints": {"poll": {"p95_ms": 110}},
        "cpu_cores": {"gunicorn": 1.1, "postgres": 0.2, "redis": 0.01, "loadgen": 0.1, "other": 0},
    }
    table = capacity_report.markdown_table([step]).splitlines()
    assert len(table) == 3
    assert table[2].startswith("| 125 | 52 | 9 | 120 | 250 | 110 | - | - | - | 0 | 1.10 |")
    assert table[2].endswith("| yes |")


def test_its_timeline_places_each_request_in_the_second_it_was_sent():
    listeners: list[Any] = []
    environment = SimpleNamespace(
        events=SimpleNamespace(request=SimpleNamespace(add_listener=listeners.append))
    )
    timeline = capacity_report.Timeline(environment)
    timeline.started -= 10  # the hold began ten seconds ago
    record = listeners[0]
    record(response_time=2_500.0)  # sent 2.5 s ago: second 7
    record(response_time=40.0)  # sent just now: second 9
    record(response_time=120.0)
    record(response_time=60_000.0)  # sent before the hold: not counted
    summary = timeline.summary(limit_ms=300)
    assert summary["rows"] == [[7, 1, 1, 2500], [9, 2, 0, 120]]
    assert summary["seconds_with_slow"] == 1
