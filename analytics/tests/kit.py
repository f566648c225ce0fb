"""Helpers for the analytics tests: the middleware switched on, and the counters emptied."""

from collections.abc import Iterator

import pytest
from django.test import modify_settings

from analytics import counters, services

MIDDLEWARE = "analytics.middleware.StorefrontAnalyticsMiddleware"

# Switch the middleware on for a test case or function, wherever settings put it (or not).
with_analytics = modify_settings(MIDDLEWARE={"append": MIDDLEWARE})


@pytest.fixture
def analytics_on() -> Iterator[None]:
    counters.take_local()
    with with_analytics:
        yield
    counters.take_local()


def flush() -> services.Flushed:
    return services.flush_counters()
