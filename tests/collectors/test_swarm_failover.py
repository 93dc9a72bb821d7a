"""Prediction against reality: Podium's node-loss analysis on a real three-node Swarm.

Three dockerds, each in its own network namespace (and hostname) on one bridge, form a Swarm:
one manager and two workers, all schedulable. Two services reserve CPU so that Swarm places one
task of each on every node. Podium collects the Swarm, predicts what losing one worker strands and
what fits elsewhere; the test then stops that worker's dockerd and checks that Swarm did the same:
the same tasks stranded, the small one re-placed, the big one left pending for lack of CPU.
"""
from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass

import docker
import pytest

from collectors.swarm.fetch import SwarmCollector
from fleet.analysis import analyze_cluster
from fleet.config import ClusterConfig
from fleet.model import Cluster, Instance
from fleet.source import ClusterData
from tests.engines import IMAGE, Dockerd, require_tool, wait_for

pytestmark = [pytest.mark.swarm, pytest.mark.timeout(600)]

SUBNET = "10.231.7"
SWARM_PORT = 2377
NANO = 1_000_000_000
NODES = ("manager", "worker1", "worker2")


class NamespacedDockerd(Dockerd):
    """A dockerd inside a network namespace (entered with nsenter) and its own UTS namespace."""

    def __init__(self, name: str, netns: str, address: str):
        super().__init__(name, swarm_port=SWARM_PORT)
        self.hostname = name
        self.netns = netns
        self.address = address

    def start(self) -> "NamespacedDockerd":
        dockerd = require_tool("dockerd", "the Swarm tests run a real Docker engine")
        nsenter = require_tool("nsenter", "each Swarm node runs in its own network namespace")
        log = open(self.root / "dockerd.log", "wb")
        engine = [dockerd, "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
                  "-H", self.url, "--pidfile", str(self.root / "pid"), "--iptables=false", "--ip6tables=false",
                  "--bridge=none", "--storage-driver=vfs"]
        script = f'hostname {self.hostname} && exec "$@"'
        self.process = subprocess.Popen(
            [nsenter, f"--net=/var/run/netns/{self.netns}", "unshare", "--uts", "--", "sh", "-c", script, "sh",
             *engine], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._ping()
        self.client = docker.APIClient(base_url=self.url, version="auto", timeout=30)
        return self

    @property
    def swarm_address(self) -> str:
        return f"{self.address}:{SWARM_PORT}"


@dataclass
class Network:
    """A bridge and one namespace per node, joined by veth pairs; removed whatever happens."""

    tag: str
    namespaces: list[str]

    @property
    def bridge(self) -> str:
        return f"pb{self.tag}"

    def up(self) -> "Network":
        ip(f"link add {self.bridge} type bridge")
        ip(f"link set {self.bridge} up")
        for index, netns in enumerate(self.namespaces, start=1):
            host_end, node_end = f"pv{self.tag}{index}", f"pn{self.tag}{index}"
            ip(f"netns add {netns}")
            ip(f"link add {host_end} type veth peer name {node_end}")
            ip(f"link set {host_end} master {self.bridge} up")
            ip(f"link set {node_end} netns {netns}")
            ip(f"-n {netns} link set lo up")
            ip(f"-n {netns} addr add {SUBNET}.{index}/24 dev {node_end}")
            ip(f"-n {netns} link set {node_end} up")
        return self

    def down(self) -> None:
        for index, netns in enumerate(self.namespaces, start=1):
            ip(f"link del pv{self.tag}{index}", check=False)
            ip(f"netns del {netns}", check=False)
        ip(f"link del {self.bridge}", check=False)


def ip(arguments: str, *, check: bool = True) -> None:
    result = subprocess.run(["ip", *arguments.split()], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"ip {arguments}: {result.stderr.strip()}")


@pytest.fixture(scope="module")
def three_node_swarm():
    require_tool("ip", "the multi-node Swarm uses network namespaces (iproute2)")
    if os.geteuid() != 0:
        pytest.skip("network namespaces and dockerd need root")
    tag = uuid.uuid4().hex[:6]
    network = Network(tag, [f"pd7-{tag}-{name}" for name in NODES])
    engines: list[NamespacedDockerd] = []
    try:
        network.up()
        for index, (name, netns) in enumerate(zip(NODES, network.namespaces), start=1):
            engines.append(NamespacedDockerd(name, netns, f"{SUBNET}.{index}").start())
        form_swarm(engines)
        for engine in engines:
            engine.import_busybox()  # the image must exist on every node: there is no registry
        yield engines
    finally:
        for engine in engines:
            engine.remove()
        network.down()


def form_swarm(engines: list[NamespacedDockerd]) -> None:
    manager, *workers = engines
    manager.client.init_swarm(advertise_addr=manager.swarm_address, listen_addr=manager.swarm_address)
    token = manager.client.inspect_swarm()["JoinTokens"]["Worker"]
    for worker in workers:
        worker.client.join_swarm(remote_addrs=[manager.swarm_address], join_token=token,
                                 listen_addr=worker.swarm_address, advertise_addr=worker.swarm_address)
    wait_for(lambda: sum(n["Status"]["State"] == "ready" for n in manager.client.nodes()) == len(engines),
             timeout_s=60, what="every node to join the swarm and be ready")


def create_service(client: docker.APIClient, name: str, replicas: int, cpu: float) -> None:
    container = docker.types.ContainerSpec(image=IMAGE, command=["/bin/sleep", "3600"])
    resources = docker.types.Resources(cpu_reservation=int(cpu * NANO))
    template = docker.types.TaskTemplate(container_spec=container, resources=resources)
    client.create_service(template, name=name, mode=docker.types.ServiceMode("replicated", replicas=replicas))


def collect(manager: NamespacedDockerd) -> Cluster:
    source = SwarmCollector(ClusterConfig(name="three", orchestrator="swarm", url=manager.url))
    try:
        data: ClusterData = source.collect(10)
    finally:
        source.close()
    return Cluster(name="three", orchestrator="swarm", endpoint=manager.url, status="ok", nodes=data.nodes,
                   workloads=data.workloads, instances=data.instances)


def node_id(cluster: Cluster, hostname: str) -> str:
    return next(n.id for n in cluster.nodes if n.name == hostname)


def by_name(cluster: Cluster) -> dict[str, Instance]:
    return {i.name: i for i in cluster.instances}


@pytest.fixture(scope="module")
def spread_services(three_node_swarm):
    manager = three_node_swarm[0]
    # every node has the machine's CPUs; "big" fits once per node, "small" beside it
    cpus = manager.client.nodes()[0]["Description"]["Resources"]["NanoCPUs"] / NANO
    create_service(manager.client, "big", replicas=3, cpu=cpus * 0.6)
    create_service(manager.client, "small", replicas=3, cpu=cpus * 0.125)

    def spread() -> Cluster | None:
        cluster = collect(manager)
        running = [i for i in cluster.instances if i.state == "running"]
        return cluster if len(running) == 6 and len({(i.workload_id, i.node_id) for i in running}) == 6 else None
    return wait_for(spread, timeout_s=180, interval_s=1, what="one task of each service on every node")


def test_swarm_does_what_podium_predicted_for_the_loss_of_a_worker(three_node_swarm, spread_services):
    manager, worker1 = three_node_swarm[0], three_node_swarm[1]
    before = spread_services
    lost = node_id(before, "worker1")
    prediction = next(i for i in analyze_cluster(before).node_loss if i.lost == "worker1")
    predicted = {s.instance: s.placed_on is not None for s in prediction.stranded}
    assert sorted(predicted) == sorted(i.name for i in before.instances if i.node_id == lost)
    # the small task fits beside the others; the big one fits nowhere
    assert {name.split(".")[0]: fits for name, fits in predicted.items()} == {"big": False, "small": True}
    assert prediction.spof_workloads == [] and not prediction.absorbable

    worker1.stop()

    def settled() -> Cluster | None:
        cluster = collect(manager)
        down = next(n for n in cluster.nodes if n.id == lost).status == "down"
        now = by_name(cluster)
        # decided: running somewhere else, or pending with the scheduler's reason
        decided = all(name in now and now[name].node_id != lost and
                      (now[name].state == "running" or (now[name].state == "pending" and now[name].reason))
                      for name in predicted)
        return cluster if down and decided else None
    after = wait_for(settled, timeout_s=180, interval_s=2, what="Swarm to react to the lost worker")

    now = by_name(after)
    actual = {name: now[name].state == "running" for name in predicted}
    assert actual == predicted
    for name, fits in predicted.items():
        if not fits:
            assert "insufficient resources" in (now[name].reason or ""), now[name]
    # what did not move keeps running where it was
    survivors = [i for i in before.instances if i.node_id != lost]
    assert all(now[i.name].node_id == i.node_id and now[i.name].state == "running" for i in survivors)
