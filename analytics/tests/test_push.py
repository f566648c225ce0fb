"""With Redis, a process's counts reach the shared counters soon after the last view."""

import pytest

from analytics import counters
from core.testing import requires_redis

pytestmark = [requires_redis]


def test_the_last_view_before_a_quiet_spell_reaches_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    counters.take_local()
    monkeypatch.setattr(counters, "PUSH_SECONDS", 0.05)
    counters._last_push[0] = float("inf")  # a push just happened: the next view waits
    monkeypatch.setattr(counters.time, "monotonic", lambda: 0.0)

    counters.record(counters.Hit(kind=counters.VIEW, page="c/quiet", utm_source="newsletter"))

    timer = counters._timer[0]
    assert timer is not None
    timer.join(timeout=5)
    assert not counters.local_pending()
    batch = counters.RedisBatch()
    counts, _ = batch.read()
    batch.done()
    assert [n for name, n in counts.items() if "|c/quiet|newsletter|" in name] == [1]
