"""Private Redis, PostgreSQL and gunicorn processes that a fault test may stop and start.

The machine's shared services are never touched: each helper starts its own
process on a free port, owned by the test, and removes it afterwards. A test
skips, saying why, where a binary is missing.

- `private_redis()` yields a `PrivateRedis` with `url(db)`, `stop()`, `start()`.
- `private_postgres()` yields a `PrivatePostgres` with `url(name)`, `createdb(name)`,
  `copy_database(source_url, name)`, `stop()`, `start()`, `restart()`.
- `gunicorn(env)` runs the production server (config/gunicorn.py) on a free
  port and yields a `Gunicorn` with `url(path)` and `log()`.
"""

import contextlib
import fcntl
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 20


def free_port() -> int:
    """Return a TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, *, up: bool = True, seconds: float = STARTUP_SECONDS) -> None:
    """Wait until something listens on `port` (or, with up=False, nothing does)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            listening = probe.connect_ex(("127.0.0.1", port)) == 0
        if listening == up:
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} is still {'closed' if up else 'open'} after {seconds} s")


# --- Redis -------------------------------------------------------------------------------------


@dataclass
class PrivateRedis:
    port: int
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        """Start (again) on the same port, empty: nothing is saved to disk."""
        binary = shutil.which("redis-server")
        assert binary
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        """Stop the server at once, as a crash or a restart would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        wait_for_port(self.port, up=False)


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    """Run a Redis of the test's own on a free port; skip where redis-server is missing."""
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server on the PATH (apt-get install redis-server)")
    server = PrivateRedis(port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- PostgreSQL --------------------------------------------------------------------------------


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres() -> list[str]:
    """Run as the postgres system user when we are root: PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("runuser"):
        pytest.skip("running as root needs runuser to start a private PostgreSQL")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root needs a postgres system user to start a private PostgreSQL")
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class PrivatePostgres:
    bindir: Path
    directory: Path
    port: int
    prefix: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *command: str, input: bytes | None = None) -> None:
        subprocess.run([*self.prefix, *command], check=True, capture_output=True, input=input)

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            *extra,
            action,
        )

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        """Stop at once: connections are ended, as when the server goes down."""
        self._pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        """Restart: every open connection is ended; the server answers again when this returns."""
        self._pg_ctl("restart", "-m", "fast")

    def createdb(self, name: str) -> None:
        self._run(
            str(self.bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            name,
        )

    def copy_database(self, source_url: str, name: str) -> None:
        """Create `name` here as a copy of the database at `source_url` (schema and rows)."""
        self.createdb(name)
        dump = subprocess.run(
            [str(self.bindir / "pg_dump"), "--no-owner", "--no-privileges", "-d", source_url],
            check=True,
            capture_output=True,
        ).stdout
        self._run(
            str(self.bindir / "psql"),
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            self.url(name),
            input=dump,
        )


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """Run a PostgreSQL cluster of the test's own on a free port; skip where it can't be made."""
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip(
            "needs PostgreSQL's server binaries (initdb, pg_ctl): apt-get install postgresql"
        )
    prefix = _as_postgres()
    directory = Path(tempfile.mkdtemp(prefix="lectern-pg-"))
    if prefix:
        shutil.chown(directory, "postgres", "postgres")
    server = PrivatePostgres(bindir=bindir, directory=directory, port=free_port(), prefix=prefix)
    try:
        server._run(
            str(bindir / "initdb"),
            "-D",
            str(server.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        server.start()
        try:
            yield server
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                server._pg_ctl("stop", "-m", "immediate")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# --- gunicorn ----------------------------------------------------------------------------------


@dataclass
class Gunicorn:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log(self) -> str:
        """Return what the server and the app logged so far."""
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> set[int]:
        """Return the ids of the master's worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()} if children.exists() else set()


def production_env(**overrides: str) -> dict[str, str]:
    """Return the environment of a production process: DEBUG off, the given services."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "DATABASE_", "REDIS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY="fault-tests-secret-key-not-for-production-0123456789",
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        BEHIND_TLS_PROXY="0",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2) -> Iterator[Gunicorn]:
    """Run gunicorn with config/gunicorn.py on a free port, with `env` (see `production_env`)."""
    binary = Path(sys.executable).parent / "gunicorn"
    if not binary.exists():
        pytest.skip("needs gunicorn in the virtualenv")
    collect_static_files(env)
    port = free_port()
    env = {**env, "PORT": str(port), "WEB_CONCURRENCY": str(workers)}
    with tempfile.NamedTemporaryFile(prefix="lectern-gunicorn-", suffix=".log") as log_file:
        process = subprocess.Popen(
            [str(binary), "-c", "config/gunicorn.py", "--bind", f"127.0.0.1:{port}", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = Gunicorn(port=port, process=process, log_path=Path(log_file.name))
        try:
            _wait_until_serving(server)
            yield server
        except BaseException:
            # Shown with the failure: what the workers logged says why.
            sys.stdout.write(f"--- gunicorn log ---\n{server.log()}\n")
            raise
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn as an orchestrator would (TERM, then KILL), its workers with it."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def collect_static_files(env: dict[str, str]) -> None:
    """Run collectstatic unless its copies are newer than every static file of ours.

    Production serves the hashed copies collectstatic makes; without them any
    page fails. Collecting takes a while, so it runs only when something changed.
    """
    manifest = ROOT / "var" / "staticfiles" / "staticfiles.json"
    sources = [*ROOT.glob("static/**/*"), *ROOT.glob("*/static/**/*")]
    newest = max((path.stat().st_mtime for path in sources if path.is_file()), default=0.0)
    (ROOT / "var").mkdir(exist_ok=True)
    # Parallel test processes share the folder: one collects while the others wait.
    with open(ROOT / "var" / "collectstatic.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.exists() and manifest.stat().st_mtime >= newest:
            return
        command = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
        subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=300)


def _wait_until_serving(server: Gunicorn) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited at start:\n{server.log()}")
        try:
            requests.get(server.url("/healthz"), timeout=5)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise TimeoutError(f"gunicorn did not answer within {STARTUP_SECONDS} s:\n{server.log()}")
