"""Published scale and quorum limits, checked against one cluster.

Limits are data: each warning carries the threshold and the page that publishes it. Which checks
apply is a fact of each orchestrator (its `limit_checks`, fleet/orchestrators.py). Pure; no I/O.
"""
from __future__ import annotations

import msgspec

from fleet.model import Cluster
from fleet.orchestrators import facts_of

# instance states that hold a slot on their node
HOLDS_A_SLOT = frozenset({"running", "pending", "unknown"})


class LimitWarning(msgspec.Struct, kw_only=True):
    limit: str
    value: int
    threshold: int
    message: str
    source: str


def quorum(count: int, members: str, source: str, most: int | None = None) -> list[LimitWarning]:
    """Warnings for a consensus group of `count` members: more than `most`, or an even number."""
    warnings = []
    if most is not None and count > most:
        warnings.append(LimitWarning(limit=f"{members}_max", value=count, threshold=most,
                                     message=f"{count} {members}; more than {most} slows consensus "
                                             "without adding fault tolerance", source=source))
    if count > 1 and count % 2 == 0:
        warnings.append(LimitWarning(limit=f"{members}_even", value=count, threshold=count + 1,
                                     message=f"{count} {members}: an even number tolerates no more failures "
                                             f"than {count - 1}; use an odd number", source=source))
    return warnings


def limit_warnings(cluster: Cluster) -> list[LimitWarning]:
    facts = facts_of(cluster.orchestrator)
    return [w for check in (facts.limit_checks if facts else ()) for w in check(cluster)]
