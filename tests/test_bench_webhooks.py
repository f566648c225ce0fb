"""The webhook benchmark's own logic: what it sends, and how it counts what was sent.

The benchmark itself runs by hand (bench/webhooks.py); these tests keep its
deliveries acceptable to the real endpoint and its bookkeeping honest.
"""

import json
import random
import time
from collections import Counter

from bench import stripe_events, webhooks
from billing import client

SECRET = "whsec_test_bench"


def _pool(count: int) -> list[webhooks.Delivery]:
    tag, at = stripe_events.new_tag(), int(time.time())

    def make(n: int) -> dict:
        return stripe_events.sale_event(tag, n, purchase_id=7, account="acct_test", created=at)

    return webhooks.build_pool(make, count, secret=SECRET, at=at, rng=random.Random(3))


def test_a_fifth_of_the_deliveries_repeat_an_earlier_event():
    pool = _pool(500)
    ids = [d.event_id for d in pool]
    assert len(pool) == 500
    assert len(set(ids)) == 400
    seen: set[str] = set()
    for d in pool:
        if d.event_id in seen:  # a repeat is the same delivery, after the first one
            assert d == next(p for p in pool if p.event_id == d.event_id)
        seen.add(d.event_id)


def test_every_delivery_passes_the_endpoints_own_check_and_is_stripe_sized():
    pool = _pool(20)
    for d in pool:
        event = client.verify_event(d.body.decode(), d.signature, SECRET)
        assert event["id"] == d.event_id
        assert 1_500 <= len(d.body) <= 4_096
    assert {json.loads(d.body)["type"] for d in pool} == set(stripe_events.SALE_EVENTS)


def test_it_counts_what_wrk_sent_and_when_a_thread_ran_out():
    pool = [webhooks.Delivery(f"evt_{n}", b"{}", "") for n in (0, 1, 2, 3, 4, 5, 1)]
    parts = webhooks.split(pool, 2)
    assert [[d.event_id for d in part] for part in parts] == [
        ["evt_0", "evt_2", "evt_4", "evt_1"],
        ["evt_1", "evt_3", "evt_5"],
    ]
    # The first thread's first request is wrk's own check, never sent.
    ids, wrapped = webhooks.sent_ids(parts, [3, 2])
    assert ids == {"evt_2", "evt_4", "evt_1", "evt_3"}
    assert not wrapped
    ids, wrapped = webhooks.sent_ids(parts, [1, 5])
    assert wrapped
    assert ids == {"evt_1", "evt_3", "evt_5"}


def test_the_workers_mix_is_seven_events_a_sale_and_unknown_accounts_between():
    mix = stripe_events.event_mix(
        "tag0000001", [11, 12, 13], 30, account="acct_seller", created=1_700_000_000
    )
    types = Counter(data["type"] for _, data in mix)
    assert len(mix) == 30
    assert len({data["id"] for _, data in mix}) == 30
    assert types["account.updated"] == 9
    assert all(types[t] == 3 for t in stripe_events.SALE_TYPES)
    completed = [data for _, data in mix if data["type"] == "checkout.session.completed"]
    assert [e["data"]["object"]["client_reference_id"] for e in completed] == ["11", "12", "13"]
    assert {source for source, data in mix if data["type"] == "account.updated"} == {"connect"}
    assert [data["created"] for _, data in mix] == sorted(data["created"] for _, data in mix)


def test_each_round_is_compared_with_the_bare_round_measured_beside_it():
    bare = [{"rps": 1000.0}, {"rps": 700.0}]
    ingest = [{"rps": 450.0}, {"rps": 350.0}]
    assert webhooks.paired_ratios(bare, ingest) == [0.45, 0.5]
