"""Run the registry's retention sweeps.

Each sweep deletes (or anonymises) only rows already past their period and is
safe to run again at any time, so a retried or overlapping run does no harm.
One failing sweep is logged and does not stop the others.
"""

import logging

from privacy.registry import registry

logger = logging.getLogger(__name__)


def sweep_all() -> dict[str, int]:
    """Run every sweep and return how many rows each touched."""
    results: dict[str, int] = {}
    for entry in registry:
        if entry.retention.sweep is None:
            continue
        try:
            results[entry.label] = entry.retention.sweep()
        except Exception:
            logger.exception("retention sweep failed", extra={"model": entry.label})
            results[entry.label] = -1
    logger.info("retention sweep done", extra={"results": results})
    return results
