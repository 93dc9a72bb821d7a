"""Marathon-on-Mesos scenarios from a seed and size knobs, each stating what a collector must report.

A scenario is one consistent cluster: Mesos agents (with attributes, fault domains, inactive,
draining and disconnected ones), Marathon apps and pods placed on them, the launch queue and
deployments. Problems are named (`PROBLEMS`) and can be switched on one by one. `Expected` is
written here, by the scenario's author, from what each problem means to an operator; it does not
reuse any of the collector's mapping code, so the two can disagree.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from sim.marathon.model import (App, Deployment, HealthResult, MarathonState, OfferRejection, Pod, PodContainer,
                                PodInstance, QueueEntry, Task, TaskFailure)
from sim.mesos.agents import Agent
from sim.mesos.master import MesosState, MesosTask

PROBLEMS = ("agent_deactivated", "agent_draining", "agent_lost", "suspended", "http_check_failing",
            "tcp_check_failing", "command_check_failing", "deploying", "stuck_no_memory",
            "stuck_constraint", "crash_backoff", "pod_degraded")
TEAMS = ("payments", "search", "web", "data", "platform", "tools")
IMAGES = ("nginx:1.25", "redis:7.2", "python:3.12-slim", "envoyproxy/envoy:v1.29", "grafana/grafana:10.4")
CLUSTER_ID = "4f1f6c1e-2a4b-4c55-9d0e-7b2f9f3a1c00"
MIB = 1024 * 1024
NOW_S = 1_767_225_600.0  # 2026-01-01T00:00:00Z: a fixed "now" keeps a scenario the same from run to run
# what each Mesos task state means to an operator (the scenario's own reading, see module doc)
INSTANCE_STATE = {"TASK_RUNNING": "running", "TASK_STAGING": "pending", "TASK_STARTING": "pending",
                  "TASK_UNREACHABLE": "unknown", "TASK_FAILED": "failed", "TASK_KILLED": "stopped"}
POD_INSTANCE_STATE = {"STABLE": "running", "DEGRADED": "running", "PENDING": "pending", "STAGING": "pending",
                      "TERMINAL": "stopped"}


@dataclass
class Expected:
    """What a correct collector reports for this scenario."""

    nodes_by_status: dict[str, int]
    unschedulable_nodes: set[str]
    node_zones: dict[str, str]
    workload_status: dict[str, str]
    instances_by_state: dict[str, int]
    unhealthy_instances: int
    # app id -> the offer-rejection reason an operator must see for an app stuck in the queue
    stuck_reasons: dict[str, str] = field(default_factory=dict)
    # app id -> Mesos state of its last task failure
    task_failures: dict[str, str] = field(default_factory=dict)
    cpu_allocated_cores: float = 0.0
    mem_allocated_bytes: int = 0
    # app id -> (status, backends total, backends ready): every app has a port, so every app is a service
    services: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    # app id -> what a client dials for its VIP label
    vips: dict[str, list[str]] = field(default_factory=dict)

    @property
    def workloads_by_status(self) -> dict[str, int]:
        return dict(Counter(self.workload_status.values()))


@dataclass
class Scenario:
    seed: int
    mesos: MesosState
    marathon: MarathonState
    expected: Expected


def iso(epoch_s: float) -> str:
    """Marathon's time format: ISO-8601, milliseconds, Z."""
    return datetime.fromtimestamp(epoch_s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _Builder:
    def __init__(self, seed: int, problems: set[str], now_s: float):
        self.now_s = now_s
        self.rng = random.Random(seed)
        self.problems = problems
        self.agents: list[Agent] = []
        self.apps: list[App] = []
        self.pods: list[Pod] = []
        self.deployments: list[Deployment] = []
        self.status: dict[str, str] = {}
        self.stuck: dict[str, str] = {}
        self.failures: dict[str, str] = {}
        self.serial = 0

    # --- agents -------------------------------------------------------------------------------
    def add_agents(self, count: int) -> None:
        for i in range(count):
            zone = "abc"[i % 3]
            agent = Agent(id=f"{CLUSTER_ID}-S{i}", hostname=f"agent-{i:05d}.mesos",
                          ip=f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
                          cpus=float(self.rng.choice((8, 16, 32))), mem_mb=float(self.rng.choice((32768, 65536))),
                          attributes={"rack": f"r{i % 8:02d}", "instance_type": "m5.2xlarge", "ssd": "true"},
                          region="eu-west-1", zone=f"eu-west-1{zone}")
            if i % 10 == 9:
                agent.reserved = {"slave_public": {"cpus": 2.0, "mem": 4096.0}}
                agent.attributes["public_ip"] = "true"
            self.agents.append(agent)
        specials = [("agent_deactivated", dict(active=False, deactivated=True)),
                    ("agent_draining", dict(active=False, deactivated=True, draining="DRAINING")),
                    ("agent_lost", dict(active=False, deactivated=False))]
        for offset, (problem, changes) in enumerate(specials, start=1):
            if problem in self.problems and len(self.agents) > 3 + offset:
                agent = self.agents[-offset]
                for key, value in changes.items():
                    setattr(agent, key, value)

    @property
    def lost_agent(self) -> Agent | None:
        return next((a for a in self.agents if not a.active and not a.deactivated), None)

    def pick_agent(self) -> Agent:
        if not any(a.active for a in self.agents):
            raise ValueError("a scenario with tasks needs at least one active agent")
        while True:
            agent = self.agents[self.rng.randrange(len(self.agents))]
            if agent.active:
                return agent

    # --- tasks --------------------------------------------------------------------------------
    def task(self, app: App, state: str = "TASK_RUNNING", agent: Agent | None = None,
             alive: bool | None = None, cause: str | None = None) -> Task:
        agent = agent or self.pick_agent()
        self.serial += 1
        task_id = f"{app.id.strip('/').replace('/', '_')}.{self.serial:08x}-{self.rng.getrandbits(32):08x}"
        health = None
        if app.health_checks and state == "TASK_RUNNING" and alive is not None:
            health = [HealthResult(alive=alive, consecutive_failures=0 if alive else 3, last_failure_cause=cause,
                                   last_success=self.ago(30), last_failure=None if alive else self.ago(20))]
        task = Task(id=task_id, app_id=app.id, agent_id=agent.id, host=agent.hostname, state=state,
                    staged_at=self.ago(86_400), version=self.ago(86_400),
                    started_at=None if state in ("TASK_STAGING", "TASK_STARTING") else self.ago(86_395),
                    health=health, region=agent.region, zone=agent.zone)
        app.tasks.append(task)
        return task

    def ago(self, seconds: float) -> str:
        return iso(self.now_s - seconds)

    def new_app(self, name: str, instances: int, **kwargs) -> App:
        team = TEAMS[len(self.apps) % len(TEAMS)]
        app = App(id=f"/{team}/{name}", instances=instances, cpus=self.rng.choice((0.1, 0.25, 0.5, 1.0)),
                  mem=float(self.rng.choice((128, 256, 512, 1024))), image=self.rng.choice(IMAGES),
                  labels={"team": team}, version=self.ago(86_400), service_port=10000 + len(self.apps),
                  vip=f"/{team}/{name}:80" if len(self.apps) % 3 == 0 else None, **kwargs)
        self.apps.append(app)
        return app

    # --- apps ---------------------------------------------------------------------------------
    def add_healthy_apps(self, count: int, instances: int | None) -> None:
        for i in range(count):
            checks = [{"protocol": "MESOS_HTTP", "path": "/health", "portIndex": 0}] if i % 2 == 0 else []
            app = self.new_app(f"service-{i:05d}", instances or self.rng.randint(1, 5), health_checks=checks)
            if i % 7 == 3:  # a command app fetched from a URI, no image
                app.image, app.cmd, app.uris = None, "./run.sh", ["https://artifacts.example/run.tgz"]
            for _ in range(app.instances):
                self.task(app, alive=True if checks else None)
            self.status[app.id] = "healthy"

    def add_problem_apps(self) -> None:
        for problem in PROBLEMS:
            handler = getattr(self, f"app_{problem}", None)
            if problem in self.problems and handler is not None:
                handler()

    def app_suspended(self) -> None:
        app = self.new_app("batch-reindex", 0)
        self.status[app.id] = "stopped"

    def app_http_check_failing(self) -> None:
        app = self.new_app("checkout", 3, health_checks=[{"protocol": "MESOS_HTTP", "path": "/health", "portIndex": 0}])
        self.task(app, alive=True), self.task(app, alive=True)
        self.task(app, alive=False, cause="HTTP request returned status 503")
        self.status[app.id] = "degraded"

    def app_tcp_check_failing(self) -> None:
        app = self.new_app("ledger-db", 2, health_checks=[{"protocol": "TCP", "portIndex": 0}])
        for _ in range(2):
            self.task(app, alive=False, cause="Connection refused")
        self.status[app.id] = "failed"

    def app_command_check_failing(self) -> None:
        app = self.new_app("cache-warmer", 2, health_checks=[{"protocol": "COMMAND", "command": "test -f /tmp/ok"}])
        self.task(app, alive=True)
        self.task(app, alive=False, cause="Command exited with status 1")
        self.status[app.id] = "degraded"

    def app_deploying(self) -> None:
        app = self.new_app("frontend", 3, health_checks=[{"protocol": "MESOS_HTTP", "path": "/", "portIndex": 0}])
        for _ in range(3):
            self.task(app, alive=True)
        self.task(app, state="TASK_STAGING")
        self.deploy(app.id, "RestartApplication")
        self.status[app.id] = "progressing"

    def deploy(self, app_id: str, action: str) -> None:
        deployment = Deployment(id=f"{self.rng.getrandbits(64):016x}-deploy", apps=[app_id], action=action,
                                version=self.ago(120))
        self.deployments.append(deployment)
        next(a for a in self.apps if a.id == app_id).deployment_ids.append(deployment.id)

    def app_stuck_no_memory(self) -> None:
        app = self.new_app("ml-trainer", 2)
        app.mem = 262144.0  # 256 GiB: no agent can ever offer it
        app.queue = QueueEntry(count=2, since=self.ago(900), processed_offers=240, unused_offers=240, rejections=[
            OfferRejection("UnfulfilledRole", 0, 240), OfferRejection("UnfulfilledConstraint", 0, 240),
            OfferRejection("InsufficientCpus", 12, 240), OfferRejection("InsufficientMemory", 228, 228),
            OfferRejection("InsufficientDisk", 0, 0)])
        self.deploy(app.id, "ScaleApplication")
        self.status[app.id] = "failed"
        self.stuck[app.id] = "InsufficientMemory"

    def app_stuck_constraint(self) -> None:
        app = self.new_app("zookeeper", 3, constraints=[["rack", "GROUP_BY", "3"], ["hostname", "UNIQUE"]])
        self.task(app), self.task(app)
        app.queue = QueueEntry(count=1, since=self.ago(1_800), processed_offers=60, unused_offers=60, rejections=[
            OfferRejection("UnfulfilledRole", 0, 60), OfferRejection("UnfulfilledConstraint", 57, 60),
            OfferRejection("InsufficientCpus", 3, 3)])
        self.status[app.id] = "degraded"
        self.stuck[app.id] = "UnfulfilledConstraint"

    def app_crash_backoff(self) -> None:
        app = self.new_app("report-mailer", 1)
        agent = self.pick_agent()
        app.last_failure = TaskFailure(task_id=f"tools_report-mailer.{self.rng.getrandbits(32):08x}",
                                       host=agent.hostname, agent_id=agent.id,
                                       message="Command exited with status 137 (OOM killed)",
                                       timestamp=self.ago(90), version=self.ago(3_600))
        app.queue = QueueEntry(count=1, overdue=False, delay_left_s=187, since=self.ago(600))
        self.status[app.id] = "failed"
        self.failures[app.id] = "TASK_FAILED"

    def app_agent_lost(self) -> None:
        lost = self.lost_agent
        if lost is None:
            return
        app = self.new_app("session-store", 4)
        self.task(app, state="TASK_UNREACHABLE", agent=lost)
        for _ in range(3):
            self.task(app)
        self.task(app, state="TASK_STAGING")
        self.status[app.id] = "degraded"

    # --- pods ---------------------------------------------------------------------------------
    def add_pods(self, count: int) -> None:
        for i in range(count):
            degraded = i == 1 and "pod_degraded" in self.problems
            pod = Pod(id=f"/web/edge-{i}", instances=2, status="DEGRADED" if degraded else "STABLE",
                      version=self.ago(7_200),
                      containers=[PodContainer("proxy", "envoyproxy/envoy:v1.29", 0.5, 256.0),
                                  PodContainer("agent", "datadog/agent:7", 0.1, 128.0)])
            for n in range(pod.instances):
                agent = self.pick_agent()
                sick = degraded and n == 0
                pod.pod_instances.append(PodInstance(
                    id=f"web_edge-{i}.instance-{self.rng.getrandbits(48):012x}", agent_id=agent.id,
                    host=agent.hostname, status="DEGRADED" if sick else "STABLE", since=self.ago(3_600),
                    containers={"proxy": ("TASK_RUNNING", not sick), "agent": ("TASK_RUNNING", None)}))
            self.pods.append(pod)
            self.status[pod.id] = "degraded" if degraded else "healthy"

    # --- totals -------------------------------------------------------------------------------
    def account(self) -> list[MesosTask]:
        by_id = {a.id: a for a in self.agents}
        mesos_tasks = []
        for app in self.apps:
            for task in app.tasks:
                agent = by_id[task.agent_id]
                agent.task_counts[task.state] = agent.task_counts.get(task.state, 0) + 1
                agent.used_cpus += app.cpus
                agent.used_mem_mb += app.mem
                name = app.id.rsplit("/", 1)[-1]
                mesos_tasks.append(MesosTask(task.id, name, agent.id, task.state, app.cpus, app.mem))
        for pod in self.pods:
            for instance in pod.pod_instances:
                agent = by_id[instance.agent_id]
                agent.used_cpus += sum(c.cpus for c in pod.containers) + pod.executor_cpus
                agent.used_mem_mb += sum(c.mem for c in pod.containers) + pod.executor_mem
                agent.task_counts["TASK_RUNNING"] = agent.task_counts.get("TASK_RUNNING", 0) + len(pod.containers)
        return mesos_tasks

    def expected(self) -> Expected:
        states: Counter[str] = Counter()
        unhealthy = 0
        for app in self.apps:
            for task in app.tasks:
                states[INSTANCE_STATE[task.state]] += 1
                unhealthy += any(not h.alive for h in task.health or [])
        for pod in self.pods:
            for instance in pod.pod_instances:
                states[POD_INSTANCE_STATE[instance.status]] += 1
                unhealthy += instance.status == "DEGRADED"
        nodes = Counter("ready" if a.active or a.deactivated else "down" for a in self.agents)
        return Expected(
            nodes_by_status=dict(nodes), unschedulable_nodes={a.id for a in self.agents if not a.active},
            node_zones={a.id: a.zone or "" for a in self.agents}, workload_status=dict(self.status),
            instances_by_state=dict(states), unhealthy_instances=unhealthy, stuck_reasons=dict(self.stuck),
            task_failures=dict(self.failures),
            cpu_allocated_cores=round(sum(a.used_cpus for a in self.agents), 6),
            mem_allocated_bytes=sum(int(a.used_mem_mb * MIB) for a in self.agents),
            services={app.id: _service(app) for app in self.apps},
            vips={app.id: [f"{app.vip.split(':')[0].replace('/', '')}.marathon.l4lb.thisdcos.directory:80"]
                  for app in self.apps if app.vip})


def _service(app: App) -> tuple[str, int, int]:
    """A task backs the app's port; it is ready when it runs and, where the app has health checks, every
    check of it passed. No ready task while instances are wanted: down; none wanted: unknown."""
    ready = sum(t.state == "TASK_RUNNING" and (not app.health_checks or bool(t.health) and
                                               all(h.alive for h in t.health or []))
                for t in app.tasks)
    if app.instances == 0:
        status = "unknown"
    else:
        status = "down" if not ready else "ok" if ready == len(app.tasks) else "degraded"
    return status, len(app.tasks), ready


def build(seed: int = 0, *, agents: int = 15, apps: int = 20, pods: int = 2, instances_per_app: int | None = None,
          problems: Iterable[str] = PROBLEMS, now_s: float = NOW_S) -> Scenario:
    """A cluster of `agents` agents and `apps` apps in total (problem apps included) plus `pods` pods.

    Times (task starts, failures, queue entries) are set back from `now_s`."""
    builder = _Builder(seed, set(problems), now_s)
    builder.add_agents(agents)
    builder.add_problem_apps()
    builder.add_healthy_apps(max(0, apps - len(builder.apps)), instances_per_app)
    builder.add_pods(pods)
    mesos_tasks = builder.account()
    mesos = MesosState(agents=builder.agents, tasks=mesos_tasks)
    marathon = MarathonState(apps=builder.apps, pods=builder.pods, deployments=builder.deployments)
    return Scenario(seed=seed, mesos=mesos, marathon=marathon, expected=builder.expected())
