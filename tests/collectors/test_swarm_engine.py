"""The Swarm collector against a real Docker engine in Swarm mode (started by the fixture)."""
from __future__ import annotations

import docker
import pytest

from collectors.swarm import engine
from collectors.swarm.fetch import SwarmCollector
from fleet.config import ClusterConfig
from fleet.source import ClusterData
from tests.engines import IMAGE, wait_for

pytestmark = pytest.mark.swarm

SECOND = 1_000_000_000


def create_service(client: docker.APIClient, name: str, *, image: str = IMAGE, mode: str = "replicated",
                   replicas: int = 1, healthcheck: list[str] | None = None, cpu: float = 0.0, mem: int = 0) -> str:
    container = docker.types.ContainerSpec(image=image, command=["/bin/sleep", "3600"])
    if healthcheck:
        container["Healthcheck"] = {"Test": healthcheck, "Interval": SECOND, "Timeout": SECOND,
                                    "Retries": 1, "StartPeriod": 0}
    resources = docker.types.Resources(cpu_reservation=int(cpu * SECOND), mem_reservation=mem) if cpu or mem else None
    template = docker.types.TaskTemplate(container_spec=container, resources=resources)
    service_mode = docker.types.ServiceMode(mode, replicas=replicas if mode == "replicated" else None)
    return client.create_service(template, name=name, mode=service_mode)["ID"]


def collect(engine) -> ClusterData:
    collector = SwarmCollector(ClusterConfig(name="swarm-test", orchestrator="swarm", url=engine.url))
    try:
        return collector.collect(timeout_s=10)
    finally:
        collector.close()


def workload(data: ClusterData, name: str):
    return next(w for w in data.workloads if w.name == name)


@pytest.fixture(scope="module")
def services(swarm_engine):
    client = swarm_engine.client
    names = {
        "web": create_service(client, "web", replicas=2, cpu=0.25, mem=64 * 2**20),
        "agent": create_service(client, "agent", mode="global"),
        "ghost": create_service(client, "ghost", image="podium/does-not-exist:1"),
        "sick": create_service(client, "sick", healthcheck=["CMD", "/bin/false"]),
        "fine": create_service(client, "fine", healthcheck=["CMD", "/bin/true"]),
    }

    def converged() -> ClusterData | None:
        data = collect(swarm_engine)
        web, agent, fine = workload(data, "web"), workload(data, "agent"), workload(data, "fine")
        ghost_failed = any(e.object.startswith("Task/ghost") for e in data.events)
        sick_failed = any("unhealthy" in e.message for e in data.events if e.object.startswith("Task/sick"))
        ready = (web.running == 2 and agent.running == 1 and fine.healthy == 1 and ghost_failed and sick_failed)
        return data if ready else None

    data = wait_for(converged, timeout_s=120, interval_s=1, what="services to converge")
    yield data
    for service_id in names.values():
        client.remove_service(service_id)


def test_replicated_service_is_healthy_with_its_replicas(services):
    web = workload(services, "web")
    assert (web.kind, web.desired, web.running, web.status) == ("ReplicatedService", 2, 2, "healthy")
    assert web.images == [IMAGE]
    assert web.cpu_request_cores == 0.25 and web.mem_request_bytes == 64 * 2**20


def test_global_service_runs_one_task_per_node(services):
    agent = workload(services, "agent")
    assert (agent.kind, agent.desired, agent.running, agent.status) == ("GlobalService", 1, 1, "healthy")


def test_service_with_missing_image_is_failed_with_the_reason(services):
    ghost = workload(services, "ghost")
    assert (ghost.running, ghost.status) == (0, "failed")
    instance = next(i for i in services.instances if i.workload_id == ghost.id)
    assert instance.state in ("failed", "pending")
    assert "No such image: podium/does-not-exist:1" in (instance.reason or "")
    assert any(e.severity in ("warning", "error") and "No such image" in e.message
               for e in services.events if e.object.startswith("Task/ghost"))


def test_failing_healthcheck_makes_the_service_unhealthy(services):
    sick = workload(services, "sick")
    assert sick.healthy == 0
    assert sick.status in ("degraded", "failed")
    events = [e for e in services.events if e.object.startswith("Task/sick")]
    assert any("unhealthy container" in e.message for e in events)


def test_passing_healthcheck_counts_healthy_instances(services):
    fine = workload(services, "fine")
    assert (fine.running, fine.healthy, fine.status) == (1, 1, "healthy")
    instance = next(i for i in services.instances if i.workload_id == fine.id)
    assert (instance.state, instance.health) == ("running", "healthy")


def test_node_reports_manager_leader_role_and_allocations(services, swarm_engine):
    [node] = services.nodes
    assert (node.status, node.schedulable) == ("ready", True)
    assert node.roles == ["manager", "leader"]
    assert node.cpu_capacity_cores > 0 and node.mem_capacity_bytes > 0
    assert node.version == swarm_engine.client.version()["Version"]
    # two running web tasks reserve 0.25 cores and 64 MiB each; nothing else reserves
    assert node.cpu_allocated_cores == pytest.approx(0.5)
    assert node.mem_allocated_bytes == 2 * 64 * 2**20
    assert node.cpu_used_cores is None and node.mem_used_bytes is None


def test_paused_or_drained_node_is_not_schedulable(services, swarm_engine):
    client = swarm_engine.client
    [node] = client.nodes()

    def set_availability(value: str) -> None:
        current = client.inspect_node(node["ID"])
        spec = dict(current["Spec"], Availability=value)
        client.update_node(node["ID"], current["Version"]["Index"], spec)

    try:
        set_availability("pause")
        assert collect(swarm_engine).nodes[0].schedulable is False
        set_availability("drain")
        assert collect(swarm_engine).nodes[0].schedulable is False
    finally:
        set_availability("active")
    assert collect(swarm_engine).nodes[0].schedulable is True


def test_the_worker_process_reads_parts_over_the_engine_socket(services, swarm_engine, monkeypatch):
    """A part per service, the collector's worker process up first: it dials the engine's unix
    socket itself, and the settled services read as one listing reads them (compared once the
    engine is quiet: an earlier test drains and reactivates the node)."""
    monkeypatch.setattr(engine, "TASKS_PER_PART", 1)
    collector = SwarmCollector(ClusterConfig(name="swarm-test", orchestrator="swarm", url=swarm_engine.url), live=False)
    assert collector.worker.target is not None and collector.worker.target.unix_socket
    collector.worker.min_tasks = 0
    collector.worker.start(wait=True)

    def instances(data: ClusterData) -> list:
        ids = {w.id for w in data.workloads if w.name in ("web", "agent", "fine")}
        return sorted((i.id, i.name, i.state, i.node_id) for i in data.instances if i.workload_id in ids)

    def alike() -> tuple[ClusterData, ClusterData] | None:
        in_parts, whole = collector.collect(timeout_s=10), collect(swarm_engine)
        settled = [i[2] for i in instances(whole)] == ["running"] * 4
        return (in_parts, whole) if settled and instances(in_parts) == instances(whole) else None
    try:
        in_parts, whole = wait_for(alike, timeout_s=90, interval_s=0.5, what="the same running tasks both ways")
    finally:
        collector.close()
    assert collector.worker.parts_read > 0
    assert {w.name: w.desired for w in in_parts.workloads} == {w.name: w.desired for w in whole.workloads}
