from tests.conftest import *  # noqa: F403 (the named people as fixtures)
