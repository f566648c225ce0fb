"""Settings come from the environment, with safe production defaults."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.template import engines
from django.test import Client, RequestFactory
from django.urls import reverse

from core.env import env_bool, env_int, env_list, env_str


def import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings module in a fresh interpreter with exactly `env` on top of PATH."""
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=settings.BASE_DIR,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off() -> None:
    result = import_settings(DEBUG="0")

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_it_treats_a_missing_debug_as_off() -> None:
    result = import_settings()

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_starts_without_a_secret_key_in_debug() -> None:
    result = import_settings(DEBUG="1")

    assert result.returncode == 0, result.stderr


def test_it_names_the_variable_when_a_boolean_is_misspelt() -> None:
    result = import_settings(DEBUG="maybe")

    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


class TestEnvHelpers:
    def test_it_returns_the_default_for_unset_and_empty_variables(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("LECTERN_TEST_VAR", raising=False)
        assert env_str("LECTERN_TEST_VAR", "fallback") == "fallback"
        monkeypatch.setenv("LECTERN_TEST_VAR", "   ")
        assert env_str("LECTERN_TEST_VAR", "fallback") == "fallback"
        assert env_bool("LECTERN_TEST_VAR", True) is True
        assert env_int("LECTERN_TEST_VAR", 7) == 7
        assert env_list("LECTERN_TEST_VAR", ["a"]) == ["a"]

    def test_it_strips_strings(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("LECTERN_TEST_VAR", "  value ")
        assert env_str("LECTERN_TEST_VAR") == "value"

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("off", False)],
    )
    def test_it_reads_the_usual_boolean_spellings(
        self, monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
    ) -> None:
        monkeypatch.setenv("LECTERN_TEST_VAR", raw)
        assert env_bool("LECTERN_TEST_VAR") is expected

    def test_it_refuses_other_boolean_spellings(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("LECTERN_TEST_VAR", "enabled")
        with pytest.raises(ImproperlyConfigured, match="LECTERN_TEST_VAR must be one of"):
            env_bool("LECTERN_TEST_VAR")

    def test_it_reads_integers_and_refuses_anything_else(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LECTERN_TEST_VAR", "42")
        assert env_int("LECTERN_TEST_VAR", 0) == 42
        monkeypatch.setenv("LECTERN_TEST_VAR", "4.2")
        with pytest.raises(ImproperlyConfigured, match="LECTERN_TEST_VAR must be an integer"):
            env_int("LECTERN_TEST_VAR", 0)

    def test_it_splits_lists_on_commas_and_drops_blanks(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LECTERN_TEST_VAR", " a.example, ,b.example,")
        assert env_list("LECTERN_TEST_VAR") == ["a.example", "b.example"]


@pytest.mark.django_db
class TestSecurityHeaders:
    def test_it_sends_the_security_headers(self, client: Client) -> None:
        response = client.get(reverse("healthz"))

        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp

    def test_it_allows_no_inline_script_without_a_nonce(self, client: Client) -> None:
        csp = client.get(reverse("home"))["Content-Security-Policy"]

        script_src = re.search(r"script-src ([^;]*)", csp)
        assert script_src, csp
        assert script_src.group(1).split()[0] == "'self'"
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp

    def test_it_puts_a_fresh_nonce_in_the_policy_of_a_page_that_uses_one(
        self, rf: RequestFactory
    ) -> None:
        template = engines["django"].from_string('<script nonce="{{ csp_nonce }}">go()</script>')
        middleware = ContentSecurityPolicyMiddleware(
            lambda request: HttpResponse(template.render(request=request))
        )

        nonces = []
        for _ in range(2):
            response = middleware(rf.get("/"))
            assert isinstance(response, HttpResponse)
            csp = response["Content-Security-Policy"]
            match = re.search(r"script-src 'self' 'nonce-([^']+)'", csp)
            assert match, csp
            assert f'<script nonce="{match.group(1)}">' in response.content.decode()
            nonces.append(match.group(1))
        assert nonces[0] != nonces[1]

    def test_it_sends_hsts_over_https(self, client: Client) -> None:
        response = client.get(reverse("healthz"), secure=True)

        assert response["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains; preload"
        )

    def test_it_sends_no_hsts_over_plain_http(self, client: Client) -> None:
        response = client.get(reverse("healthz"))

        assert "Strict-Transport-Security" not in response

    def test_it_marks_cookies_secure_when_debug_is_off(self) -> None:
        assert settings.DEBUG is False
        assert settings.SESSION_COOKIE_SECURE is True
        assert settings.CSRF_COOKIE_SECURE is True


def _database_options(**env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "from config import settings; print(settings.DATABASES)"],
        cwd=settings.BASE_DIR,
        env={"PATH": os.environ.get("PATH", ""), "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_it_keeps_repeated_postgresql_queries_prepared_unless_told_not_to() -> None:
    url = "postgres://lectern@db:5432/lectern"
    on = _database_options(DATABASE_URL=url)
    assert "'server_side_binding': True" in on
    assert "'prepare_threshold': 5" in on

    off = _database_options(DATABASE_URL=url, DATABASE_PREPARED_STATEMENTS="0")
    assert "server_side_binding" not in off
    assert "prepare_threshold" not in off
    assert "server_side_binding" not in _database_options()  # SQLite
