"""Generated clusters: a seed and size knobs in, wire objects plus the stated truth out.

`generate(Knobs(seed=3, nodes=50, pods_per_node=20))` lays out control-plane and worker nodes
over three zones, DaemonSets (one tolerating every taint, one not tolerating the control-plane
taint), StatefulSets, Jobs and CronJobs, bare Pods and enough Deployments to fill the pod budget.
`problem_share` decides how much is broken (NotReady / Unknown / cordoned nodes, crash loops,
image pull back-offs, OOM kills, unschedulable pods, stuck init containers, rollouts in progress,
failed Jobs, suspended CronJobs). `phase` moves the problems around while the layout stays put,
which is how the demo cluster changes over time.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sim.kubernetes import objects as o
from sim.kubernetes.pods import VARIANTS, build_pod, effective_request
from sim.kubernetes.resources import BY_KEY, METRICS_GROUP, Resource
from sim.kubernetes.store import Store
from sim.kubernetes.truth import Expected, NodeTruth, PodTruth, WorkloadTruth
from sim.kubernetes.servicemix import ServiceMixin
from sim.kubernetes.workloads import WorkloadMixin

Obj = dict[str, Any]
REGION = "eu-west-1"
ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
NODE_SIZES = ((4000, 16384), (8000, 32768), (16000, 65536))
DEFAULT_NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Knobs:
    seed: int = 0
    nodes: int = 20
    pods_per_node: int = 15
    namespaces: int = 6
    problem_share: float = 0.1
    metrics: str = "ok"  # ok / absent (404) / down (503)
    phase: int = 0
    pod_metrics: bool = True
    now: datetime = DEFAULT_NOW


@dataclass
class Scenario:
    knobs: Knobs
    objects: list[tuple[Resource, Obj]]
    expected: Expected

    def load(self, store: Store) -> None:
        for resource, obj in self.objects:
            store.put(resource, obj)

    def apply(self, store: Store) -> int:
        """Make `store` hold exactly this scenario's objects, writing only what differs. Returns writes."""
        return sync_store(store, self.objects)


def sync_store(store: Store, wanted: list[tuple[Resource, Obj]]) -> int:
    writes = 0
    keys: dict[tuple[str, str], set[str]] = {}
    for resource, obj in wanted:
        key = o_key(obj)
        keys.setdefault(resource.key, set()).add(key)
        current = store.get(resource, key)
        if current is None or _comparable(current.obj) != _comparable(obj):
            store.put(resource, obj)
            writes += 1
    for resource in BY_KEY.values():
        for obj in store.objects(resource):
            if o_key(obj) not in keys.get(resource.key, set()):
                store.delete(resource, o_key(obj))
                writes += 1
    return writes


def o_key(obj: Obj) -> str:
    meta = obj["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]


def _comparable(obj: Obj) -> Obj:
    meta = {k: v for k, v in obj["metadata"].items() if k not in ("resourceVersion", "uid", "creationTimestamp")}
    return {**obj, "metadata": meta}


def generate(knobs: Knobs = Knobs()) -> Scenario:
    if knobs.nodes < 2:
        raise ValueError("a scenario needs at least 2 nodes (one control plane, one worker)")
    return _Builder(knobs).build()


def resource(group: str, plural: str) -> Resource:
    return BY_KEY[(group, plural)]


@dataclass
class Spec:
    """A pod template and what one pod of it requests."""

    template: Obj
    cpu_m: int
    mem_mi: int
    images: list[str]


class _Builder(WorkloadMixin, ServiceMixin):
    def __init__(self, knobs: Knobs):
        self.knobs = knobs
        self.rng = random.Random(knobs.seed)
        self.trouble = random.Random(knobs.seed * 7919 + knobs.phase)
        self.objects: list[tuple[Resource, Obj]] = []
        self.expected = Expected(metrics=knobs.metrics)
        self.workers: list[str] = []
        self.placeable: list[str] = []
        self.requested: dict[str, tuple[int, int]] = {}  # node -> CPU (m) and memory (Mi) of the pods placed on it
        self.slot = 0
        self.event_index = 0
        self.app_namespaces: list[str] = []
        self.running_pods: list[tuple[Obj, str]] = []
        self.pod_index: dict[tuple[str, str], list[tuple[Obj, str]]] = {}  # (namespace, app label) → pods
        self.controllers: list[tuple[str, Obj, WorkloadTruth, str]] = []  # (kind, object, truth, problem)

    def build(self) -> Scenario:
        self.namespaces()
        self.nodes()
        self.daemonsets()
        self.statefulsets()
        self.batch()
        self.bare_pods()
        self.deployments()
        self.services()
        self.autoscalers()
        self.metrics()
        return Scenario(self.knobs, self.objects, self.expected)

    # -- helpers ----------------------------------------------------------------------------------
    def add(self, group: str, plural: str, obj: Obj) -> Obj:
        self.objects.append((resource(group, plural), obj))
        return obj

    def problems(self) -> bool:
        return self.knobs.problem_share > 0

    def share(self, total: int) -> int:
        """How many of `total` things to break (at least one when there are problems and things)."""
        if not self.problems() or total == 0:
            return 0
        return max(1, round(total * self.knobs.problem_share))

    def at(self, seconds_ago: float) -> str:
        return (self.knobs.now - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def spec(self, app: str, *, sidecar: bool = False, init: bool = False, big_init: bool = False,
             overhead: bool = False, tolerations: list[Obj] | None = None, tag: str = "1.4.2") -> Spec:
        cpu_m, mem_mi = self.rng.choice((50, 100, 100, 200, 250, 500)), self.rng.choice((64, 128, 128, 256, 512))
        containers = [o.container(app, f"registry.example.com/{app}:{tag}", cpu_m, mem_mi)]
        requests = [(cpu_m, mem_mi)]
        if sidecar:
            containers.append(o.container("envoy", "envoyproxy/envoy:v1.32.2", 100, 128))
            requests.append((100, 128))
        init_requests = [(cpu_m * 4, mem_mi * 2) if big_init else (10, 16)] if init or big_init else []
        init_containers = [o.container("migrate", f"registry.example.com/{app}-migrate:{tag}", c_, m_)
                           for c_, m_ in init_requests]
        extra = (250, 120) if overhead else (0, 0)
        over = {"cpu": "250m", "memory": "120Mi"} if overhead else None
        template = o.pod_template({"app": app}, containers, init_containers, tolerations, over)
        cpu, mem = effective_request(requests, init_requests, extra)
        return Spec(template, cpu, mem, [ctr["image"] for ctr in containers])

    def next_node(self, cpu_m: int, mem_mi: int) -> str:
        """The next ready, schedulable worker in turn that has room for the request: a scheduler never
        binds a pod beyond a node's allocatable. When none has room, the next in turn."""
        count = len(self.placeable)
        start = self.slot % count
        self.slot += 1
        for step in range(count):
            node = self.placeable[(start + step) % count]
            requested_cpu, requested_mem = self.requested.get(node, (0, 0))
            allocatable = self.expected.nodes[node]
            if requested_cpu + cpu_m <= allocatable.cpu_allocatable_m and \
                    requested_mem + mem_mi <= allocatable.mem_allocatable_mi:
                return node
        return self.placeable[start]

    def pod(self, workload: WorkloadTruth, name: str, spec: Spec, owner: Obj | None, variant: str,
            node: str | None = None) -> Obj:
        truth = VARIANTS[variant]
        if node is None and variant != "unschedulable":
            node = self.next_node(spec.cpu_m, spec.mem_mi)
        if node is not None:  # what the node has handed out, DaemonSets' and static pods' included
            requested_cpu, requested_mem = self.requested.get(node, (0, 0))
            self.requested[node] = (requested_cpu + spec.cpu_m, requested_mem + spec.mem_mi)
        low, high = truth.restarts
        restarts = self.trouble.randint(low, high) if high else 0
        ip = f"10.244.{self.slot // 250 % 250}.{self.slot % 250 + 2}"
        obj = build_pod(name, workload.namespace, spec.template, variant=variant, node=node, owner=owner,
                        ip=ip, restarts=restarts)
        self.add("", "pods", obj)
        self.pod_index.setdefault((workload.namespace, spec.template["metadata"]["labels"].get("app", "")),
                                  []).append((obj, variant))
        self.expected.add_pod(PodTruth(workload.namespace, name, workload.id, node, truth.state, truth.health,
                                       truth.reason, restarts, spec.cpu_m, spec.mem_mi))
        if truth.state == "running" and node in self.expected.nodes and \
                self.expected.nodes[node].status == "ready":
            self.running_pods.append((obj, node))
        self.warn_for(obj, variant)
        return obj

    def warn_for(self, obj: Obj, variant: str) -> None:
        messages = {
            "crashloop": ("BackOff", "Back-off restarting failed container in pod"),
            "init_crash": ("BackOff", "Back-off restarting failed init container in pod"),
            "imagepull": ("Failed", "Failed to pull image: rpc error: code = NotFound desc = not found"),
            "unschedulable": ("FailedScheduling", "0/20 nodes are available: 3 Insufficient cpu, "
                                                  "3 node(s) had untolerated taint {node-role.kubernetes.io/"
                                                  "control-plane: }. preemption: 0/20 nodes are available."),
            "evicted": ("Evicted", "The node was low on resource: memory. Threshold quantity: 100Mi."),
        }
        if variant in messages:
            self.event(obj, *messages[variant], warning=True)

    def event(self, involved: Obj, reason: str, message: str, *, warning: bool) -> None:
        self.event_index += 1
        ns = involved["metadata"].get("namespace") or "default"
        name = f"{involved['metadata']['name']}.{self.event_index:016x}"
        self.add("", "events", o.event(name, ns, involved, reason, message, warning=warning,
                                       at=self.at(self.event_index * 7), count=self.trouble.randint(1, 40)))
        self.expected.warning_events += warning

    # -- layout -----------------------------------------------------------------------------------
    def namespaces(self) -> None:
        teams = ("shop", "payments", "search", "identity", "analytics", "media", "ads", "platform")
        count = max(1, self.knobs.namespaces)
        self.app_namespaces = [teams[i % len(teams)] + (f"-{i // len(teams)}" if i >= len(teams) else "")
                               for i in range(count)]
        for name in ["default", "kube-system", "kube-public", "monitoring", "batch", *self.app_namespaces]:
            self.add("", "namespaces", o.namespace(name))

    def nodes(self) -> None:
        total = self.knobs.nodes
        control = 3 if total >= 10 else 1
        names = [f"ip-10-0-{i // 250}-{i % 250 + 10}.{REGION}.compute.internal" for i in range(total)]
        self.workers = names[control:]
        broken = self.trouble.sample(self.workers, min(len(self.workers) - 1, 3 * self.share(len(self.workers) // 3)))
        third = len(broken) // 3
        condition = {name: "False" for name in broken[:third]} | {name: "Unknown" for name in broken[third:2 * third]}
        cordoned = set(broken[2 * third:])
        for index, name in enumerate(names):
            is_control = index < control
            cpu_m, mem_mi = (4000, 16384) if is_control else self.rng.choice(NODE_SIZES)
            ready = condition.get(name, "True")
            taints = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}] if is_control else []
            if name in cordoned:
                taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                               "timeAdded": self.at(3600)})
            if ready != "True":
                taints.append({"key": "node.kubernetes.io/unreachable" if ready == "Unknown"
                               else "node.kubernetes.io/not-ready", "effect": "NoExecute", "timeAdded": self.at(900)})
            roles = ["control-plane"] if is_control else ["worker"]
            reserved = (100 + cpu_m // 100, 512 + mem_mi // 20)
            self.add("", "nodes", o.node(name, roles=roles, zone=ZONES[index % 3], region=REGION,
                                         ip=f"10.0.{index // 250}.{index % 250 + 10}", cpu_m=cpu_m, mem_mi=mem_mi,
                                         reserved_cpu_m=reserved[0], reserved_mem_mi=reserved[1], ready=ready,
                                         unschedulable=name in cordoned, taints=taints or None))
            status = {"True": "ready", "False": "not_ready", "Unknown": "unknown"}[ready]
            self.expected.nodes[name] = NodeTruth(name, status, name not in cordoned, roles, ZONES[index % 3], REGION,
                                                  cpu_m, mem_mi, cpu_m - reserved[0], mem_mi - reserved[1])
        self.placeable = [n for n in self.workers if condition.get(n, "True") == "True" and n not in cordoned]

    def metrics(self) -> None:
        for name, node in self.expected.nodes.items():
            if node.status != "ready":
                continue  # metrics-server cannot scrape a node whose kubelet is gone
            node.cpu_used_nano = int(node.cpu_capacity_m * 1e6 * self.rng.uniform(0.05, 0.7))
            node.mem_used_ki = int(node.mem_capacity_mi * 1024 * self.rng.uniform(0.2, 0.8))
            self.add(METRICS_GROUP, "nodes", o.node_metrics(name, node.cpu_used_nano, node.mem_used_ki, self.at(5)))
        if self.knobs.pod_metrics:
            for pod, _ in self.running_pods:
                self.add(METRICS_GROUP, "pods", o.pod_metrics(pod, self.rng.randint(1, 400) * 10 ** 6,
                                                              self.rng.randint(16, 900) * 1024, self.at(5)))
