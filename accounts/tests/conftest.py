"""The named people and browsers from tests/conftest.py, for the accounts tests."""

from tests.conftest import *  # noqa: F403
