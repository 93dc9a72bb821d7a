"""Swarm service endpoints as Services: on the Docker project's recorded payloads, and against a real
Docker engine in Swarm mode (ingress and host-mode published ports, DNS round-robin, health)."""
from __future__ import annotations

import copy

import docker
import pytest

from collectors.swarm.fetch import read_answers
from collectors.swarm.normalize import normalize
from tests.collectors.test_swarm_engine import collect
from tests.engines import IMAGE, wait_for
from tests.upstream import upstream_json

ENDPOINT = "unix:///var/run/docker.sock"


def data_of(services: list[dict], tasks: list[dict] | None = None):
    raw = read_answers(ENDPOINT, version={"Version": "28.3.1"},
                       nodes=upstream_json("swarm/nodes-docker-node-inspect-cli-docs.json"),
                       services=services, tasks=upstream_json("swarm/tasks-api1.51.json") if tasks is None else tasks)
    return normalize(raw)


def test_vip_endpoint_with_an_ingress_published_port():
    [service] = data_of(upstream_json("swarm/services-api1.24.json")).services
    assert (service.id, service.name, service.kind) == ("9mnpnzenvg8p8tdbtq4wvbkcz", "hopeful_cori", "vip")
    assert service.addresses == ["10.255.0.2", "10.255.0.3"]  # one VIP per network, prefix dropped
    [port] = service.ports
    assert (port.port, port.protocol, port.target, port.published) == (6379, "tcp", "6379", 30001)
    assert service.workload_ids == ["9mnpnzenvg8p8tdbtq4wvbkcz"]
    # the recorded tasks: one running (current), one shut down (history, not a backend)
    assert (service.backends_total, service.backends_ready, service.status) == (1, 1, "ok")


def test_the_v151_item_reads_the_same_endpoint():
    [service] = data_of([upstream_json("swarm/service-item-api1.51.json")]).services
    assert (service.kind, service.addresses, [p.published for p in service.ports]) == (
        "vip", ["10.255.0.2", "10.255.0.3"], [30001])


def test_a_service_without_network_or_published_port_has_no_endpoint():
    assert data_of(upstream_json("swarm/services-docker-service-inspect-cli-docs.json"), tasks=[]).services == []


def test_a_service_whose_only_task_failed_has_no_ready_backend():
    tasks = copy.deepcopy(upstream_json("swarm/tasks-api1.51.json"))
    tasks[0]["Status"].update(State="failed", Err="task: non-zero exit (1)")
    [service] = data_of(upstream_json("swarm/services-api1.24.json"), tasks=tasks).services
    assert (service.backends_total, service.backends_ready, service.status) == (1, 0, "down")


def test_dnsrr_endpoint_is_dialled_by_the_service_name():
    services = copy.deepcopy(upstream_json("swarm/services-api1.24.json"))
    services[0]["Spec"]["EndpointSpec"] = {"Mode": "dnsrr"}
    services[0]["Endpoint"] = {"Spec": {"Mode": "dnsrr"}}
    [service] = data_of(services).services
    assert (service.kind, service.addresses, service.ports) == ("dnsrr", ["hopeful_cori"], [])


# --- a real engine -----------------------------------------------------------------------------------

def create(client: docker.APIClient, name: str, *, replicas: int = 1, ports: dict | None = None,
           mode: str = "vip", image: str = IMAGE) -> str:
    container = docker.types.ContainerSpec(image=image, command=["/bin/sleep", "3600"])
    endpoint = docker.types.EndpointSpec(mode=mode, ports=ports)
    return client.create_service(docker.types.TaskTemplate(container_spec=container), name=name,
                                 mode=docker.types.ServiceMode("replicated", replicas=replicas),
                                 endpoint_spec=endpoint)["ID"]


@pytest.fixture(scope="module")
def endpoints(swarm_engine):
    client = swarm_engine.client
    ids = [create(client, "svc-ingress", replicas=2, ports={18080: 80}),
           create(client, "svc-host", ports={18081: (81, "udp", "host")}, mode="dnsrr"),
           create(client, "svc-ghost", ports={18082: 82}, image="podium/does-not-exist:1")]

    def converged():
        data = collect(swarm_engine)
        found = {s.name: s for s in data.services}
        if set(found) != {"svc-ingress", "svc-host", "svc-ghost"}:
            return None
        settled = (found["svc-ingress"].backends_ready == 2 and found["svc-host"].backends_ready == 1
                   and any(e.object.startswith("Task/svc-ghost") for e in data.events))
        return found if settled else None

    found = wait_for(converged, timeout_s=120, interval_s=1, what="service endpoints to converge")
    yield found
    for service_id in ids:
        client.remove_service(service_id)


@pytest.mark.swarm
def test_ingress_port_and_virtual_ips_on_a_real_engine(endpoints):
    service = endpoints["svc-ingress"]
    assert service.kind == "vip" and service.addresses  # a VIP on the ingress network
    assert [(p.port, p.protocol, p.target, p.published) for p in service.ports] == [(80, "tcp", "80", 18080)]
    assert (service.backends_total, service.backends_ready, service.status) == (2, 2, "ok")


@pytest.mark.swarm
def test_host_mode_udp_port_with_dns_round_robin_on_a_real_engine(endpoints):
    service = endpoints["svc-host"]
    assert (service.kind, service.addresses) == ("dnsrr", ["svc-host"])
    assert [(p.port, p.protocol, p.published) for p in service.ports] == [(81, "udp", 18081)]
    assert service.status == "ok"


@pytest.mark.swarm
def test_a_service_whose_tasks_never_run_has_no_ready_backend_on_a_real_engine(endpoints):
    service = endpoints["svc-ghost"]
    assert (service.backends_total, service.backends_ready, service.status) == (1, 0, "down")
