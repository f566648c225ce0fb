"""The named people and browsers from tests/conftest.py, for the courses tests."""

from tests.conftest import *  # noqa: F403
