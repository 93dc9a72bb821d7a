"""The workload half of the scenario builder: DaemonSets, StatefulSets, batch, bare Pods, Deployments.

Each method writes the controller object, its pods, and the truth: the status a correct
collector must give the workload, stated from the problem the generator chose for it.
Layout decisions use `self.rng` (seed only); problem decisions use `self.trouble` (seed and
phase), so the same seed keeps its layout while the problems move.
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from sim.kubernetes import controllers as c
from sim.kubernetes import objects as o
from sim.kubernetes.pods import VARIANTS
from sim.kubernetes.truth import WorkloadTruth

if TYPE_CHECKING:
    from sim.kubernetes.scenario import Spec

Obj = dict[str, Any]

DEPLOYMENT_PROBLEMS = ("crashloop", "rollout", "unschedulable", "all_crash", "oom", "init_crash", "stopped", "paused")
DEPLOYMENT_STATUS = {"none": "healthy", "crashloop": "degraded", "rollout": "progressing", "unschedulable": "degraded",
                     "all_crash": "failed", "oom": "healthy", "init_crash": "degraded", "stopped": "stopped",
                     "paused": "healthy"}
APPS = ("api", "web", "worker", "cart", "checkout", "catalog", "auth", "gateway", "indexer", "thumbnailer",
        "mailer", "notifier", "scheduler", "ledger", "recommender", "frontend", "cache-warmer", "billing")
STATEFUL = ("postgres", "redis", "kafka", "zookeeper", "elasticsearch", "rabbitmq")
TOLERATE_ALL = [{"operator": "Exists"}]


def suffix(*parts: str) -> str:
    return o.fake_uid(*parts).replace("-", "")[:5]


def retag(spec: "Spec", tag: str) -> "Spec":
    template = copy.deepcopy(spec.template)
    for ctr in template["spec"]["containers"]:
        if ctr["image"].startswith("registry.example.com/"):
            ctr["image"] = ctr["image"].rsplit(":", 1)[0] + f":{tag}"
    images = [ctr["image"] for ctr in template["spec"]["containers"]]
    return type(spec)(template, spec.cpu_m, spec.mem_mi, images)


def with_labels(spec: "Spec", **labels: str) -> "Spec":
    template = copy.deepcopy(spec.template)
    template["metadata"]["labels"].update(labels)
    return type(spec)(template, spec.cpu_m, spec.mem_mi, spec.images)


class WorkloadMixin:
    # provided by the builder
    rng: Any
    trouble: Any
    expected: Any
    knobs: Any
    workers: list[str]
    app_namespaces: list[str]
    controllers: list[tuple[str, Obj, WorkloadTruth, str]]

    def truth(self, kind: str, ns: str, name: str, status: str, desired: int | None, spec: "Spec") -> WorkloadTruth:
        workload = WorkloadTruth(kind, ns, name, status, desired, spec.images, spec.cpu_m, spec.mem_mi)
        self.expected.workloads[workload.id] = workload
        return workload

    # -- DaemonSets: one pod per eligible node; nodes that stopped reporting hold not-ready pods ---
    def daemonsets(self) -> None:
        self.daemonset("kube-proxy", "kube-system", list(self.expected.nodes), TOLERATE_ALL, rolling=False)
        self.daemonset("node-exporter", "monitoring", self.workers, None, rolling=False)
        if self.problems():
            self.daemonset("log-shipper", "monitoring", self.workers, None, rolling=True)

    def daemonset(self, name: str, ns: str, nodes: list[str], tolerations: list[Obj] | None, rolling: bool) -> None:
        spec = self.spec(name, tolerations=tolerations)
        variants = {n: "ok" if self.expected.nodes[n].status == "ready" else "notready" for n in nodes}
        ready = sum(v == "ok" for v in variants.values())
        status = ("progressing" if rolling else "failed" if ready == 0 else
                  "degraded" if ready < len(nodes) else "healthy")
        workload = self.truth("DaemonSet", ns, name, status, len(nodes), spec)
        ds = self.add("apps", "daemonsets", c.daemonset(name, ns, spec.template, desired=len(nodes), ready=ready,
                                                        updated=len(nodes) - 1 if rolling else len(nodes)))
        self.controllers.append(("DaemonSet", ds, workload, "none"))
        for node, variant in variants.items():
            self.pod(workload, f"{name}-{suffix(name, node)}", spec, o.owner_ref(ds), variant, node=node)

    # -- StatefulSets ----------------------------------------------------------------------------
    def statefulsets(self) -> None:
        count = max(1, len(self.app_namespaces) // 2)
        chosen = self.trouble.sample(range(count), min(self.share(count), count))
        problems = {index: ("unschedulable", "rolling")[k % 2] for k, index in enumerate(chosen)}
        for index in range(count):
            name = STATEFUL[index % len(STATEFUL)] + (f"-{index // len(STATEFUL)}" if index >= len(STATEFUL) else "")
            self.statefulset(name, self.app_namespaces[index % len(self.app_namespaces)], problems.get(index, "none"))

    def statefulset(self, name: str, ns: str, problem: str) -> None:
        spec = self.spec(name, sidecar=True)
        variants = ["ok", "ok", "unschedulable" if problem == "unschedulable" else "ok"]
        ready = sum(VARIANTS[v].ready for v in variants)
        status = {"none": "healthy", "unschedulable": "degraded", "rolling": "progressing"}[problem]
        workload = self.truth("StatefulSet", ns, name, status, 3, spec)
        sts = self.add("apps", "statefulsets", c.statefulset(name, ns, spec.template, replicas=3, ready=ready,
                                                             updated=1 if problem == "rolling" else 3))
        self.controllers.append(("StatefulSet", sts, workload, problem))
        for index, variant in enumerate(variants):
            self.pod(workload, f"{name}-{index}", spec, o.owner_ref(sts), variant)

    # -- Jobs and CronJobs -----------------------------------------------------------------------
    def batch(self) -> None:
        self.cronjob("nightly-backup", suspended=False, last="Complete", status="healthy")
        self.cronjob("report-generator", suspended=True, last="Complete", status="stopped")
        self.job("migrate-schema-v42", outcome="Complete", owner=None)
        self.job("reindex-search", outcome="", owner=None)
        if self.problems():
            self.cronjob("db-vacuum", suspended=False, last="Failed", status="failed")
            self.job("import-invoices", outcome="Failed", owner=None)

    def cronjob(self, name: str, *, suspended: bool, last: str, status: str) -> None:
        spec = self.spec(name)
        workload = self.truth("CronJob", "batch", name, status, None, spec)
        job_name = f"{name}-{29000000 + sum(map(ord, name))}"
        cron = self.add("batch", "cronjobs", c.cronjob(name, "batch", spec.template, schedule="0 2 * * *",
                                                       suspended=suspended, last_job=job_name, at=self.at(25000)))
        self.job(job_name, outcome=last, owner=cron, workload=workload, spec=spec)

    def job(self, name: str, *, outcome: str, owner: Obj | None, workload: WorkloadTruth | None = None,
            spec: "Spec | None" = None) -> None:
        spec = spec or self.spec(name)
        if workload is None:
            status = {"Complete": "completed", "Failed": "failed", "": "healthy"}[outcome]
            workload = self.truth("Job", "batch", name, status, 1, spec)
        spec = with_labels(spec, **{"job-name": name})
        variant = {"Complete": "succeeded", "Failed": "failed", "": "ok"}[outcome]
        job = self.add("batch", "jobs", c.job(name, "batch", spec.template, outcome=outcome,
                                              active=int(variant == "ok"), succeeded=int(variant == "succeeded"),
                                              failed=4 if variant == "failed" else 0,
                                              owner=o.owner_ref(owner) if owner else None, at=self.at(20000)))
        self.pod(workload, f"{name}-{suffix(name)}", spec, o.owner_ref(job), variant)
        if outcome == "Failed":
            self.event(job, "BackoffLimitExceeded", "Job has reached the specified backoff limit", warning=True)

    # -- bare Pods, and the control plane's static pods (owned by their Node) --------------------------
    def bare_pods(self) -> None:
        wanted = [("debug-shell", "ok", "healthy")]
        if self.problems():
            wanted += [("toolbox", "evicted", "failed"), ("netshoot", "creating", "progressing")]
        for name, variant, status in wanted:
            spec = self.spec(name)
            workload = self.truth("Pod", "default", name, status, 1, spec)
            self.pod(workload, name, spec, None, variant)
        for node in [n for n in self.expected.nodes if n not in self.workers]:
            spec = self.spec("kube-apiserver", tolerations=TOLERATE_ALL)
            name = f"kube-apiserver-{node}"
            workload = self.truth("Pod", "kube-system", name, "healthy", 1, spec)
            owner = {"apiVersion": "v1", "kind": "Node", "name": node, "uid": o.fake_uid(node), "controller": True}
            self.pod(workload, name, spec, owner, "ok", node=node)
        for node, truth in self.expected.nodes.items():
            if truth.status != "ready":
                involved = {"kind": "Node", "apiVersion": "v1", "metadata": {"name": node, "uid": o.fake_uid(node)}}
                self.event(involved, "NodeNotReady", f"Node {node} status is now: NodeNotReady", warning=False)

    # -- Deployments fill the rest of the pod budget ---------------------------------------------
    def deployments(self) -> None:
        budget = self.knobs.nodes * self.knobs.pods_per_node - len(self.expected.pods)
        plan: list[tuple[str, str, int]] = []
        while budget > 0:
            index = len(plan)
            replicas = min(self.rng.choice((1, 2, 2, 3, 3, 3, 4, 5, 6, 8, 10)), budget)
            name = APPS[index % len(APPS)] + (f"-{index // len(APPS)}" if index >= len(APPS) else "")
            plan.append((name, self.app_namespaces[index % len(self.app_namespaces)], replicas))
            budget -= replicas
        candidates = [i for i, (_, _, replicas) in enumerate(plan) if replicas >= 3]
        chosen = self.trouble.sample(candidates, min(self.share(len(plan)), len(candidates)))
        problems = {index: DEPLOYMENT_PROBLEMS[k % len(DEPLOYMENT_PROBLEMS)] for k, index in enumerate(chosen)}
        for index, (name, ns, replicas) in enumerate(plan):
            self.deployment(name, ns, replicas, problems.get(index, "none"))

    def deployment(self, name: str, ns: str, replicas: int, problem: str) -> None:
        rolls = [self.rng.random() for _ in range(4)]
        spec = self.spec(name, sidecar=rolls[0] < 0.3, init=rolls[1] < 0.15 or problem == "init_crash",
                         big_init=rolls[2] < 0.05, overhead=rolls[3] < 0.03)
        desired = 0 if problem == "stopped" else replicas
        variants = ["ok"] * desired
        if problem == "all_crash":
            variants = ["crashloop"] * desired
        elif problem in ("crashloop", "unschedulable", "init_crash"):
            variants[-1] = problem
        elif problem == "oom":
            variants[0] = "oom"
        ready = sum(VARIANTS[v].ready for v in variants)
        rolling = problem == "rollout"
        current = retag(spec, "1.5.0") if rolling else spec
        workload = self.truth("Deployment", ns, name, DEPLOYMENT_STATUS[problem], desired, current)
        dep = self.add("apps", "deployments", c.deployment(
            name, ns, current.template, replicas=desired, ready=ready, available=ready,
            updated=1 if rolling else desired, total=len(variants) + rolling, paused=problem == "paused",
            rolling=rolling, generation=2 if rolling else 1))
        self.controllers.append(("Deployment", dep, workload, problem))
        self.replicaset(workload, dep, spec, variants, revision=1)
        if rolling:
            self.replicaset(workload, dep, current, ["imagepull"], revision=2)

    def replicaset(self, workload: WorkloadTruth, dep: Obj, spec: "Spec", variants: list[str], revision: int) -> None:
        name, ns = workload.name, workload.namespace
        pod_hash = o.fake_uid(ns, name, str(revision)).replace("-", "")[:10]
        spec = with_labels(spec, **{"pod-template-hash": pod_hash})
        rs_name = f"{name}-{pod_hash}"
        ready = sum(VARIANTS[v].ready for v in variants)
        rs = self.add("apps", "replicasets", c.replicaset(rs_name, ns, spec.template, o.owner_ref(dep),
                                                          replicas=len(variants), ready=ready, revision=revision))
        for index, variant in enumerate(variants):
            self.pod(workload, f"{rs_name}-{suffix(rs_name, str(index))}", spec, o.owner_ref(rs), variant)
