"""Stripe webhook ingest against a bare POST view, side by side, under gunicorn; then one worker.

    .venv/bin/python -m bench.webhooks [--seconds 8] [--rounds 3] [--connections 16]
    .venv/bin/python -m bench.webhooks --skip-worker      # ingest only
    .venv/bin/python -m bench.webhooks --skip-ingest      # the worker only

Ingest. Runs the production settings (DEBUG off, the full middleware stack)
on PostgreSQL and Redis with a webhook signing secret of its own, serves them
with gunicorn (`config/gunicorn.py`, with production's 2 per core + 1 workers)
on loopback and drives two URLs with wrk in alternating rounds: the platform's webhook endpoint
(`/billing/webhooks/stripe/`) and a bare POST view with the same middleware
(`/bench/bare/post/`). Both get the same kind of requests: the events of
course sales as Stripe sends them (`checkout.session.completed`,
`charge.succeeded`, `payment_intent.*`, `charge.updated`, 2-4 KB of JSON
each), one in five a repeat of an earlier one, each with a `Stripe-Signature`
header computed for its body. The signed bodies are made just before each
round (Stripe's tolerance is 300 s), written to a file per wrk thread, and a
Lua script cycles through them. It reports requests/s, p50 and p95 latency for
each and the ratio ingest / bare: the target is 0.50 or more.

Processing never runs in the request: a stored event wakes the processor by
queueing its task on the broker (once per burst, see billing/webhooks.py),
here a Redis database of the benchmark's own (7 unless REDIS_URL says
otherwise), and no worker listens there while ingest is measured. Afterwards
the run checks that every event sent is stored exactly once, that none was
processed and that the processor was woken, then empties the queue and
lowers the wake-up flag. Without Redis the benchmark refuses to run (tasks
would run inline, inside the request).

The worker: `bench/webhook_worker.py` stores 10,000 events, enqueues their
tasks and times one Celery worker process through them, with the prefork pool
(production's) and with the solo pool (`--worker-pools`).

Results go to artifacts/bench/webhooks.json.
"""

import argparse
import json
import math
import multiprocessing
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
from bench.stripe_events import SALE_EVENTS, new_tag, sale_event

TARGET_RATIO = 0.50
DUPLICATE_SHARE = 0.20
TOLERANCE = 300  # seconds: how old a signature Stripe's SDK accepts
WEBHOOK_PATH = "/billing/webhooks/stripe/"
BARE_PATH = "/bench/bare/post/"
# billing.webhooks.INBOX.wake_key, under the cache's prefix
WAKE_FLAG = "billing:stripe-events:wake"
WRK_THREADS = 2
# --- What wrk sends -------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One POST: an event's body as Stripe sends it (pretty-printed JSON) and its signature."""

    event_id: str
    body: bytes
    signature: str


def sign(body: bytes, secret: str, at: int) -> str:
    """The `Stripe-Signature` header Stripe computes for `body` at time `at`."""
    import stripe

    return stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=at)


def build_pool(
    make_event: Callable[[int], dict[str, Any]],
    count: int,
    *,
    secret: str,
    at: int,
    duplicate_share: float = DUPLICATE_SHARE,
    rng: random.Random | None = None,
) -> list[Delivery]:
    """Return `count` signed deliveries, `duplicate_share` of them repeats of earlier events.

    A repeat is a delivery of an event already in the pool (same id, same
    body), as Stripe sends again when it had no answer in time; it is placed
    after its first delivery. `make_event(n)` builds the n-th new event.
    """
    rng = rng or random.Random(0)
    pool: list[Delivery] = []
    firsts: list[Delivery] = []
    repeats = 0
    for k in range(count):
        if firsts and math.floor((k + 1) * duplicate_share) > repeats:
            pool.append(rng.choice(firsts))
            repeats += 1
            continue
        data = make_event(len(firsts))
        body = json.dumps(data, indent=2).encode()
        delivery = Delivery(data["id"], body, sign(body, secret, at))
        firsts.append(delivery)
        pool.append(delivery)
    return pool


def split(pool: list[Delivery], threads: int) -> list[list[Delivery]]:
    """Deal the pool to wrk's threads in turn: thread t sends pool[t], pool[t + threads]..."""
    return [pool[t::threads] for t in range(threads)]


def write_pool(parts: list[list[Delivery]], path: str) -> None:
    """Write each thread's deliveries to `path.<thread>`: signature, body length, body."""
    for thread, deliveries in enumerate(parts):
        with open(f"{path}.{thread}", "wb") as out:
            for d in deliveries:
                out.write(f"{d.signature}\n{len(d.body)}\n".encode())
                out.write(d.body)


def sent_ids(parts: list[list[Delivery]], sent: list[int]) -> tuple[set[str], bool]:
    """Return the event ids wrk sent, and whether a thread ran out of deliveries.

    Each thread sends its deliveries in order and starts again from the first
    when it runs out (`wrapped`: then more than the planned share are repeats).
    `sent` counts the calls to each thread's `request()`; wrk makes one more
    on the first thread before starting, to check what it returns, and never
    sends that one.
    """
    ids: set[str] = set()
    wrapped = False
    for thread, (deliveries, count) in enumerate(zip(parts, sent, strict=True)):
        wrapped = wrapped or count > len(deliveries)
        first = 1 if thread == 0 else 0
        ids.update(deliveries[k % len(deliveries)].event_id for k in range(first, count))
    return ids, wrapped


LUA = """
local path = "%(path)s"
local threads_ = {}
local next_id = 0
local reqs, i = {}, 0
n, sent = 0, 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads_, thread)
end

function init(args)
  local f = assert(io.open(path .. "." .. id, "rb"))
  while true do
    local signature = f:read("*l")
    if not signature then break end
    local length = tonumber(f:read("*l"))
    local body = f:read(length)
    n = n + 1
    reqs[n] = wrk.format("POST", nil, {
      ["Content-Type"] = "application/json; charset=utf-8",
      ["User-Agent"] = "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
      ["Stripe-Signature"] = signature,
    }, body)
  end
  f:close()
end

function request()
  i = i %% n + 1
  sent = sent + 1
  return reqs[i]
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local counts = {}
  for _, t in ipairs(threads_) do table.insert(counts, tostring(t:get("sent"))) end
  io.write(string.format(
    '{"requests": %%d, "rps": %%.1f, "p50_ms": %%.2f, "p95_ms": %%.2f, "errors": %%d, '
      .. '"sent": [%%s]}\\n',
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    table.concat(counts, ", ")))
end
"""


def _wrk(url: str, seconds: int, connections: int, script: str) -> dict[str, Any]:
    out = subprocess.run(
        ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "-s", script, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def paired_ratios(bare: list[dict[str, Any]], ingest: list[dict[str, Any]]) -> list[float]:
    """Each round's ingest / bare POST, the two measured back to back.

    The machine's speed drifts between rounds more than within one, so these
    vary less than the ratio of the averages; their median is reported too.
    """
    return [round(i["rps"] / b["rps"], 3) for b, i in zip(bare, ingest, strict=True)]


# --- The ingest run -------------------------------------------------------------------------


class Ingest:
    """Prepares each wrk run's signed deliveries and keeps count of what was sent."""

    def __init__(self, base: str, secret: str, connections: int, workdir: str) -> None:
        self.base = base
        self.secret = secret
        self.connections = connections
        self.workdir = workdir
        self.ids: set[str] = set()
        self.posts = 0
        self.runs = 0
        self.rng = random.Random(1)

    def run(self, path: str, seconds: int, count: int, *, counted: bool) -> dict[str, Any]:
        """Sign `count` deliveries now and send them to `path` for `seconds` with wrk."""
        tag, at = new_tag(), int(time.time())
        account = "acct_1" + tag + "Seller"

        def make(n: int) -> dict[str, Any]:
            return sale_event(tag, n, purchase_id=100_000 + n, account=account, created=at)

        pool = build_pool(make, count, secret=self.secret, at=at, rng=self.rng)
        parts = split(pool, WRK_THREADS)
        self.runs += 1
        pool_path = os.path.join(self.workdir, f"pool{self.runs}")
        write_pool(parts, pool_path)
        script = os.path.join(self.workdir, f"post{self.runs}.lua")
        Path(script).write_text(LUA % {"path": pool_path})
        result = _wrk(self.base + path, seconds, self.connections, script)
        if time.time() - at >= TOLERANCE:
            raise SystemExit("a round outlived the signatures' 300 s tolerance: use shorter ones")
        sent = result.pop("sent")
        ids, wrapped = sent_ids(parts, sent)
        result["body_bytes"] = round(sum(len(d.body) for d in pool) / len(pool))
        if counted:
            posts = sum(sent) - 1  # wrk's own check of the first thread's request()
            self.ids |= ids
            self.posts += posts
            result["repeat_share"] = round(1 - len(ids) / posts, 3) if posts else 0.0
            result["wrapped"] = wrapped
        for thread in range(WRK_THREADS):
            os.unlink(f"{pool_path}.{thread}")
        return result


def _stored(database_url: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT event_id, status FROM billing_stripeevent").fetchall()
    return {"ids": [r[0] for r in rows], "not_pending": sum(1 for r in rows if r[1] != "pending")}


def _truncate_events(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url) as conn:
        conn.execute("TRUNCATE billing_stripeevent")


def queue_keys(redis_url: str) -> Iterator[str]:
    """The broker's queue keys: Celery's default queue and its priority lists."""
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match="celery*", _type="list"):
        yield key.decode()


def queued_tasks(redis_url: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    return sum(int(client.llen(key)) for key in queue_keys(redis_url))


def purge_queue(redis_url: str) -> None:
    """Empty the broker's queues and lower the flag that says the processor is woken."""
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in [*queue_keys(redis_url), *client.scan_iter(match=f"*{WAKE_FLAG}")]:
        client.delete(key)
    client.delete("unacked", "unacked_index")


def bench_env(port: int) -> dict[str, str]:
    """The production settings with this benchmark's own database, Redis and webhook secret."""
    env = _env(port)
    if "DATABASE_URL" not in os.environ:
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/lectern_bench_webhooks"
    if "REDIS_URL" not in os.environ:
        env["REDIS_URL"] = "redis://127.0.0.1:6379/7"
    env["STRIPE_WEBHOOK_SECRET"] = "whsec_" + secrets.token_urlsafe(24)
    env["STRIPE_CONNECT_WEBHOOK_SECRET"] = "whsec_" + secrets.token_urlsafe(24)
    return env


def measure_ingest(env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    port = int(env["PORT"])
    base = f"http://127.0.0.1:{port}"
    _truncate_events(env["DATABASE_URL"])
    purge_queue(env["REDIS_URL"])
    results: dict[str, list[dict[str, Any]]] = {"bare_post": [], "ingest": []}
    paths = {"bare_post": BARE_PATH, "ingest": WEBHOOK_PATH}
    gunicorn = start_gunicorn(env, port, args.workers)
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as workdir:
        ingest = Ingest(base, env["STRIPE_WEBHOOK_SECRET"], args.connections, workdir)
        try:
            _wait_for(f"{base}/healthz")
            # Warm up both (imports, the SDK, prepared statements); its events count too.
            ingest.run(BARE_PATH, 3, 2000, counted=False)
            warm = ingest.run(WEBHOOK_PATH, 3, 3 * args.guess, counted=True)
            # Enough deliveries that a round never sends one twice by running out.
            count = max(4000, math.ceil(max(warm["rps"], 1) * args.seconds * 3) + 2000)
            for _ in range(args.rounds):
                for name, path in paths.items():
                    result = ingest.run(path, args.seconds, count, counted=name == "ingest")
                    results[name].append(result)
            # POSTs still queued when wrk stopped are answered before the server stops.
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
    rows = len(stored["ids"])
    summary["stored"] = {
        "posts_sent": ingest.posts,
        "unique_events_sent": len(ingest.ids),
        "repeat_share": round(1 - len(ingest.ids) / ingest.posts, 3),
        "rows": rows,
        "distinct_event_ids": len(ids),
        "sent_not_stored": len(ingest.ids - ids),
        "stored_not_sent": len(ids - ingest.ids),
        "processed_during_ingest": stored["not_pending"],
        "wake_ups_queued": queued,
        "exactly_once": rows == len(ids) == len(ingest.ids) and ids == ingest.ids,
    }
    summary["setup"] = {
        "gunicorn_workers": args.workers,
        "connections": args.connections,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "wrk_threads": WRK_THREADS,
        "database": env["DATABASE_URL"].split("://")[0],
        "broker": "redis, no worker listening during ingest; emptied afterwards",
        "events": ", ".join(SALE_EVENTS) + f"; {DUPLICATE_SHARE:.0%} repeats",
    }
    return summary


def print_rates(summary: dict[str, Any], label: str) -> None:
    """Print both URLs' rates, the ratio against the target and each round's ratio."""
    print(f"{'':12}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'errors':>8}")
    for name in ("bare_post", "ingest"):
        s = summary[name]
        print(f"{name:12}{s['rps']:>10}{s['p50_ms']:>10}{s['p95_ms']:>10}{s['errors']:>8}")
    ratio = summary["ratio"]
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"{label} / bare POST = {ratio:.2f} ({verdict} the {TARGET_RATIO:.2f} target)")
    rounds = summary["round_ratios"]
    print(
        "round by round: "
        + " ".join(f"{r:.2f}" for r in rounds)
        + f" (median {statistics.median(rounds):.2f})"
    )


def _print_ingest(summary: dict[str, Any]) -> None:
    print_rates(summary, "ingest")
    s = summary["stored"]
    print(
        f"{s['posts_sent']} POSTs, {s['unique_events_sent']} events "
        f"({s['repeat_share']:.0%} repeats): {s['rows']} rows, "
        f"{'each event stored exactly once' if s['exactly_once'] else 'MISMATCH'}; "
        f"{s['processed_during_ingest']} processed, {s['wake_ups_queued']} wake-ups queued"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per URL")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--workers",
        type=int,
        default=multiprocessing.cpu_count() * 2 + 1,
        help="gunicorn worker processes (default: production's, config/gunicorn.py)",
    )
    parser.add_argument("--port", type=int, default=8774)
    parser.add_argument(
        "--guess", type=int, default=2000, help="ingest req/s to size the warm-up's deliveries"
    )
    parser.add_argument("--events", type=int, default=10_000, help="events the worker processes")
    parser.add_argument("--sales", type=int, default=1_000, help="of which sales (7 events each)")
    parser.add_argument(
        "--worker-pools",
        default="prefork,solo",
        help="Celery pools to time, one process each (prefork is production's)",
    )
    parser.add_argument(
        "--worker-enqueue",
        choices=["wake", "each"],
        default="wake",
        help="wake the processor once, as a stored event does (wake), or queue one "
        "process_stripe_event_task per event, as the periodic job and replays do (each)",
    )
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-worker", action="store_true")
    args = parser.parse_args()
    if args.seconds * 2 + 30 >= TOLERANCE:
        raise SystemExit("rounds that long outlive the signatures: keep --seconds under 100")
    if not shutil.which("wrk") and not args.skip_ingest:
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    env = bench_env(args.port)
    if not _redis_reachable(env["REDIS_URL"]):
        raise SystemExit(
            f"Redis is needed at {env['REDIS_URL']}: without a broker the tasks run inline, "
            "inside the request, which is not what this measures"
        )
    ensure_database(env["DATABASE_URL"])
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "collectstatic", "--noinput", "-v0")

    out = ROOT / "artifacts" / "bench" / "webhooks.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    failed = False
    if not args.skip_ingest:
        report["ingest"] = measure_ingest(env, args)
        out.write_text(json.dumps(report, indent=2))
        _print_ingest(report["ingest"])
        s = report["ingest"]
        failed = bool(
            s["ingest"]["errors"]
            or s["bare_post"]["errors"]
            or not s["stored"]["exactly_once"]
            or s["stored"]["processed_during_ingest"]
            or not s["stored"]["wake_ups_queued"]
        )
    if not args.skip_worker:
        from bench import webhook_worker

        report["worker"] = {}
        for pool in args.worker_pools.split(","):
            result = webhook_worker.measure(
                env, events=args.events, sales=args.sales, pool=pool, enqueue=args.worker_enqueue
            )
            report["worker"][pool if args.worker_enqueue == "wake" else f"{pool}, each"] = result
            out.write_text(json.dumps(report, indent=2))
            webhook_worker.print_summary(pool, result)
            failed = failed or result["done"] != args.events
    if failed:
        raise SystemExit("some requests or events failed: see above and webhooks.json")


if __name__ == "__main__":
    main()
