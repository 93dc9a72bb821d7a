"""Published scale and quorum limits each orchestrator documents, checked against one cluster.

Limits are data: each warning carries the threshold and the page that publishes it. Pure; no I/O.
"""
from __future__ import annotations

from collections import defaultdict

import msgspec

from fleet.model import Cluster


class LimitWarning(msgspec.Struct, kw_only=True):
    limit: str
    value: int
    threshold: int
    message: str
    source: str


K8S_LARGE_CLUSTERS = "https://kubernetes.io/docs/setup/best-practices/cluster-large/"
SWARM_ADMIN_GUIDE = "https://docs.docker.com/engine/swarm/admin_guide/#add-manager-nodes-for-fault-tolerance"
ETCD_FAQ = "https://etcd.io/docs/v3.5/faq/#why-an-odd-number-of-cluster-members"
K8S_PODS_PER_NODE, K8S_NODES, K8S_PODS = 110, 5000, 150_000
SWARM_MAX_MANAGERS = 7
HOLDS_A_SLOT = frozenset({"running", "pending", "unknown"})


def pods_per_node(cluster: Cluster) -> list[LimitWarning]:
    names = {n.id: n.name for n in cluster.nodes}
    counts: dict[str, int] = defaultdict(int)
    for instance in cluster.instances:
        if instance.node_id and instance.state in HOLDS_A_SLOT:
            counts[instance.node_id] += 1
    return [LimitWarning(limit="pods_per_node", value=count, threshold=K8S_PODS_PER_NODE,
                         message=f"node {names.get(node_id, node_id)} has {count} pods; Kubernetes is tested "
                                 f"up to {K8S_PODS_PER_NODE} pods per node", source=K8S_LARGE_CLUSTERS)
            for node_id, count in sorted(counts.items()) if count > K8S_PODS_PER_NODE]


def k8s_cluster_size(cluster: Cluster) -> list[LimitWarning]:
    nodes, pods = len(cluster.nodes), sum(1 for i in cluster.instances if i.state in HOLDS_A_SLOT)
    warnings = []
    if nodes > K8S_NODES:
        warnings.append(LimitWarning(limit="nodes_per_cluster", value=nodes, threshold=K8S_NODES,
                                     message=f"{nodes} nodes; Kubernetes supports at most {K8S_NODES} per cluster",
                                     source=K8S_LARGE_CLUSTERS))
    if pods > K8S_PODS:
        warnings.append(LimitWarning(limit="pods_per_cluster", value=pods, threshold=K8S_PODS,
                                     message=f"{pods} pods; Kubernetes supports at most {K8S_PODS} per cluster",
                                     source=K8S_LARGE_CLUSTERS))
    return warnings


def quorum(count: int, members: str, source: str, most: int | None = None) -> list[LimitWarning]:
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


def swarm_managers(cluster: Cluster) -> list[LimitWarning]:
    managers = sum(1 for n in cluster.nodes if "manager" in n.roles)
    return quorum(managers, "managers", SWARM_ADMIN_GUIDE, SWARM_MAX_MANAGERS)


def k8s_control_plane(cluster: Cluster) -> list[LimitWarning]:
    members = sum(1 for n in cluster.nodes if "control-plane" in n.roles)
    return quorum(members, "control_plane_nodes", ETCD_FAQ)


LIMIT_CHECKS = {
    "kubernetes": (pods_per_node, k8s_cluster_size, k8s_control_plane),
    "swarm": (swarm_managers,),
}


def limit_warnings(cluster: Cluster) -> list[LimitWarning]:
    return [w for check in LIMIT_CHECKS.get(cluster.orchestrator, ()) for w in check(cluster)]
