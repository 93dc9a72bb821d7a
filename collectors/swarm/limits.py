"""Docker's advice on Swarm managers: an odd number, at most seven."""
from __future__ import annotations

from fleet.limits import LimitWarning, quorum
from fleet.model import Cluster

SWARM_ADMIN_GUIDE = "https://docs.docker.com/engine/swarm/admin_guide/#add-manager-nodes-for-fault-tolerance"
SWARM_MAX_MANAGERS = 7


def managers(cluster: Cluster) -> list[LimitWarning]:
    count = sum(1 for n in cluster.nodes if "manager" in n.roles)
    return quorum(count, "managers", SWARM_ADMIN_GUIDE, SWARM_MAX_MANAGERS)


LIMIT_CHECKS = (managers,)
