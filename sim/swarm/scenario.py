"""Swarm scenarios: nodes and services as an operator would declare them, and what must be reported.

A scenario says what the swarm is (`NodeDef`, `ServiceDef`: replicated and global services, stacks,
failing images, failing health checks, task history, paused/drained/down nodes, several managers
with one leader, reservations and limits, published ports and VIPs, dnsrr); `sim.swarm.objects`
renders it as the engine would. `expected()` states what a correct collector must report, worked
out here from the declarations (scheduling rules in `placement`), sharing no code with a collector.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

GIB = 1024**3
MIB = 1024**2
NO_IMAGE = "no_image"
UNHEALTHY = "unhealthy"


@dataclass(frozen=True)
class Engine:
    """What `/version` says: the engine release and the API versions it speaks."""

    version: str = "27.3.1"
    api_version: str = "1.47"
    min_api_version: str = "1.24"
    go_version: str = "go1.22.7"
    git_commit: str = "41ca978"
    kernel: str = "6.8.0-48-generic"
    os_name: str = "Ubuntu 24.04.1 LTS"


@dataclass(frozen=True)
class PortDef:
    target: int
    published: int
    mode: str = "ingress"  # or "host"
    protocol: str = "tcp"


@dataclass(frozen=True)
class NodeDef:
    hostname: str
    role: str = "worker"  # or "manager"
    availability: str = "active"  # active | pause | drain
    state: str = "ready"  # ready | down | disconnected | unknown
    leader: bool = False
    reachable: bool = True  # a manager's raft reachability
    cpus: int = 4
    mem_bytes: int = 16 * GIB
    labels: tuple[tuple[str, str], ...] = ()
    arch: str = "x86_64"


@dataclass(frozen=True)
class ServiceDef:
    name: str
    mode: str = "replicated"  # or "global"
    replicas: int = 1
    image: str = "nginx:1.27"
    command: tuple[str, ...] = ()
    stack: str | None = None  # the com.docker.stack.namespace label `docker stack deploy` sets
    networks: tuple[str, ...] = ()  # overlay networks the tasks attach to (a stack's `<stack>_default`)
    healthcheck: tuple[str, ...] = ()  # e.g. ("CMD", "/bin/true")
    failure: str | None = None  # NO_IMAGE: every task rejected; UNHEALTHY: health check fails
    cpu_reservation: float = 0.0
    mem_reservation: int = 0
    cpu_limit: float = 0.0
    mem_limit: int = 0
    ports: tuple[PortDef, ...] = ()
    endpoint_mode: str | None = None  # None: not given (the engine's default, vip); "vip" | "dnsrr"
    history: int = 0  # earlier tasks kept per slot from past updates (shut down)
    labels: tuple[tuple[str, str], ...] = ()

    def service_labels(self) -> dict[str, str]:
        labels = dict(self.labels)
        if self.stack:
            labels["com.docker.stack.namespace"] = self.stack
        return labels


@dataclass(frozen=True)
class Scenario:
    seed: int
    nodes: tuple[NodeDef, ...]
    services: tuple[ServiceDef, ...]
    engine: Engine = Engine()
    # the node whose engine the API is served from; None: the leader
    local: str | None = None
    swarm_active: bool = True  # False: an engine that never joined a swarm
    history_limit: int = 5  # TaskHistoryRetentionLimit: task objects kept per slot
    now_s: float | None = None  # the emulated "now" (None: the wall clock when rendered); times are before it
    cluster_name: str = "default"

    def node(self, hostname: str) -> NodeDef:
        return next(n for n in self.nodes if n.hostname == hostname)

    def service(self, name: str) -> ServiceDef:
        return next(s for s in self.services if s.name == name)

    @property
    def local_node(self) -> NodeDef:
        if self.local is not None:
            return self.node(self.local)
        return next((n for n in self.nodes if n.leader), self.nodes[0])

    def with_node(self, hostname: str, **changes: object) -> "Scenario":
        nodes = tuple(replace(n, **changes) if n.hostname == hostname else n for n in self.nodes)  # type: ignore[arg-type]
        return replace(self, nodes=nodes)

    def with_service(self, name: str, **changes: object) -> "Scenario":
        services = tuple(replace(s, **changes) if s.name == name else s for s in self.services)  # type: ignore[arg-type]
        return replace(self, services=services)


# -- the scheduler's rules, as the scenario states them ---------------------------------------------
def schedulable(node: NodeDef) -> bool:
    """New tasks go to ready, active nodes."""
    return node.state == "ready" and node.availability == "active"


def fits(node: NodeDef, service: ServiceDef) -> bool:
    return service.cpu_reservation <= node.cpus and service.mem_reservation <= node.mem_bytes


def placeable_on(scenario: Scenario, service: ServiceDef) -> list[NodeDef]:
    """Where new replicated tasks of the service may go."""
    return [n for n in scenario.nodes if schedulable(n) and fits(n, service)]


def keeps_global_task(node: NodeDef) -> bool:
    """A global service runs on every ready node that is not drained (pause keeps what runs)."""
    return node.state == "ready" and node.availability != "drain"


@dataclass(frozen=True)
class ServiceTruth:
    desired: int
    running: int
    status: str  # the model's workload status
    kind: str
    namespace: str


@dataclass(frozen=True)
class NodeTruth:
    status: str  # ready | down | not_ready | unknown
    schedulable: bool
    roles: tuple[str, ...]


@dataclass
class Expected:
    services: dict[str, ServiceTruth] = field(default_factory=dict)
    nodes: dict[str, NodeTruth] = field(default_factory=dict)


NODE_STATUS = {"ready": "ready", "down": "down", "disconnected": "not_ready", "unknown": "unknown"}


def expected(scenario: Scenario) -> Expected:
    truth = Expected()
    for node in scenario.nodes:
        roles = (node.role, "leader") if node.leader else (node.role,)
        truth.nodes[node.hostname] = NodeTruth(NODE_STATUS[node.state], node.availability == "active", roles)
    for service in scenario.services:
        if service.mode == "global":
            desired = sum(1 for n in scenario.nodes if keeps_global_task(n))
            placed = True
        else:
            desired = service.replicas
            placed = bool(placeable_on(scenario, service))
        running = desired if placed and not service.failure else 0
        if desired == 0:
            status = "stopped"
        elif running == 0:
            # rejected, unhealthy or unplaceable tasks all carry an error an operator must act on
            status = "failed"
        else:
            status = "healthy" if running >= desired else "degraded"
        kind = "GlobalService" if service.mode == "global" else "ReplicatedService"
        truth.services[service.name] = ServiceTruth(desired, running, status, kind, service.stack or "")
    return truth


# -- scenarios --------------------------------------------------------------------------------------
FIDELITY_IMAGE = "podium/busybox:1"  # the image tests/engines.py imports into a real dockerd
SLEEP = ("/bin/sleep", "3600")


def fidelity() -> Scenario:
    """One manager, the services tests/test_swarm_fidelity.py also creates on a real dockerd."""
    image, sleep = FIDELITY_IMAGE, SLEEP
    services = (
        ServiceDef("web", replicas=2, image=image, command=sleep, stack="shop", cpu_reservation=0.25,
                   mem_reservation=64 * MIB, cpu_limit=0.5, mem_limit=128 * MIB, ports=(PortDef(80, 8080),),
                   endpoint_mode="vip"),
        ServiceDef("agent", mode="global", image=image, command=sleep, endpoint_mode="dnsrr"),
        ServiceDef("hostport", image=image, command=sleep, ports=(PortDef(90, 9090, "host"),), endpoint_mode="vip"),
        ServiceDef("ghost", image="podium/does-not-exist:1", command=sleep, failure=NO_IMAGE),
        ServiceDef("sick", image=image, command=sleep, healthcheck=("CMD", "/bin/false"), failure=UNHEALTHY),
        ServiceDef("fine", image=image, command=sleep, healthcheck=("CMD", "/bin/true")),
    )
    node = NodeDef("vm", role="manager", leader=True, cpus=2, mem_bytes=8 * GIB)
    return Scenario(0, (node,), services, engine=Engine(version="20.10.24+dfsg1", api_version="1.41",
                                                         min_api_version="1.12", go_version="go1.19.8"))


DIGEST = "@sha256:" + "5f" * 32
APPS = ("api", "web", "cart", "search", "auth", "billing", "notify", "gateway", "catalog", "orders",
        "profile", "media", "ledger", "ingest", "reports", "queue", "mailer", "assets", "pricing", "stock")
STACKS = ("shop", "platform", "data", "edge", "ops")


def build(seed: int = 0, *, nodes: int = 12, managers: int = 3, services: int = 20, replicas: int = 3,
          global_services: int = 2, history: int = 0, problems: bool = True) -> Scenario:
    """A swarm of `nodes` (the first `managers` are managers, one the leader) running `services`
    replicated services of `replicas` tasks plus `global_services`, grouped into stacks. With
    `problems`: a drained, a paused and a down worker, an unreachable manager, a service whose image
    does not exist, one whose health check fails, one that cannot be placed, and task history."""
    rng = random.Random(seed)
    node_defs = []
    for i in range(nodes):
        role = "manager" if i < managers else "worker"
        zone = ("a", "b", "c")[i % 3]
        node_defs.append(NodeDef(f"{'mgr' if role == 'manager' else 'wrk'}-{i:04d}", role=role, leader=i == 0,
                                 cpus=rng.choice((4, 8, 16)), mem_bytes=rng.choice((16, 32, 64)) * GIB,
                                 labels=(("zone", f"eu-west-1{zone}"),), arch="x86_64" if i % 7 else "aarch64"))
    service_defs = []
    for i in range(services):
        app = APPS[i % len(APPS)] + ("" if i < len(APPS) else f"-{i // len(APPS)}")
        stack = STACKS[i % len(STACKS)]
        ports = (PortDef(8080, 30000 + i),) if i % 4 == 0 else ()
        service_defs.append(ServiceDef(
            app, replicas=replicas, image=f"registry.example.com/{stack}/{app}:1.{i % 9}.0{DIGEST}", stack=stack,
            networks=(f"{stack}_default",), cpu_reservation=0.025 * (1 + i % 4), mem_reservation=(16 << (i % 4)) * MIB,
            cpu_limit=0.5 * (1 + i % 4), mem_limit=(256 << (i % 4)) * MIB, ports=ports,
            endpoint_mode="dnsrr" if i % 10 == 9 else "vip", history=history,
            healthcheck=("CMD-SHELL", "wget -qO- http://localhost:8080/health || exit 1") if i % 3 == 0 else ()))
    for i in range(global_services):
        name = ("node-exporter", "log-shipper", "cadvisor", "falco")[i % 4] + ("" if i < 4 else f"-{i}")
        service_defs.append(ServiceDef(name, mode="global", image=f"prom/{name}:v1.8.2{DIGEST}", stack="ops",
                                       networks=("ops_default",), cpu_reservation=0.05, mem_reservation=32 * MIB,
                                       ports=(PortDef(9100 + i, 9100 + i, "host"),), history=history))
    scenario = Scenario(seed, tuple(node_defs), tuple(service_defs))
    return with_problems(scenario) if problems and nodes > managers + 3 and services >= 4 else scenario


def with_problems(scenario: Scenario) -> Scenario:
    workers = [n for n in scenario.nodes if n.role == "worker"]
    managers = [n for n in scenario.nodes if n.role == "manager"]
    replicated = [s for s in scenario.services if s.mode == "replicated"]
    scenario = scenario.with_node(workers[0].hostname, availability="drain")
    scenario = scenario.with_node(workers[1].hostname, availability="pause")
    scenario = scenario.with_node(workers[2].hostname, state="down")
    if len(managers) > 2:
        scenario = scenario.with_node(managers[-1].hostname, reachable=False, state="down")
    scenario = scenario.with_service(replicated[1].name, image="registry.example.com/shop/web:9.9.9-missing",
                                     failure=NO_IMAGE)
    scenario = scenario.with_service(replicated[2].name, failure=UNHEALTHY,
                                     healthcheck=("CMD-SHELL", "curl -fs http://localhost/health || exit 1"))
    # more memory than any node has: never placed
    scenario = scenario.with_service(replicated[3].name, mem_reservation=512 * GIB, replicas=2)
    return scenario


def demo_scenario(seed: int = 0) -> Scenario:
    """The dashboard's demo swarm: 3 managers, 9 workers, 14 services in 4 stacks, with problems."""
    return build(seed, nodes=12, managers=3, services=12, replicas=3, global_services=2, history=2)
