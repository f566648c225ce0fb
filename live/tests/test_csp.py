"""Pages may open a connection to the LiveKit server, and only once one is configured."""

import os
import subprocess
import sys

from django.conf import settings

from live.tests.kit import KEY, SECRET

# Builds a page's Content-Security-Policy header in a fresh interpreter, settings read anew.
PRINT_HEADER = """
import django
django.setup()
from django.http import HttpResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.test import RequestFactory
middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse())
print(middleware(RequestFactory().get("/"))["Content-Security-Policy"])
"""


def connect_src(**env: str) -> list[str]:
    """Return the connect-src sources of the policy the settings give under `env`."""
    result = subprocess.run(
        [sys.executable, "-c", PRINT_HEADER],
        cwd=settings.BASE_DIR,
        env={
            "PATH": os.environ.get("PATH", ""),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    [directive] = [d.strip() for d in result.stdout.split(";") if "connect-src" in d]
    return directive.split()[1:]


def test_it_connects_only_to_our_origin_without_livekit() -> None:
    assert connect_src() == ["'self'"]


def test_it_connects_only_to_our_origin_while_livekit_is_half_set_up() -> None:
    assert connect_src(LIVEKIT_URL="wss://live.example.org") == ["'self'"]


def test_it_allows_the_livekit_server_once_configured() -> None:
    sources = connect_src(
        LIVEKIT_URL="wss://live.example.org", LIVEKIT_API_KEY=KEY, LIVEKIT_API_SECRET=SECRET
    )

    assert sources == ["'self'", "wss://live.example.org", "https://live.example.org"]


def test_it_keeps_the_port_and_plain_schemes_of_a_local_server() -> None:
    sources = connect_src(
        LIVEKIT_URL="ws://127.0.0.1:7880", LIVEKIT_API_KEY=KEY, LIVEKIT_API_SECRET=SECRET
    )

    assert sources == ["'self'", "ws://127.0.0.1:7880", "http://127.0.0.1:7880"]
