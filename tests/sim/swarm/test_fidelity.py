"""The emulator judged by the real thing: the same small swarm on a real dockerd and in the emulator.

Both answer `/nodes`, `/services?status=true`, `/tasks`, `/info` and `/version` with the same key
paths, value types and enums, object type by object type (values that naturally differ, such as
IDs, times and addresses, are compared by type only); the real `docker` CLI prints the same
columns against both.
"""
from __future__ import annotations

import re
import subprocess

import docker
import pytest

from sim.swarm import ServiceDef, fidelity, start
from sim.swarm.scenario import Scenario
from tests.engines import require_tool, wait_for
from tests.sim.swarm.shape import differences

pytestmark = pytest.mark.swarm

SECOND = 1_000_000_000
API = "1.41"  # what both speak: the Debian dockerd the tests run is 20.10
# the real dockerd runs with --bridge=none, so host-published ports are never bound and a task's
# PortStatus stays empty; a real engine with networking reports them, as the emulator does
ALLOWED = {"tasks": ("Status.PortStatus.Ports",), "info": ("DriverStatus",)}


def create(client: docker.APIClient, service: ServiceDef) -> str:
    labels = {"com.docker.stack.namespace": service.stack} if service.stack else None
    container = docker.types.ContainerSpec(image=service.image, command=list(service.command) or None, labels=labels)
    if service.healthcheck:
        container["Healthcheck"] = {"Test": list(service.healthcheck), "Interval": SECOND, "Timeout": SECOND,
                                    "Retries": 1}
    resources = None
    if service.cpu_limit or service.cpu_reservation:
        resources = docker.types.Resources(cpu_limit=int(service.cpu_limit * SECOND), mem_limit=service.mem_limit,
                                           cpu_reservation=int(service.cpu_reservation * SECOND),
                                           mem_reservation=service.mem_reservation)
    template = docker.types.TaskTemplate(container_spec=container, resources=resources)
    mode = docker.types.ServiceMode(service.mode, replicas=service.replicas if service.mode == "replicated" else None)
    endpoint = None
    if service.endpoint_mode or service.ports:
        ports = {p.published: (p.target, p.protocol, p.mode) for p in service.ports} or None
        endpoint = docker.types.EndpointSpec(mode=service.endpoint_mode, ports=ports)
    return client.create_service(template, name=service.name, mode=mode, labels=service.service_labels(),
                                 endpoint_spec=endpoint)["ID"]


def read(client: docker.APIClient, path: str, **params: str):
    response = client._get(f"{client.base_url}/v{API}{path}", params=params)
    response.raise_for_status()
    return response.json()


def converged(client: docker.APIClient) -> bool:
    services = {s["Spec"]["Name"]: s["ServiceStatus"] for s in read(client, "/services", status="true")}
    tasks = read(client, "/tasks")
    names = {s["ID"]: s["Spec"]["Name"] for s in read(client, "/services")}
    states = [(names[t["ServiceID"]], t["Status"]["State"]) for t in tasks]
    return (services["web"]["RunningTasks"] == 2 and services["agent"]["RunningTasks"] == 1
            and services["hostport"]["RunningTasks"] == 1 and services["fine"]["RunningTasks"] == 1
            and states.count(("ghost", "rejected")) >= 4 and states.count(("sick", "failed")) >= 2)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return fidelity()


@pytest.fixture(scope="module")
def real(scenario, swarm_engine):
    """The scenario's services on the swarm tier's shared dockerd (a second engine on the same host
    would fight the first over the ingress network's VXLAN), removed afterwards."""
    client = swarm_engine.client
    created = [create(client, service) for service in scenario.services]
    try:
        wait_for(lambda: converged(client), timeout_s=180, interval_s=2, what="the real swarm to converge")
        yield swarm_engine
    finally:
        for service_id in created:
            client.remove_service(service_id)


@pytest.fixture(scope="module")
def emulated(scenario):
    with start(scenario) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def emulated_client(emulated):
    client = docker.APIClient(base_url=emulated.docker_host, version=API, timeout=30)
    yield client
    client.close()


@pytest.mark.parametrize("kind, path, params", [
    ("nodes", "/nodes", {}), ("services", "/services", {"status": "true"}), ("tasks", "/tasks", {}),
    ("info", "/info", {}), ("version", "/version", {}), ("containers", "/containers/json", {})])
def test_the_emulator_answers_in_the_real_engine_shape(real, emulated_client, kind, path, params):
    seen = read(real.client, path, **params)
    made = read(emulated_client, path, **params)
    seen, made = (seen if isinstance(seen, list) else [seen]), (made if isinstance(made, list) else [made])
    assert seen and made
    found = differences(seen, made, allowed=ALLOWED.get(kind, ()))
    assert found == [], "\n".join(found)


def test_the_emulator_has_the_same_services_with_the_same_counts(real, emulated_client):
    def counts(client):
        return {s["Spec"]["Name"]: (s["ServiceStatus"]["DesiredTasks"], s["ServiceStatus"]["RunningTasks"])
                for s in read(client, "/services", status="true")}
    assert counts(emulated_client) == counts(real.client)


def test_the_emulator_refuses_versions_as_the_engine_does(real, emulated_client):
    for version in ("1.99", "1.11"):
        seen = real.client._get(f"{real.client.base_url}/v{version}/version")
        made = emulated_client._get(f"{emulated_client.base_url}/v{version}/version")
        assert (made.status_code, made.headers["Content-Type"], made.text.replace("1.24", "1.12")) == \
            (seen.status_code, seen.headers["Content-Type"], seen.text)


def test_unknown_objects_answer_as_the_engine_does(real, emulated_client):
    for path in ("/nodes/nope", "/services/nope", "/nope"):
        seen = real.client._get(f"{real.client.base_url}/v{API}{path}")
        made = emulated_client._get(f"{emulated_client.base_url}/v{API}{path}")
        assert (made.status_code, made.json()) == (seen.status_code, seen.json())


# -- the docker CLI ---------------------------------------------------------------------------------
def cli(host: str, *args: str) -> str:
    docker_cli = require_tool("docker", "the docker CLI reads the emulator as it reads dockerd")
    done = subprocess.run([docker_cli, "-H", host, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"docker {' '.join(args)} failed: {done.stderr}"
    return done.stdout


def columns(table: str) -> list[str]:
    return re.split(r"\s{2,}", table.splitlines()[0].strip())


def rows(table: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in table.splitlines()[1:] if line.strip()]


def swarm_section(info: str) -> list[str]:
    """The labels `docker info` prints under `Swarm:`."""
    lines = info.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Swarm:"))
    found = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        label = re.match(r"\s+([A-Z][A-Za-z ]*):", line)  # not the addresses listed under a label
        if label:
            found.append(label.group(1))
    return found


@pytest.mark.parametrize("command", [("node", "ls"), ("service", "ls"), ("service", "ps", "web"),
                                     ("service", "ps", "ghost"), ("stack", "ls")])
def test_the_docker_cli_prints_the_same_columns(real, emulated, command):
    seen = cli(real.url, *command)
    made = cli(emulated.docker_host, *command)
    assert columns(made) == columns(seen)
    assert len(rows(made)) == len(rows(seen)) or command[:2] == ("service", "ps")


def test_docker_service_ls_shows_the_same_replicas(real, emulated):
    def replicas(host):
        return {row[1]: (row[2], row[3]) for row in rows(cli(host, "service", "ls"))}
    assert replicas(emulated.docker_host) == replicas(real.url)


def test_docker_service_ps_shows_the_rejected_tasks_with_the_reason(emulated):
    table = cli(emulated.docker_host, "service", "ps", "--no-trunc", "ghost")
    assert "Rejected" in table and '"No such image: podium/does-not-exist:1"' in table


def test_docker_node_ls_marks_the_node_it_talks_to_and_the_leader(emulated):
    (row,) = rows(cli(emulated.docker_host, "node", "ls"))
    assert row[0].endswith("*") and row[1] == "vm" and "Leader" in row


def test_docker_info_prints_the_same_swarm_section(real, emulated):
    assert swarm_section(cli(emulated.docker_host, "info")) == swarm_section(cli(real.url, "info"))
