"""Kubernetes' published scale limits ("Considerations for large clusters") and etcd's quorum rule."""
from __future__ import annotations

from collections import defaultdict

from fleet.limits import HOLDS_A_SLOT, LimitWarning, quorum
from fleet.model import Cluster

K8S_LARGE_CLUSTERS = "https://kubernetes.io/docs/setup/best-practices/cluster-large/"
ETCD_FAQ = "https://etcd.io/docs/v3.5/faq/#why-an-odd-number-of-cluster-members"
K8S_PODS_PER_NODE, K8S_NODES, K8S_PODS = 110, 5000, 150_000


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


def cluster_size(cluster: Cluster) -> list[LimitWarning]:
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


def control_plane(cluster: Cluster) -> list[LimitWarning]:
    members = sum(1 for n in cluster.nodes if "control-plane" in n.roles)
    return quorum(members, "control_plane_nodes", ETCD_FAQ)


LIMIT_CHECKS = (pods_per_node, cluster_size, control_plane)
