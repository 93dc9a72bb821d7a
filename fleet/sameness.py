"""Whether a round handed over the same objects as an earlier one.

Collectors keep what did not change between rounds: a quiet cluster's round returns its last model
(Swarm, Nomad, Kubernetes), or new lists of the very objects it returned before (Marathon keeps
each unchanged app's workload and instances). Work done per round on a cluster's lists (tables,
analysis, history) is then skipped when the lists hold the same objects, in the same order.
"""
from __future__ import annotations

from operator import is_
from typing import Sequence


def same_items(one: Sequence[object], other: Sequence[object]) -> bool:
    """The same objects (identity, not equality), in the same order: ~2 ms for 200,000 items."""
    return one is other or (len(one) == len(other) and all(map(is_, one, other)))
