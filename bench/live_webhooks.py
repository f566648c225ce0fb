"""LiveKit webhook ingest against a bare POST view, side by side, under gunicorn.

    .venv/bin/python -m bench.live_webhooks [--seconds 8] [--rounds 3] [--connections 16]

Runs the production settings (DEBUG off, the full middleware stack) on
PostgreSQL and Redis with LiveKit keys of its own, serves them with gunicorn
(`config/gunicorn.py`'s 2 per core + 1 workers) on loopback and drives two
URLs with wrk in alternating rounds: LiveKit's webhook endpoint
(`/live/webhooks/livekit/`) and a bare POST view with the same middleware
(`/bench/bare/post/`). Both get the same requests: the events of a live class
as LiveKit sends them (`participant_joined` and `participant_left` with the
room and participant, `room_started`, `track_published`; protobuf's JSON,
0.5-1 KB each), every one with an id of its own and an `Authorization` header
that is a JWT over the body's sha256, signed with the API secret, as LiveKit
signs them. The bodies are made before each round and cycled through by a
Lua script (`bench/webhooks.py`'s machinery). It reports requests/s, p50 and
p95 latency for each and the ratio ingest / bare: the target is 0.50 or more.

Processing never runs in the request: a stored event queues its task on the
broker after commit, here a Redis database of the benchmark's own (8 unless
REDIS_URL says otherwise), where no worker listens. Afterwards the run checks
that every event sent is stored exactly once and none was processed, then
empties the queue. Results go to artifacts/bench/live_webhooks.json.
"""

import argparse
import base64
import hashlib
import json
import math
import multiprocessing
import os
import secrets
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.postgres import ensure_database
from bench.storefront import (
    ROOT,
    _env,
    _manage,
    _redis_reachable,
    _wait_for,
    start_gunicorn,
    summarise,
)
from bench.webhooks import (
    BARE_PATH,
    LUA,
    WRK_THREADS,
    Delivery,
    _wrk,
    paired_ratios,
    print_rates,
    purge_queue,
    queued_tasks,
    sent_ids,
    split,
    write_pool,
)

WEBHOOK_PATH = "/live/webhooks/livekit/"
KEY = "APIbenchlive"
# LiveKit signs webhooks as it does tokens: a JWT in the Authorization header.
LIVEKIT_LUA = LUA.replace('["Stripe-Signature"] = signature', '["Authorization"] = signature')
LIVEKIT_LUA = LIVEKIT_LUA.replace(
    "Stripe/1.0 (+https://stripe.com/docs/webhooks)", "Go-http-client/1.1"
)
LIVEKIT_LUA = LIVEKIT_LUA.replace("application/json; charset=utf-8", "application/webhook+json")
assert '["Authorization"] = signature' in LIVEKIT_LUA
KINDS = ("participant_joined", "participant_left", "track_published", "room_started")


def live_event(tag: str, n: int, *, at: int) -> dict[str, Any]:
    """The n-th event of a class, shaped as LiveKit's protobuf JSON (int64 as strings)."""
    kind = KINDS[n % len(KINDS)]
    room = {
        "sid": f"RM_{tag}",
        "name": f"bench-{tag}",
        "emptyTimeout": 300,
        "departureTimeout": 20,
        "creationTime": str(at - 600),
        "creationTimeMs": str((at - 600) * 1000),
        "turnPassword": secrets.token_urlsafe(12),
        "enabledCodecs": [{"mime": "audio/opus"}, {"mime": "video/VP8"}, {"mime": "video/H264"}],
        "numParticipants": 31,
    }
    event: dict[str, Any] = {
        "event": kind,
        "room": room,
        "id": f"EV_{tag}{n:08d}",
        "createdAt": str(at),
    }
    if kind != "room_started":
        person = n // len(KINDS) % 30
        event["participant"] = {
            "sid": f"PA_{tag}{n:08d}",
            "identity": f"u{1000 + person}-{hashlib.sha256(str(person).encode()).hexdigest()[:10]}",
            "state": "ACTIVE" if kind != "participant_left" else "DISCONNECTED",
            "joinedAt": str(at - 30),
            "joinedAtMs": str((at - 30) * 1000),
            "name": f"Student {person}",
            "version": 3,
            "permission": {"canSubscribe": True, "canPublishData": True},
            "region": "local",
        }
    if kind == "track_published":
        event["track"] = {
            "sid": f"TR_{tag}{n:08d}",
            "type": "AUDIO",
            "source": "MICROPHONE",
            "mimeType": "audio/red",
            "mid": "1",
            "stream": "camera",
        }
    return event


def sign(body: bytes, key: str, secret: str) -> str:
    """The Authorization header LiveKit sends with `body`: a JWT over its sha256."""
    from livekit import api

    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return api.AccessToken(key, secret).with_sha256(digest).to_jwt()


def build_pool(count: int, *, key: str, secret: str, at: int) -> list[Delivery]:
    """Return `count` signed deliveries, each a different event."""
    tag = secrets.token_hex(4)
    pool = []
    for n in range(count):
        data = live_event(tag, n, at=at)
        body = json.dumps(data).encode()
        pool.append(Delivery(data["id"], body, sign(body, key, secret)))
    return pool


def _stored(database_url: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT event_id, status FROM live_livekitevent").fetchall()
    return {"ids": [r[0] for r in rows], "not_pending": sum(1 for r in rows if r[1] != "pending")}


def _truncate_events(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url) as conn:
        conn.execute("TRUNCATE live_livekitevent")


def bench_env(port: int) -> dict[str, str]:
    env = _env(port)
    if "DATABASE_URL" not in os.environ:
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/lectern_bench_live_webhooks"
    if "REDIS_URL" not in os.environ:
        env["REDIS_URL"] = "redis://127.0.0.1:6379/8"
    env["LIVEKIT_URL"] = "wss://live.bench.invalid"
    env["LIVEKIT_API_KEY"] = KEY
    env["LIVEKIT_API_SECRET"] = secrets.token_urlsafe(40)
    return env


class Ingest:
    def __init__(self, base: str, env: dict[str, str], connections: int, workdir: str) -> None:
        self.base, self.env, self.connections, self.workdir = base, env, connections, workdir
        self.ids: set[str] = set()
        self.posts = 0
        self.runs = 0

    def run(self, path: str, seconds: int, count: int, *, counted: bool) -> dict[str, Any]:
        pool = build_pool(
            count,
            key=self.env["LIVEKIT_API_KEY"],
            secret=self.env["LIVEKIT_API_SECRET"],
            at=int(time.time()),
        )
        parts = split(pool, WRK_THREADS)
        self.runs += 1
        pool_path = os.path.join(self.workdir, f"pool{self.runs}")
        write_pool(parts, pool_path)
        script = os.path.join(self.workdir, f"post{self.runs}.lua")
        Path(script).write_text(LIVEKIT_LUA % {"path": pool_path})
        result = _wrk(self.base + path, seconds, self.connections, script)
        sent = result.pop("sent")
        ids, wrapped = sent_ids(parts, sent)
        result["body_bytes"] = round(sum(len(d.body) for d in pool) / len(pool))
        if counted:
            self.ids |= ids
            self.posts += sum(sent) - 1
            result["wrapped"] = wrapped
        for thread in range(WRK_THREADS):
            os.unlink(f"{pool_path}.{thread}")
        return result


def measure(env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    port = int(env["PORT"])
    base = f"http://127.0.0.1:{port}"
    _truncate_events(env["DATABASE_URL"])
    purge_queue(env["REDIS_URL"])
    results: dict[str, list[dict[str, Any]]] = {"bare_post": [], "ingest": []}
    paths = {"bare_post": BARE_PATH, "ingest": WEBHOOK_PATH}
    gunicorn = start_gunicorn(env, port, args.workers)
    with tempfile.TemporaryDirectory(prefix="bench-live-webhooks-") as workdir:
        ingest = Ingest(base, env, args.connections, workdir)
        try:
            _wait_for(f"{base}/healthz")
            ingest.run(BARE_PATH, 3, 2000, counted=False)
            warm = ingest.run(WEBHOOK_PATH, 3, 3 * args.guess, counted=True)
            count = max(4000, math.ceil(max(warm["rps"], 1) * args.seconds * 1.5) + 2000)
            for _ in range(args.rounds):
                for name, path in paths.items():
                    results[name].append(
                        ingest.run(path, args.seconds, count, counted=name == "ingest")
                    )
            time.sleep(2)
        finally:
            gunicorn.send_signal(signal.SIGTERM)
            gunicorn.wait(timeout=30)
    stored = _stored(env["DATABASE_URL"])
    ids = set(stored["ids"])
    queued = queued_tasks(env["REDIS_URL"])
    purge_queue(env["REDIS_URL"])
    summary: dict[str, Any] = {name: summarise(runs) for name, runs in results.items()}
    summary["ratio"] = round(summary["ingest"]["rps"] / summary["bare_post"]["rps"], 3)
    summary["round_ratios"] = paired_ratios(results["bare_post"], results["ingest"])
    summary["rounds"] = results
    summary["stored"] = {
        "posts_sent": ingest.posts,
        "unique_events_sent": len(ingest.ids),
        "rows": len(stored["ids"]),
        "exactly_once": len(stored["ids"]) == len(ids) and ids == ingest.ids,
        "processed_during_ingest": stored["not_pending"],
        "tasks_queued": queued,
    }
    summary["setup"] = {
        "gunicorn_workers": args.workers,
        "connections": args.connections,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "events": ", ".join(KINDS) + "; every one unique",
    }
    return summary


def _print(summary: dict[str, Any]) -> None:
    print_rates(summary, "LiveKit ingest")
    s = summary["stored"]
    print(
        f"{s['posts_sent']} POSTs, {s['unique_events_sent']} events: {s['rows']} rows, "
        f"{'each stored exactly once' if s['exactly_once'] else 'MISMATCH'}; "
        f"{s['processed_during_ingest']} processed, {s['tasks_queued']} tasks queued"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=multiprocessing.cpu_count() * 2 + 1)
    parser.add_argument("--port", type=int, default=8775)
    parser.add_argument("--guess", type=int, default=1000, help="ingest req/s, to size the warm-up")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    env = bench_env(args.port)
    if not _redis_reachable(env["REDIS_URL"]):
        raise SystemExit(f"Redis is needed at {env['REDIS_URL']}: without it tasks run inline")
    ensure_database(env["DATABASE_URL"])
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "collectstatic", "--noinput", "-v0")
    summary = measure(env, args)
    out = ROOT / "artifacts" / "bench" / "live_webhooks.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2))
    _print(summary)
    s = summary
    if s["ingest"]["errors"] or s["bare_post"]["errors"] or not s["stored"]["exactly_once"]:
        raise SystemExit("some requests failed or events were not stored once: see above")


if __name__ == "__main__":
    main()
