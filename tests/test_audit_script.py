"""scripts/audit tells vulnerabilities found (a failure) from an advisory service it can't reach.

The advisory services are replaced at their HTTP edge: PyPI's JSON API through
`responses` around pip-audit's own code, and npm's bulk advisory endpoint by a
small local registry that npm itself is pointed at.
"""

import gzip
import hashlib
import importlib.machinery
import importlib.util
import json
import shutil
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest
import responses

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "audit"


def load_audit() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("lectern_audit_script", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up in sys.modules.
    sys.modules[loader.name] = module
    loader.exec_module(module)
    return module


audit = load_audit()

# --- pip-audit: its real code, PyPI's JSON API replaced ------------------------------------

HASH = hashlib.sha256(b"any wheel").hexdigest()
DJANGO_OLD = "https://pypi.org/pypi/django/4.2.0/json"
IDNA = "https://pypi.org/pypi/idna/3.20/json"


def pypi_release(vulnerabilities: list[dict[str, Any]]) -> dict[str, Any]:
    return {"info": {}, "urls": [], "vulnerabilities": vulnerabilities}


def run_pip_audit(tmp_path: Path, service: str = "pypi") -> Any:
    """Run pip-audit in this process with the script's own arguments; classify its report."""
    from pip_audit import _cli

    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        f"django==4.2.0 --hash=sha256:{HASH}\nidna==3.20 --hash=sha256:{HASH}\n"
    )
    output = tmp_path / "report.json"
    argv = ["pip-audit", *audit.pip_audit_args(requirements, service, output)]
    argv += ["--cache-dir", str(tmp_path / "cache")]
    saved = sys.argv
    sys.argv = argv
    stderr = ""
    try:
        try:
            _cli.audit()
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        except Exception as error:  # what an unreachable service raises out of pip-audit
            code, stderr = 1, f"{type(error).__name__}: {error}"
    finally:
        sys.argv = saved
    report = output.read_text() if output.exists() else ""
    return audit.classify_pip_audit(code, report, stderr, service)


@responses.activate
def test_it_fails_when_pypi_knows_a_vulnerability(tmp_path: Path) -> None:
    responses.get(
        DJANGO_OLD,
        json=pypi_release(
            [
                {
                    "id": "PYSEC-2099-1",
                    "aliases": ["CVE-2099-0001"],
                    "fixed_in": ["4.2.1"],
                    "summary": "SQL injection",
                    "withdrawn": None,
                }
            ]
        ),
    )
    responses.get(IDNA, json=pypi_release([]))

    result = run_pip_audit(tmp_path)

    assert result.status == audit.FAILED
    assert "django 4.2.0: PYSEC-2099-1 (fixed in 4.2.1)" in result.details


@responses.activate
def test_it_passes_when_pypi_answers_for_every_package_without_a_vulnerability(
    tmp_path: Path,
) -> None:
    responses.get(DJANGO_OLD, json=pypi_release([]))
    responses.get(IDNA, json=pypi_release([]))

    result = run_pip_audit(tmp_path)

    assert result.status == audit.OK
    assert "2 packages checked" in result.summary


@responses.activate
def test_it_skips_when_pypi_answers_404_for_every_package(tmp_path: Path) -> None:
    # pip-audit itself exits 0 here, having audited nothing: that is not a pass.
    responses.get(DJANGO_OLD, status=404)
    responses.get(IDNA, status=404)

    result = run_pip_audit(tmp_path)

    assert result.status == audit.SKIPPED
    assert "none of 2 packages" in result.summary


@responses.activate
def test_it_skips_when_the_advisory_service_cannot_be_reached(tmp_path: Path) -> None:
    # Nothing registered: every request fails to connect, as without a network.
    result = run_pip_audit(tmp_path, service="osv")

    assert result.status == audit.SKIPPED


def test_it_fails_when_pip_audit_breaks_for_a_reason_of_ours() -> None:
    result = audit.classify_pip_audit(2, "", "error: invalid requirement: 'django=='", "pypi")
    assert result.status == audit.FAILED


# --- npm audit: the real npm, against a local registry ---------------------------------------


class FakeRegistry(BaseHTTPRequestHandler):
    """npm's bulk advisory endpoint; packuments are not found (npm copes)."""

    answer: ClassVar[tuple[int, dict[str, Any]]] = (200, {})
    asked: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        FakeRegistry.asked.append(json.loads(body))
        status, payload = self.answer
        data = json.dumps(payload).encode() if status == 200 else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[type[FakeRegistry]]:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeRegistry.asked = []
    monkeypatch.setenv("npm_config_registry", f"http://127.0.0.1:{server.server_port}/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    try:
        yield FakeRegistry
    finally:
        server.shutdown()
        server.server_close()


def test_npm_fails_on_a_vulnerable_front_end_library(registry: type[FakeRegistry]) -> None:
    advisory = {
        "id": 1099999,
        "url": "https://example.org/advisories/1099999",
        "title": "Cross-site scripting",
        "severity": "high",
        "vulnerable_versions": "<99.0.0",
        "cwe": ["CWE-79"],
        "cvss": {"score": 7.5, "vectorString": None},
    }
    registry.answer = (200, {"htmx.org": [advisory]})

    result = audit.check_npm()

    assert result.status == audit.FAILED
    assert "htmx.org (high)" in result.details
    # Only what pages load was asked about: no dev dependency.
    assert "htmx.org" in registry.asked[0]
    assert "axe-core" not in registry.asked[0]


def test_npm_passes_when_the_registry_knows_no_advisory(registry: type[FakeRegistry]) -> None:
    registry.answer = (200, {})

    assert audit.check_npm().status == audit.OK


def test_npm_skips_when_the_audit_endpoint_refuses(registry: type[FakeRegistry]) -> None:
    registry.answer = (405, {})

    result = audit.check_npm()

    assert result.status == audit.SKIPPED
    assert "405" in result.summary


# --- bandit ---------------------------------------------------------------------------------


def test_bandit_findings_fail_with_where_they_are() -> None:
    report = {
        "errors": [],
        "results": [
            {
                "filename": "./billing/views.py",
                "line_number": 12,
                "test_id": "B608",
                "issue_severity": "MEDIUM",
                "issue_text": "Possible SQL injection",
            }
        ],
    }
    result = audit.classify_bandit(report)
    assert result.status == audit.FAILED
    assert "billing/views.py:12 B608" in result.details
    assert audit.classify_bandit({"errors": [], "results": []}).status == audit.OK
