"""Nomad scenarios from a seed and size knobs, each stating what a correct collector must report.

A scenario is a consistent multi-region cluster: client nodes across datacenters (down, draining,
ineligible, initializing and disconnected ones), service/batch/system/sysbatch jobs with docker,
exec, java and qemu tasks, their allocations, deployments and blocked evaluations. Problems are
named (`PROBLEMS`) and switched on one by one. `Expected` is written from what each problem means
to an operator, with the scenario's own rules (`sim.nomad.expected`); it shares no code with the
collector, so the two can disagree.
"""
from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from typing import Iterable

from sim.nomad.expected import Expected, expected_for
from sim.nomad.model import (NANOS, Alloc, Deployment, DeploymentGroup, Evaluation, Group, GroupService, Job, Node,
                             PlacementFailure, Region, Scaling, Task, TaskEvent)

PROBLEMS = ("node_down", "node_draining", "node_ineligible", "node_initializing", "node_disconnected",
            "alloc_failed", "crashloop", "rescheduled", "deploying", "deploy_failed", "blocked_memory",
            "job_stopped", "batch_failed", "stats_off", "service_down", "autoscaler_max")
REGION_NAMES = ("eu-west", "us-east", "ap-south", "sa-east")
NAMESPACES = ("default", "platform", "batch")
CLASSES = ("", "compute", "memory", "edge")
CORE_COUNTS = (4, 8, 16, 32)
MHZ_PER_CORE = (2100, 2400, 2600, 3000, 3500)
MEMORY_MB = (16384, 32768, 65536)
SERVICES = ("api", "web", "cart", "search", "auth", "billing", "notify", "gateway", "catalog", "orders",
            "profile", "media", "ledger", "ingest", "reports")
IMAGES = {"api": "ghcr.io/acme/api:2.4.1", "web": "nginx:1.25", "cart": "ghcr.io/acme/cart:1.9.0",
          "search": "opensearchproject/opensearch:2.13.0", "auth": "ghcr.io/acme/auth:3.0.2"}
# drivers per task kind, with the config a job spec carries for each
DRIVER_CONFIG = {
    "docker": lambda name: {"image": IMAGES.get(name, f"ghcr.io/acme/{name}:1.0.0"), "ports": ["http"]},
    "exec": lambda name: {"command": f"/usr/local/bin/{name}", "args": ["-config", "local/config.hcl"]},
    "java": lambda name: {"jar_path": f"local/{name}.jar", "jvm_options": ["-Xmx512m"]},
    "qemu": lambda name: {"image_path": f"local/{name}.qcow2", "accelerator": "kvm"},
}
FAIL_MESSAGE = 'Exit Code: 1, Exit Message: "Docker container exited with non-zero exit code: 1"'
OOM_MESSAGE = "Exit Code: 137, Exit Message: \"OOM Killed\""
NO_MEMORY = "no nodes had enough memory"
DEPLOY_FAILED = "Failed due to unhealthy allocations"
LOST = "alloc is lost since its node is down"
UNKNOWN = "alloc is unknown since its node is disconnected"


@dataclass
class Scenario:
    seed: int
    regions: dict[str, Region]
    expected: Expected
    problems: tuple[str, ...]
    version: str = "1.7.7"


class _Ids:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.index = 100

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def next_index(self) -> int:
        self.index += 1
        return self.index


class _Builder:
    def __init__(self, seed: int, problems: set[str], now_s: float):
        self.rng = random.Random(seed)
        self.ids = _Ids(self.rng)
        self.problems = problems
        self.now_ns = int(now_s * NANOS)
        self.regions: dict[str, Region] = {}
        self.reasons: dict[str, str] = {}
        self.events: list[tuple[str, str]] = []
        self._placeable: dict[tuple[str, str], list[Node]] = {}
        self._allocs_of: dict[int, list[Alloc]] = {}

    # --- nodes --------------------------------------------------------------------------------
    def add_region(self, name: str, datacenters: int, nodes: int) -> Region:
        region = Region(name, [f"{name}-dc{i + 1}" for i in range(datacenters)],
                        leader=f"10.{len(self.regions) + 1}.0.1:4647")
        for i in range(nodes):
            region.nodes.append(self._node(region, i))
        self.regions[name] = region
        return region

    def _node(self, region: Region, i: int) -> Node:
        rng = self.rng
        cores = rng.choice(CORE_COUNTS)
        drivers = ("docker", "exec", "java") + (("qemu",) if i % 4 == 0 else ())
        n = len(self.regions)
        return Node(id=self.ids.uuid(), name=f"{region.name}-client-{i + 1:04d}", region=region.name,
                    datacenter=region.datacenters[i % len(region.datacenters)],
                    address=f"10.{n + 1}.{1 + i // 250}.{10 + i % 250}", node_class=CLASSES[i % len(CLASSES)],
                    pool="default", cores=cores, mhz_per_core=rng.choice(MHZ_PER_CORE),
                    memory_mb=rng.choice(MEMORY_MB), reserved_mhz=rng.choice((0, 200, 500)),
                    reserved_memory_mb=rng.choice((0, 256, 1024)), drivers=drivers,
                    create_index=self.ids.next_index(), status_updated_at=self.now_ns // NANOS - 3600,
                    cpu_used_mhz=round(cores * 400 * rng.random(), 1), memory_used_mb=rng.randint(1024, 8192))

    def apply_node_problems(self) -> None:
        """Problems land on the first region's nodes, one node each, from the end of the list."""
        region = next(iter(self.regions.values()))
        spare = list(reversed(region.nodes))
        for problem, change in (("node_down", {"status": "down", "stats": False}),
                                ("node_draining", {"draining": True, "eligible": False}),
                                ("node_ineligible", {"eligible": False}),
                                ("node_initializing", {"status": "initializing", "stats": False}),
                                ("node_disconnected", {"status": "disconnected", "stats": False})):
            if problem in self.problems and len(spare) > 2:
                node = spare.pop(0)
                for key, value in change.items():
                    setattr(node, key, value)
                if problem == "node_down":
                    self.events.append((f"Node/{node.name}", "down"))
        if "stats_off" in self.problems and len(spare) > 2:
            spare.pop(0).stats = False

    # --- jobs ---------------------------------------------------------------------------------
    def job(self, region: Region, name: str, type_: str, counts: list[int], driver: str = "docker",
            namespace: str = "default", has_update: bool | None = None) -> Job:
        groups = []
        for g, count in enumerate(counts):
            group_name = name if len(counts) == 1 else f"{name}-{g + 1}"
            tasks = [Task(name, driver, DRIVER_CONFIG[driver](name), cpu_mhz=self.rng.choice((100, 250, 500)),
                          memory_mb=self.rng.choice((128, 256, 512)))]
            groups.append(Group(group_name, count, tasks))
        index = self.ids.next_index()
        job = Job(id=name, name=name, namespace=namespace, region=region.name, type=type_,
                  datacenters=list(region.datacenters), groups=groups,
                  has_update=type_ == "service" if has_update is None else has_update,
                  create_index=index, modify_index=index, job_modify_index=index,
                  submit_time_ns=self.now_ns - 86400 * NANOS, priority=70 if type_ == "system" else 50)
        region.jobs.append(job)
        return job

    def placeable(self, region: Region, job: Job) -> list[Node]:
        driver = job.groups[0].tasks[0].driver
        key = (region.name, driver)
        if key not in self._placeable:  # nodes do not change once jobs are being placed
            self._placeable[key] = [n for n in region.nodes if n.status == "ready" and n.eligible
                                    and driver in n.drivers]
        return self._placeable[key]

    def alloc(self, region: Region, job: Job, group: Group, index: int, node: Node, status: str = "running",
              **fields: object) -> Alloc:
        created = self.now_ns - self.rng.randint(600, 86400) * NANOS
        alloc = Alloc(id=self.ids.uuid(), job=job, group=group, index=index, node=node, eval_id=self.ids.uuid(),
                      client_status=status, job_version=job.version,
                      client_description={"running": "Tasks are running", "pending": "No tasks have started",
                                          "complete": "All tasks have completed",
                                          "failed": "Failed tasks"}.get(status, ""),
                      healthy=(status == "running") if job.has_update else None,
                      create_index=self.ids.next_index(), create_time_ns=created,
                      modify_time_ns=created + 5 * NANOS, started_at=_rfc3339(created + 2 * NANOS))
        alloc.modify_index = alloc.create_index + 1
        for key, value in fields.items():
            setattr(alloc, key, value)
        region.allocs.append(alloc)
        self._allocs_of.setdefault(id(job), []).append(alloc)
        return alloc

    def place(self, region: Region, job: Job, status: str = "running") -> list[Alloc]:
        nodes = self.placeable(region, job)
        placed: list[Alloc] = []
        if not nodes:  # nowhere to run: the job stays unplaced (and reads as failed)
            return placed
        for group in job.groups:
            for i in range(group.count):
                node = nodes[self.rng.randrange(len(nodes))] if job.type not in ("system", "sysbatch") else nodes[i]
                placed.append(self.alloc(region, job, group, i, node, status))
        return placed

    def system_job(self, region: Region, name: str, type_: str) -> Job:
        job = self.job(region, name, type_, [1], driver="exec", namespace="platform", has_update=False)
        group = job.groups[0]
        status = "running" if type_ == "system" else "complete"
        for i, node in enumerate(n for n in region.nodes if n.status != "initializing"):
            if node.status == "down":
                alloc = self.alloc(region, job, group, 0, node, "lost", desired_status="stop",
                                   client_description=LOST)
                self.events.append((f"Allocation/platform/{alloc.name}", "lost"))
            elif node.status == "disconnected":
                alloc = self.alloc(region, job, group, 0, node, "unknown", client_description=UNKNOWN)
                self.reasons[alloc.id] = "disconnected"
            else:
                self.alloc(region, job, group, 0, node, status)
        if type_ == "sysbatch":
            job.status = "dead"
        return job

    def fail(self, alloc: Alloc, message: str, restarts: int = 0, status: str = "failed") -> None:
        task = alloc.group.tasks[0]
        t = alloc.modify_time_ns
        alloc.client_status, alloc.failing_task, alloc.restarts = status, task.name, restarts
        alloc.client_description = "Failed tasks" if status == "failed" else "Tasks are restarting"
        alloc.healthy = False if alloc.job.has_update else None
        alloc.events = [TaskEvent("Received", t - 9 * NANOS, "Task received by client"),
                        TaskEvent("Started", t - 8 * NANOS, "Task started by client"),
                        TaskEvent("Terminated", t - 2 * NANOS, message, exit_code=137 if "OOM" in message else 1),
                        TaskEvent("Restarting", t, "Task restarting in 15s", restart_reason="Restart within policy")
                        if status == "pending" else
                        TaskEvent("Not Restarting", t, "Exceeded allowed attempts 2 in interval 30m0s and mode is "
                                                       "\"fail\"", fails_task=True)]
        if status == "pending":
            alloc.started_at = None

    # --- the workload mix ---------------------------------------------------------------------
    def add_jobs(self, region: Region, count: int, allocs_per_job: int) -> None:
        self.system_job(region, "node-exporter", "system")
        self.system_job(region, "log-rotate", "sysbatch")
        drivers = ("docker", "docker", "docker", "exec", "java", "qemu")
        for j in range(max(0, count - 2)):
            base = SERVICES[j % len(SERVICES)]
            name = base if j < len(SERVICES) else f"{base}-{j // len(SERVICES)}"
            namespace = NAMESPACES[j % 2]
            if j % 7 == 6:
                self.batch_job(region, f"{name}-batch", allocs_per_job)
                continue
            driver = drivers[j % len(drivers)]
            size = max(1, allocs_per_job + self.rng.randint(-1, 1))
            counts = [size] if j % 5 else [max(1, size // 2), max(1, size - size // 2)]
            job = self.job(region, name, "service", counts, driver=driver, namespace=namespace)
            if driver == "docker":  # its tasks publish the "http" port: a service block registers it
                expose(job, provider="consul" if j % 4 == 3 else "nomad")
            if j == 0:
                autoscale(job, job.groups[0], low=1, high=job.groups[0].count + 2)
            self.place(region, job)
            self.finish_service(region, job)

    def batch_job(self, region: Region, name: str, size: int) -> None:
        job = self.job(region, name, "batch", [max(1, size)], namespace="batch")
        job.status = "dead"
        for alloc in self.place(region, job, "complete"):
            alloc.finished_at = _rfc3339(alloc.modify_time_ns)

    def finish_service(self, region: Region, job: Job) -> None:
        if job.has_update:
            self.deployment(region, job, "successful", "Deployment completed successfully")

    def deployment(self, region: Region, job: Job, status: str, description: str, placed: int | None = None,
                   healthy: int | None = None, unhealthy: int = 0) -> Deployment:
        groups = {g.name: DeploymentGroup(g.count, g.count if placed is None else placed,
                                          g.count if healthy is None else healthy, unhealthy)
                  for g in job.groups}
        deployment = Deployment(self.ids.uuid(), job, job.version, status, description, groups,
                                create_index=self.ids.next_index())
        deployment.modify_index = deployment.create_index + 2
        region.deployments.append(deployment)
        for alloc in self._allocs_of.get(id(job), []):
            if alloc.job_version == job.version:
                alloc.deployment_id = deployment.id
        return deployment

    def apply_job_problems(self, region: Region) -> None:
        services = [j for j in region.jobs if j.type == "service" and j.has_update]
        picks = iter(services)

        def pick() -> Job | None:
            return next(picks, None)

        if "alloc_failed" in self.problems and (job := pick()):
            victim = next(a for a in region.allocs if a.job is job)
            self.fail(victim, FAIL_MESSAGE)
            self.reasons[victim.id] = "Exit Code: 1"
            self.events.append((f"Allocation/{job.namespace}/{victim.name}", "Exit Code: 1"))
        if "crashloop" in self.problems and (job := pick()):
            victim = next(a for a in region.allocs if a.job is job)
            self.fail(victim, OOM_MESSAGE, restarts=4, status="pending")
            self.reasons[victim.id] = "OOM Killed"
        if "rescheduled" in self.problems and (job := pick()):
            self.reschedule(region, job)
        if "deploying" in self.problems and (job := pick()):
            self.rollout(region, job, failed=False)
        if "deploy_failed" in self.problems and (job := pick()):
            self.rollout(region, job, failed=True)
        if "blocked_memory" in self.problems:
            self.blocked(region)
        if "job_stopped" in self.problems and (job := pick()):
            job.stop, job.status = True, "dead"
            for alloc in region.allocs:
                if alloc.job is job:
                    alloc.desired_status, alloc.client_status = "stop", "complete"
                    alloc.desired_description = "alloc not needed due to job update"
        if "batch_failed" in self.problems:
            job = self.job(region, "nightly-etl", "batch", [2], driver="java", namespace="batch")
            job.status = "dead"
            for alloc in self.place(region, job):
                self.fail(alloc, 'Exit Code: 2, Exit Message: "java.lang.OutOfMemoryError"')
                self.events.append((f"Allocation/batch/{alloc.name}", "OutOfMemoryError"))

        if "service_down" in self.problems:  # every allocation behind a native service failed
            job = self.job(region, "checkout", "service", [2], namespace="default", has_update=False)
            expose(job, provider="nomad")
            for alloc in self.place(region, job):
                self.fail(alloc, FAIL_MESSAGE)
        if "autoscaler_max" in self.problems:  # demand pinned the group at its policy's maximum
            job = self.job(region, "frontend", "service", [3], namespace="default")
            expose(job, provider="nomad")
            autoscale(job, job.groups[0], low=1, high=3)
            self.place(region, job)
            self.finish_service(region, job)

    def reschedule(self, region: Region, job: Job) -> None:
        old = next(a for a in region.allocs if a.job is job)
        self.fail(old, FAIL_MESSAGE)
        self.events.append((f"Allocation/{job.namespace}/{old.name}", "Exit Code: 1"))
        others = [n for n in self.placeable(region, job) if n is not old.node] or [old.node]
        new = self.alloc(region, job, old.group, old.index, others[0], previous_id=old.id,
                         deployment_id=old.deployment_id)
        old.next_id = new.id

    def rollout(self, region: Region, job: Job, failed: bool) -> None:
        old = [a for a in region.allocs if a.job is job]
        job.version += 1
        job.job_modify_index = job.modify_index = self.ids.next_index()
        group = job.groups[0]
        replaced = old[: max(1, len(old) // 2)]
        for alloc in replaced:
            alloc.desired_status, alloc.client_status = "stop", "complete"
            alloc.desired_description = "alloc is being updated due to job update"
        new = [self.alloc(region, job, a.group, a.index, a.node) for a in replaced]
        total = sum(g.count for g in job.groups)
        if failed:
            for alloc in new:
                alloc.healthy = False
            self.deployment(region, job, "failed", DEPLOY_FAILED, placed=len(new), healthy=0, unhealthy=len(new))
            self.events.append((f"Deployment/{job.namespace}/{job.id}", DEPLOY_FAILED))
        else:
            new[-1].healthy = None  # the newest one is still being checked
            d = self.deployment(region, job, "running", "Deployment is running", placed=len(new),
                                healthy=len(new) - 1)
            d.groups[group.name].desired_total = total

    def blocked(self, region: Region) -> None:
        job = self.job(region, "ml-trainer", "service", [4], namespace="default")
        nodes = self.placeable(region, job)
        placed_as = replace(job.groups[0], tasks=[replace(task) for task in job.groups[0].tasks])
        for i in range(2):
            self.alloc(region, job, placed_as, i, nodes[i % len(nodes)])
        self.deployment(region, job, "running", "Deployment is running", placed=2, healthy=2)
        # then the job asked for 96 GiB a task: what runs keeps what it was placed with (a node never
        # holds more than it has), and the two more it wants fit nowhere
        job.groups[0].tasks[0].memory_mb = 98304
        available = Counter(n.datacenter for n in nodes)
        failure = PlacementFailure(job.groups[0].name, len(nodes), len(nodes), "memory", dict(available),
                                   coalesced=1)
        region.evaluations.append(Evaluation(self.ids.uuid(), job, "blocked", "queued-allocs", [failure],
                                             {job.groups[0].name: 2}, create_index=self.ids.next_index(),
                                             create_time_ns=self.now_ns - 300 * NANOS))
        self.events.append((f"Job/default/{job.id}", NO_MEMORY))


def expose(job: Job, provider: str) -> None:
    for group in job.groups:
        group.services.append(GroupService(f"{group.name}-http", "http", provider, ("http", f"job={job.id}")))


def autoscale(job: Job, group: Group, low: int, high: int) -> None:
    # a name-based id: no draw from the scenario's random stream, so adding a policy moves no other id
    policy_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"nomad-policy/{job.region}/{job.namespace}/{job.id}/{group.name}"))
    group.scaling = Scaling(policy_id, low, high, checks=(("avg_cpu", "prometheus",
                                                           f'avg(nomad_client_allocs_cpu_total_percent{{task_group="{group.name}"}})'),))


def _rfc3339(ns: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // NANOS)) + f".{ns % NANOS:09d}Z"


def build(seed: int = 0, *, regions: int = 2, datacenters: int = 2, nodes: int = 16, jobs: int = 20,
          allocs_per_job: int = 3, problems: Iterable[str] = PROBLEMS, now_s: float | None = None) -> Scenario:
    """A consistent cluster: `nodes` and `jobs` are totals spread over `regions`."""
    chosen = tuple(problems)
    unknown = set(chosen) - set(PROBLEMS)
    if unknown:
        raise ValueError(f"unknown problems {sorted(unknown)}; known: {', '.join(PROBLEMS)}")
    builder = _Builder(seed, set(chosen), time.time() if now_s is None else now_s)
    names = REGION_NAMES[:regions]
    for i, name in enumerate(names):
        share = nodes // regions + (1 if i < nodes % regions else 0)
        builder.add_region(name, datacenters, share)
    builder.apply_node_problems()
    for i, region in enumerate(builder.regions.values()):
        share = jobs // regions + (1 if i < jobs % regions else 0)
        builder.add_jobs(region, share, allocs_per_job)
    # after every region's regular jobs, so their ids do not depend on which problems are on
    builder.apply_job_problems(next(iter(builder.regions.values())))
    expected = expected_for(builder.regions, builder.reasons, builder.events)
    return Scenario(seed, builder.regions, expected, chosen)
