"""Gunicorn settings for production (the Docker image and docker compose's `web`).

Development uses `manage.py runserver` through `make run` instead.
"""

import multiprocessing
import os
import shutil
import tempfile
from typing import Any

from core.env import env_bool, env_int, env_str

port = env_int("PORT", 8000)
bind = f"0.0.0.0:{port}"
workers = env_int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
threads = env_int("GUNICORN_THREADS", 1)
timeout = env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 5
# Load the app once in the master and fork the workers from it: a worker that
# starts (or restarts) is warm at once instead of importing everything again.
preload_app = env_bool("GUNICORN_PRELOAD", True)
# Recycle workers now and then so a slow leak never grows without bound, but never
# together: each worker draws its own limit anywhere in [max, 1.5 * max]. With a
# small jitter, workers started at once all restarted within seconds of each other.
max_requests = env_int("GUNICORN_MAX_REQUESTS", 20_000)
max_requests_jitter = max_requests // 2
# Heartbeat files on tmpfs: a container's overlay disk can stall them.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - tmpfs, private to the container  # nosec B108
# The app logs every request itself, as JSON with its request id.
accesslog = None
errorlog = "-"
# Trust X-Forwarded-* only from the proxy in front (compose network or load balancer).
forwarded_allow_ips = env_str("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Metrics (/metrics, on with METRICS_TOKEN): each worker writes its counts to files in one
# folder on tmpfs and the worker answering a scrape adds up every worker's files.
# prometheus_client picks that mode when it is imported, so the folder is named here,
# before the app loads. PROMETHEUS_MULTIPROC_DIR, when set, names another folder.
METRICS_ON = bool(env_str("METRICS_TOKEN"))
if METRICS_ON:
    _shm = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()  # noqa: S108  # nosec B108
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(_shm, f"lectern-metrics-{port}"))
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# Only now: prometheus_client, which core.metrics imports, reads the folder's name at import.
from core import metrics  # noqa: E402


def on_starting(server: Any) -> None:
    """Start the counts from zero: files left by an earlier run would be added in."""
    if METRICS_ON:
        folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """Keep a finished worker's counts in the totals, in one archive file, and drop its files."""
    if METRICS_ON:
        metrics.archive_worker(worker.pid, os.environ["PROMETHEUS_MULTIPROC_DIR"])
