"""The live attendance benchmark, run small: a room's finish costs the same statements at any size.

The benchmark itself runs by hand on PostgreSQL (bench/live_attendance.py) with
500 participants and 20,000 events; here the same code runs at 5 and at 30.
"""

import pytest

from bench import live_attendance


@pytest.mark.django_db
def test_a_rooms_finish_costs_the_same_statements_for_5_or_30_participants() -> None:
    small = live_attendance.measure(5, 100)
    large = live_attendance.measure(30, 600)

    assert (small.participants, small.attendance_rows) == (5, 5)
    assert (large.participants, large.attendance_rows) == (30, 30)
    assert large.intervals == 30 * 10 + 1  # ten connections each, and the teacher's
    for name in ("cold", "again", "one_event"):
        assert getattr(small, name).queries == getattr(large, name).queries, name
    assert large.cold.queries <= 20
