"""What changed between two snapshots: pure functions, no I/O.

Clusters are matched by name, nodes, workloads and services by id. Problems (a cluster not `ok`, a node not
ready, a workload degraded or failed, instances stuck with a reason) are compared as sentences, so
"new" and "resolved" read the same in the text and in the JSON.
"""
from __future__ import annotations

from typing import Literal

import msgspec

from fleet.analysis import workload_label
from fleet.model import Cluster, Node, Service, Snapshot, Workload

TROUBLED_WORKLOADS = ("degraded", "failed")
ClusterChange = Literal["added", "removed", "changed", "unchanged"]


class Change(msgspec.Struct, kw_only=True):
    name: str
    before: str
    after: str


class ClusterDiff(msgspec.Struct, kw_only=True):
    cluster: str
    change: ClusterChange
    status: Change | None = None
    nodes_added: list[str] = []
    nodes_removed: list[str] = []
    nodes_changed_status: list[Change] = []
    workloads_added: list[str] = []
    workloads_removed: list[str] = []
    workloads_scaled: list[Change] = []
    workloads_changed_status: list[Change] = []
    workloads_changed_images: list[Change] = []
    services_added: list[str] = []
    services_removed: list[str] = []
    services_changed: list[Change] = []  # status, backends ready, addresses or ports
    problems_new: list[str] = []
    problems_resolved: list[str] = []


class SnapshotDiff(msgspec.Struct, kw_only=True):
    old_taken_at: str
    new_taken_at: str
    clusters: list[ClusterDiff]

    @property
    def unchanged(self) -> bool:
        return all(c.change == "unchanged" for c in self.clusters)


def node_state(node: Node) -> str:
    return node.status if node.schedulable else f"{node.status}, unschedulable"


def service_label(service: Service) -> str:
    return f"{service.kind}/{service.namespace + '/' if service.namespace else ''}{service.name}"


def service_state(service: Service) -> str:
    """`ok, 3/3 ready, 10.0.0.5, 80/tcp`: what an operator compares between two snapshots."""
    ports = " ".join(f"{p.port}/{p.protocol}" + (f":{p.published}" if p.published else "") for p in service.ports)
    parts = [service.status, f"{service.backends_ready}/{service.backends_total} ready", " ".join(service.addresses),
             ports]
    return ", ".join(part for part in parts if part)


def problems(cluster: Cluster) -> set[str]:
    """Everything wrong in one cluster, as stable sentences."""
    found = set()
    if cluster.status != "ok":
        found.add(f"cluster is {cluster.status}")
    found |= {f"node {n.name} is {n.status}" for n in cluster.nodes if n.status != "ready"}
    workloads = {w.id: w for w in cluster.workloads}
    found |= {f"workload {workload_label(w)} is {w.status}" for w in cluster.workloads
              if w.status in TROUBLED_WORKLOADS}
    for instance in cluster.instances:
        if (instance.reason and instance.state != "running") or instance.health == "unhealthy":
            owner = workloads.get(instance.workload_id or "")
            where = f"workload {workload_label(owner)}" if owner else f"instance {instance.name}"
            found.add(f"{where}: {instance.reason or 'unhealthy'}")
    found |= {f"service {service_label(s)} has no ready backend" for s in cluster.services if s.status == "down"}
    return found


def compare_nodes(old: Cluster, new: Cluster, diff: ClusterDiff) -> None:
    before: dict[str, Node] = {n.id: n for n in old.nodes}
    after: dict[str, Node] = {n.id: n for n in new.nodes}
    diff.nodes_added = sorted(after[i].name for i in after.keys() - before.keys())
    diff.nodes_removed = sorted(before[i].name for i in before.keys() - after.keys())
    changed = [i for i in before.keys() & after.keys() if node_state(before[i]) != node_state(after[i])]
    diff.nodes_changed_status = sorted((Change(name=after[i].name, before=node_state(before[i]),
                                               after=node_state(after[i])) for i in changed), key=lambda c: c.name)


def compare_workloads(old: Cluster, new: Cluster, diff: ClusterDiff) -> None:
    before: dict[str, Workload] = {w.id: w for w in old.workloads}
    after: dict[str, Workload] = {w.id: w for w in new.workloads}
    diff.workloads_added = sorted(workload_label(after[i]) for i in after.keys() - before.keys())
    diff.workloads_removed = sorted(workload_label(before[i]) for i in before.keys() - after.keys())
    both = sorted(before.keys() & after.keys(), key=lambda i: workload_label(after[i]))
    for i in both:
        was, now, name = before[i], after[i], workload_label(after[i])
        if was.desired != now.desired:
            diff.workloads_scaled.append(Change(name=name, before=str(was.desired), after=str(now.desired)))
        if was.status != now.status:
            diff.workloads_changed_status.append(Change(name=name, before=was.status, after=now.status))
        if was.images != now.images:
            diff.workloads_changed_images.append(Change(name=name, before=", ".join(was.images),
                                                        after=", ".join(now.images)))


def compare_services(old: Cluster, new: Cluster, diff: ClusterDiff) -> None:
    before: dict[str, Service] = {s.id: s for s in old.services}
    after: dict[str, Service] = {s.id: s for s in new.services}
    diff.services_added = sorted(service_label(after[i]) for i in after.keys() - before.keys())
    diff.services_removed = sorted(service_label(before[i]) for i in before.keys() - after.keys())
    both = sorted(before.keys() & after.keys(), key=lambda i: service_label(after[i]))
    diff.services_changed = [Change(name=service_label(after[i]), before=service_state(before[i]),
                                    after=service_state(after[i]))
                             for i in both if service_state(before[i]) != service_state(after[i])]


def diff_cluster(old: Cluster | None, new: Cluster | None) -> ClusterDiff:
    if old is None or new is None:
        present = new or old
        assert present is not None
        change: ClusterChange = "added" if old is None else "removed"
        found = sorted(problems(present))
        return ClusterDiff(cluster=present.name, change=change, problems_new=found if new else [],
                           problems_resolved=found if old else [])
    diff = ClusterDiff(cluster=new.name, change="unchanged")
    if old.status != new.status:
        diff.status = Change(name=new.name, before=old.status, after=new.status)
    compare_nodes(old, new, diff)
    compare_workloads(old, new, diff)
    compare_services(old, new, diff)
    was, now = problems(old), problems(new)
    diff.problems_new, diff.problems_resolved = sorted(now - was), sorted(was - now)
    if any(getattr(diff, f) for f in diff.__struct_fields__ if f not in ("cluster", "change")):
        diff.change = "changed"
    return diff


def iso(snapshot: Snapshot) -> str:
    return snapshot.taken_at.isoformat().replace("+00:00", "Z")


def diff_snapshots(old: Snapshot, new: Snapshot) -> SnapshotDiff:
    before = {c.name: c for c in old.clusters}
    after = {c.name: c for c in new.clusters}
    names = [c.name for c in new.clusters] + [c.name for c in old.clusters if c.name not in after]
    return SnapshotDiff(old_taken_at=iso(old), new_taken_at=iso(new),
                        clusters=[diff_cluster(before.get(n), after.get(n)) for n in names])


# -- text ----------------------------------------------------------------------------------------------

TEXT_LINES: tuple[tuple[str, str], ...] = (
    # (field, line prefix): lists of names, then lists of changes
    ("nodes_added", "+ node"), ("nodes_removed", "- node"), ("nodes_changed_status", "~ node"),
    ("workloads_added", "+ workload"), ("workloads_removed", "- workload"),
    ("workloads_scaled", "~ workload scaled:"), ("workloads_changed_status", "~ workload"),
    ("workloads_changed_images", "~ workload images:"),
    ("services_added", "+ service"), ("services_removed", "- service"), ("services_changed", "~ service"),
    ("problems_new", "! new problem:"), ("problems_resolved", "✓ resolved:"),
)


def change_lines(diff: ClusterDiff, arrow: str = "->") -> list[str]:
    """One line per change of one cluster, e.g. `~ workload scaled: web 2 -> 3`."""
    lines = [f"~ status {diff.status.before} {arrow} {diff.status.after}"] if diff.status else []
    for field, prefix in TEXT_LINES:
        for item in getattr(diff, field):
            text = f"{item.name} {item.before} {arrow} {item.after}" if isinstance(item, Change) else item
            lines.append(f"{prefix} {text}")
    return lines


def cluster_lines(diff: ClusterDiff) -> list[str]:
    return [f"{diff.cluster}: {diff.change}"] + [f"  {line}" for line in change_lines(diff)]


def to_text(diff: SnapshotDiff) -> str:
    lines = [f"from {diff.old_taken_at} to {diff.new_taken_at}"]
    for cluster in diff.clusters:
        lines.extend(cluster_lines(cluster))
    if diff.unchanged:
        lines.append("no changes")
    return "\n".join(lines) + "\n"
