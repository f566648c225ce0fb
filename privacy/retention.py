"""Run the registry's retention sweeps, in small batches.

Each rule's `expired()` names the rows past their period. The sweep walks them
in primary-key order, `BATCH_SIZE` at a time, and acts on each batch (delete by
default, or the rule's own `purge`) in a transaction of its own, so no lock is
held for long and a killed run loses at most one batch: the next run starts
again from whatever is still expired. The cursor moves past every batch it
handled, so a purge that keeps its rows (anonymising them, say, or starting an
erasure that finishes later) cannot make the sweep go round in circles. One
failing rule is logged and does not stop the others.
"""

import logging
import time
from dataclasses import dataclass

from django.db import models

from core.db import atomic_with_sqlite_retry
from privacy.registry import Entry, Rule, registry

logger = logging.getLogger(__name__)

# Small enough that a batch's transaction stays well under half a second on
# PostgreSQL (see bench/retention_sweep.py), large enough that a million rows
# take minutes, not hours.
BATCH_SIZE = 500


@dataclass
class RuleOutcome:
    label: str
    description: str
    rows: int = 0
    batches: int = 0
    slowest_batch_seconds: float = 0.0
    failed: bool = False
    error: str = ""

    @property
    def slowest_batch_ms(self) -> float:
        return round(self.slowest_batch_seconds * 1000, 1)


def _delete(batch: models.QuerySet) -> int:
    deleted, _ = batch.delete()
    return deleted


def expired_count(entry: Entry | Rule) -> int:
    """How many rows `entry`'s rule would act on now (0 for a rule with no sweep)."""
    if entry.retention.expired is None:
        return 0
    return entry.retention.expired().count()


def sweep_rule(
    entry: Entry | Rule, *, batch_size: int = BATCH_SIZE, outcome: RuleOutcome | None = None
) -> RuleOutcome:
    """Act on every row `entry`'s rule finds expired, one short transaction per batch.

    Progress is recorded on `outcome` as each batch commits, so a caller that
    catches a failure still knows what was done before it.
    """
    rule = entry.retention
    outcome = outcome or RuleOutcome(entry.label, rule.description)
    if rule.expired is None:
        return outcome
    purge = rule.purge or _delete
    expired = rule.expired().order_by("pk")
    manager = expired.model._default_manager
    last_pk = None

    @atomic_with_sqlite_retry
    def run_batch(pks: list[object]) -> int:
        return purge(manager.filter(pk__in=pks))

    while True:
        page = expired if last_pk is None else expired.filter(pk__gt=last_pk)
        pks = list(page.values_list("pk", flat=True)[:batch_size])
        if not pks:
            break
        started = time.perf_counter()
        outcome.rows += run_batch(pks)
        outcome.slowest_batch_seconds = max(
            outcome.slowest_batch_seconds, time.perf_counter() - started
        )
        outcome.batches += 1
        # Rows a purge keeps (anonymised, say) still match; the cursor moves past them.
        last_pk = pks[-1]
        if len(pks) < batch_size:
            break
    return outcome


def sweep_each(*, batch_size: int = BATCH_SIZE) -> list[RuleOutcome]:
    """Run every rule that sweeps, logging each; a failing rule is recorded and skipped."""
    outcomes = []
    for entry in registry.retention_rules():
        if not entry.retention.swept:
            continue
        outcome = RuleOutcome(entry.label, entry.retention.description)
        try:
            sweep_rule(entry, batch_size=batch_size, outcome=outcome)
        except Exception as error:
            outcome.failed = True
            outcome.error = f"{type(error).__name__}: {error}"[:500]
            logger.exception(
                "retention sweep failed",
                extra={"rule": entry.label, "rows": outcome.rows, "batches": outcome.batches},
            )
        else:
            logger.info(
                "retention rule swept",
                extra={
                    "rule": entry.label,
                    "rows": outcome.rows,
                    "batches": outcome.batches,
                    "slowest_batch_ms": outcome.slowest_batch_ms,
                },
            )
        outcomes.append(outcome)
    return outcomes


def sweep_all(*, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Run every rule and return how many rows each touched (-1 for a rule that failed)."""
    results = {o.label: -1 if o.failed else o.rows for o in sweep_each(batch_size=batch_size)}
    logger.info("retention sweep done", extra={"results": results})
    return results
