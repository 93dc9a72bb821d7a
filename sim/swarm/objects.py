"""A scenario rendered as the Engine API's objects: Node, Service, Task, ContainerSummary.

Shapes follow what a real engine answers (checked field by field against a real dockerd in
tests/sim/swarm/test_fidelity.py): Go's `omitempty` fields are left out when empty, IDs are
swarmkit's 25-character base-36 strings, times RFC 3339 with nanoseconds, lists sorted by ID.
"""
from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from sim.swarm.ids import NANO, object_id, timestamp
from sim.swarm.scenario import UNHEALTHY, NodeDef, Scenario, ServiceDef
from sim.swarm.tasks import TaskPlan, plan_tasks

DAY_NS = 86_400 * NANO
INGRESS = "ingress"
PLUGINS = [{"Type": "Log", "Name": name} for name in (
    "awslogs", "fluentd", "gcplogs", "gelf", "journald", "json-file", "local", "splunk", "syslog")] + [
    {"Type": "Network", "Name": name} for name in ("bridge", "host", "ipvlan", "macvlan", "null", "overlay")] + [
    {"Type": "Volume", "Name": "local"}]
# a swarm CA's public certificate and key (made up, as every value here): base64 of DER bytes, as
# Go writes []byte; the docker CLI decodes them
_SUBJECT = base64.b64encode(bytes.fromhex("3013311130 0f0603550403130873776172 6d2d6361".replace(" ", ""))).decode()
_PUBLIC_KEY = base64.b64encode(bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d03010703420004") +
                               hashlib.sha512(b"podium swarm emulator").digest()[:64]).decode()
TRUST_ROOT = ("-----BEGIN CERTIFICATE-----\n" + base64.b64encode(hashlib.sha512(b"podium ca").digest() * 5).decode()[:320]
              + "\n-----END CERTIFICATE-----\n")
TLS_INFO = {"TrustRoot": TRUST_ROOT, "CertIssuerSubject": _SUBJECT, "CertIssuerPublicKey": _PUBLIC_KEY}


def container_id(task_id: str) -> str:
    return hashlib.sha256(task_id.encode()).hexdigest()


@dataclass
class Rendered:
    nodes: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    # ServiceStatus by service ID (sent with ?status=true on API 1.41+)
    status: dict[str, dict[str, int]] = field(default_factory=dict)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    containers: list[dict[str, Any]] = field(default_factory=list)
    node_ids: dict[str, str] = field(default_factory=dict)  # hostname -> ID
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> Network
    now_ns: int = 0


# the clock a state is also rendered at to tell which objects a change touched (see keep_unchanged)
REFERENCE_NS = 1_700_000_000 * NANO + 417_532_911


def render(scenario: Scenario, now_ns: int | None = None) -> Rendered:
    """The scenario's objects, their times going back from `now_ns` (else the scenario's clock)."""
    # a fraction of a second, as real times have
    now = now_ns if now_ns is not None else int(
        (scenario.now_s if scenario.now_s is not None else time.time()) * NANO) // NANO * NANO + 417_532_911
    out = Rendered(now_ns=now)
    out.node_ids = {n.hostname: object_id(scenario.seed, "node", n.hostname) for n in scenario.nodes}
    out.nodes = sorted((node_object(scenario, i, n, out.node_ids[n.hostname], now) for i, n in
                        enumerate(scenario.nodes)), key=lambda o: o["ID"])
    out.networks = networks(scenario, now)
    local_id = out.node_ids[scenario.local_node.hostname]
    down = {out.node_ids[n.hostname] for n in scenario.nodes if n.state != "ready"}
    for index, service in enumerate(scenario.services):
        service_id = object_id(scenario.seed, "service", service.name)
        obj = service_object(scenario, index, service, service_id, out.networks, now)
        out.services.append(obj)
        plans = plan_tasks(scenario, service, service_id, out.node_ids, now)
        tasks = [task_object(service, service_id, plan, obj, out.networks) for plan in plans]
        out.tasks.extend(tasks)
        out.status[service_id] = service_status(service, plans, down)
        out.containers.extend(container_object(service, service_id, plan, now) for plan in plans
                              if plan.node_id == local_id and plan.state in ("running", "starting"))
    out.services.sort(key=lambda o: o["ID"])
    out.tasks.sort(key=lambda o: o["ID"])
    return out


def node_object(scenario: Scenario, index: int, node: NodeDef, node_id: str, now: int) -> dict[str, Any]:
    created = now - 30 * DAY_NS + index * 7_919_131
    address = f"10.10.{index // 250}.{index % 250 + 2}"
    status: dict[str, Any] = {"State": node.state}
    if node.state == "down":
        status["Message"] = "heartbeat failure"
    status["Addr"] = address
    obj: dict[str, Any] = {
        "ID": node_id, "Version": {"Index": 9 + index * 3}, "CreatedAt": timestamp(created),
        "UpdatedAt": timestamp(now - DAY_NS // 24 + index * 1_000_003),
        "Spec": {"Labels": dict(node.labels), "Role": node.role, "Availability": node.availability},
        "Description": {
            "Hostname": node.hostname, "Platform": {"Architecture": node.arch, "OS": "linux"},
            "Resources": {"NanoCPUs": node.cpus * NANO, "MemoryBytes": node.mem_bytes},
            "Engine": {"EngineVersion": scenario.engine.version, "Plugins": PLUGINS},
            "TLSInfo": TLS_INFO,
        },
        "Status": status,
    }
    if node.role == "manager":
        manager: dict[str, Any] = {"Leader": True} if node.leader else {}
        manager["Reachability"] = "reachable" if node.reachable else "unreachable"
        manager["Addr"] = f"{address}:2377"
        obj["ManagerStatus"] = manager
    return obj


def networks(scenario: Scenario, now: int) -> dict[str, dict[str, Any]]:
    """The ingress network and each overlay network a service names, with a /24 each."""
    names = [INGRESS] + sorted({n for s in scenario.services for n in s.networks})
    found = {}
    for index, name in enumerate(names):
        network_id = object_id(scenario.seed, "network", name)
        spec: dict[str, Any] = {"Name": name, "Labels": {}, "DriverConfiguration": {}}
        if name == INGRESS:
            spec["Ingress"] = True
        else:
            stack = name.rsplit("_", 1)[0]
            spec["Labels"] = {"com.docker.stack.namespace": stack}
            spec["DriverConfiguration"] = {"Name": "overlay"}
        spec["IPAMOptions"] = {"Driver": {}}
        spec["Scope"] = "swarm"
        found[name] = {
            "ID": network_id, "Version": {"Index": 6 + index}, "CreatedAt": timestamp(now - 30 * DAY_NS),
            "UpdatedAt": timestamp(now - 30 * DAY_NS + 16_352_840), "Spec": spec,
            "DriverState": {"Name": "overlay", "Options": {
                "com.docker.network.driver.overlay.vxlanid_list": str(4096 + index)}},
            "IPAMOptions": {"Driver": {"Name": "default"},
                            "Configs": [{"Subnet": f"10.0.{index}.0/24", "Gateway": f"10.0.{index}.1"}]},
        }
    return found


def task_template(service: ServiceDef, networks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    container: dict[str, Any] = {"Image": service.image}
    if service.stack:
        container["Labels"] = {"com.docker.stack.namespace": service.stack}
    if service.command:
        container["Command"] = list(service.command)
    if service.healthcheck:
        container["Healthcheck"] = {"Test": list(service.healthcheck), "Interval": NANO, "Timeout": NANO,
                                    "Retries": 1}
    container["Isolation"] = "default"
    template: dict[str, Any] = {"ContainerSpec": container}
    resources: dict[str, Any] = {}
    if service.cpu_limit or service.mem_limit:
        resources["Limits"] = _resources(service.cpu_limit, service.mem_limit)
    if service.cpu_reservation or service.mem_reservation:
        resources["Reservations"] = _resources(service.cpu_reservation, service.mem_reservation)
    if resources:
        template["Resources"] = resources
    template["ForceUpdate"] = 0
    if service.networks:
        template["Networks"] = [{"Target": networks[n]["ID"], "Aliases": [service.name]} for n in service.networks]
    return template


def _resources(cpus: float, mem: int) -> dict[str, int]:
    found = {}
    if cpus:
        found["NanoCPUs"] = int(round(cpus * NANO))
    if mem:
        found["MemoryBytes"] = mem
    return found


def ports(service: ServiceDef) -> list[dict[str, Any]]:
    return [{"Protocol": p.protocol, "TargetPort": p.target, "PublishedPort": p.published, "PublishMode": p.mode}
            for p in service.ports]


def vip_networks(service: ServiceDef) -> list[str]:
    """Networks a service holds a virtual IP on: ingress when it publishes an ingress port, its own
    overlays in vip mode (dnsrr services get none)."""
    if service.endpoint_mode == "dnsrr":
        return []
    ingress = [INGRESS] if any(p.mode == "ingress" for p in service.ports) else []
    return ingress + list(service.networks)


def service_object(scenario: Scenario, index: int, service: ServiceDef, service_id: str,
                   nets: dict[str, dict[str, Any]], now: int) -> dict[str, Any]:
    created = now - 10 * DAY_NS + index * 4_310_337
    template = task_template(service, nets)
    template["Runtime"] = "container"
    spec: dict[str, Any] = {"Name": service.name, "Labels": service.service_labels(), "TaskTemplate": template,
                            "Mode": {"Global": {}} if service.mode == "global" else
                            {"Replicated": {"Replicas": service.replicas}}}
    endpoint_spec: dict[str, Any] = {}
    if service.endpoint_mode:
        endpoint_spec["Mode"] = service.endpoint_mode
    if service.ports:
        endpoint_spec["Ports"] = ports(service)
    if endpoint_spec:
        spec["EndpointSpec"] = endpoint_spec
    endpoint: dict[str, Any] = {"Spec": endpoint_spec if service.ports else {}}
    if service.ports:
        endpoint["Ports"] = ports(service)
    vips = vip_networks(service)
    if vips:
        endpoint["VirtualIPs"] = [{"NetworkID": nets[n]["ID"], "Addr": f"10.0.{_subnet(nets, n)}.{index + 3}/24"}
                                  for n in vips]
    return {"ID": service_id, "Version": {"Index": 12 + index * 5}, "CreatedAt": timestamp(created),
            "UpdatedAt": timestamp(created + 1_020_515), "Spec": spec, "Endpoint": endpoint}


def _subnet(nets: dict[str, dict[str, Any]], name: str) -> int:
    return list(nets).index(name)


def task_object(service: ServiceDef, service_id: str, plan: TaskPlan, service_obj: dict[str, Any],
                nets: dict[str, dict[str, Any]]) -> dict[str, Any]:
    template = service_obj["Spec"]["TaskTemplate"]
    spec = {k: v for k, v in template.items() if k != "Runtime"}
    status: dict[str, Any] = {"Timestamp": timestamp(plan.status_ns), "State": plan.state, "Message": plan.message}
    if plan.err:
        status["Err"] = plan.err
    if plan.node_id:
        running = plan.state in ("running", "starting")
        status["ContainerStatus"] = {"ContainerID": container_id(plan.task_id) if plan.state != "rejected" else "",
                                     "PID": 4000 + plan.ordinal % 60000 if running else 0,
                                     "ExitCode": plan.exit_code}
    host_ports = [p for p in ports(service) if p["PublishMode"] == "host"]
    status["PortStatus"] = {"Ports": host_ports} if host_ports and plan.state == "running" else {}
    obj: dict[str, Any] = {"ID": plan.task_id, "Version": {"Index": plan.version}, "CreatedAt": timestamp(plan.created_ns),
                           "UpdatedAt": timestamp(plan.status_ns + 31_000_000), "Labels": {}, "Spec": spec,
                           "ServiceID": service_id}
    if plan.slot:
        obj["Slot"] = plan.slot
    if plan.node_id:
        obj["NodeID"] = plan.node_id
    obj["Status"] = status
    obj["DesiredState"] = plan.desired
    attached = ([INGRESS] if any(p.mode == "ingress" for p in service.ports) else []) + list(service.networks)
    if attached and plan.node_id and plan.state not in ("rejected", "pending"):
        obj["NetworksAttachments"] = [{"Network": nets[n], "Addresses": [f"10.0.{_subnet(nets, n)}.{plan.ordinal % 250 + 4}/24"]}
                                      for n in attached]
    return obj


def service_status(service: ServiceDef, plans: list[TaskPlan], down: set[str]) -> dict[str, int]:
    """What the engine counts for `?status=true`: running tasks on nodes that are up; desired is the
    replica count, or for a global service its tasks meant to run on nodes that are up."""
    current = [p for p in plans if p.node_id not in down]
    running = sum(1 for p in current if p.state == "running")
    if service.mode == "global":
        desired = sum(1 for p in current if p.desired == "running" and p.node_id)
    else:
        desired = service.replicas
    return {"RunningTasks": running, "DesiredTasks": desired, "CompletedTasks": 0}


def container_object(service: ServiceDef, service_id: str, plan: TaskPlan, now: int) -> dict[str, Any]:
    """A task's container on the node the API is served from (`/containers/json`)."""
    slot = str(plan.slot) if plan.slot else plan.node_id
    name = f"{service.name}.{slot}.{plan.task_id}"
    labels = {"com.docker.swarm.node.id": plan.node_id, "com.docker.swarm.service.id": service_id,
              "com.docker.swarm.service.name": service.name, "com.docker.swarm.task": "",
              "com.docker.swarm.task.id": plan.task_id, "com.docker.swarm.task.name": name}
    if service.stack:
        labels["com.docker.stack.namespace"] = service.stack
    up = "Up 2 hours" if plan.state == "running" else "Up 3 seconds"
    if service.healthcheck:
        health = {UNHEALTHY: "unhealthy"}.get(service.failure or "", "healthy")
        up += f" ({health})" if plan.state == "running" or service.failure == UNHEALTHY else " (health: starting)"
    image = service.image.split("@", 1)[0]
    return {"Id": container_id(plan.task_id), "Names": [f"/{name}"], "Image": image,
            "ImageID": "sha256:" + hashlib.sha256(image.encode()).hexdigest(),
            "Command": " ".join(service.command), "Created": (plan.created_ns // NANO) + 1, "Ports": [],
            "Labels": labels, "State": "running", "Status": up, "HostConfig": {"NetworkMode": "default"},
            "NetworkSettings": {"Networks": {name: endpoint(name, plan) for name in attached_networks(service)}},
            "Mounts": []}


def attached_networks(service: ServiceDef) -> list[str]:
    ingress = [INGRESS] if any(p.mode == "ingress" for p in service.ports) else []
    return ingress + list(service.networks) or ["bridge"]


def endpoint(network: str, plan: TaskPlan) -> dict[str, Any]:
    """A container's endpoint on one network, as `/containers/json` lists it."""
    overlay = network != "bridge"
    address = f"10.0.9.{plan.ordinal % 250 + 4}"
    return {"IPAMConfig": {"IPv4Address": address} if overlay else None, "Links": None, "Aliases": None,
            "NetworkID": hashlib.sha256(network.encode()).hexdigest()[:25] if overlay else "",
            "EndpointID": hashlib.sha256(f"{network}/{plan.task_id}".encode()).hexdigest() if overlay else "",
            "Gateway": "", "IPAddress": address if overlay else "",
            "IPPrefixLen": 24 if overlay else 0, "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
            "MacAddress": "", "DriverOpts": None}


def keep_unchanged(fresh: Rendered, now_ref: Rendered, before_ref: Rendered, before: Rendered) -> Rendered:
    """`fresh` (the new state at the wall clock) with every object the change left alone as it was
    `before`, times included, as a real engine leaves it. `now_ref` and `before_ref` are the new and
    the previous state rendered at one fixed clock (REFERENCE_NS): an object equal there is one the
    change did not touch, whenever its kept times were stamped."""
    def kept(new: list[dict[str, Any]], at_ref: list[dict[str, Any]], was_ref: list[dict[str, Any]],
             old: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        was = {obj[key]: obj for obj in was_ref}
        same = {obj[key] for obj in at_ref if was.get(obj[key]) == obj}
        old_by_id = {obj[key]: obj for obj in old}
        return [old_by_id.get(obj[key], obj) if obj[key] in same else obj for obj in new]

    fresh.nodes = kept(fresh.nodes, now_ref.nodes, before_ref.nodes, before.nodes, "ID")
    fresh.services = kept(fresh.services, now_ref.services, before_ref.services, before.services, "ID")
    fresh.tasks = kept(fresh.tasks, now_ref.tasks, before_ref.tasks, before.tasks, "ID")
    fresh.containers = kept(fresh.containers, now_ref.containers, before_ref.containers, before.containers, "Id")
    fresh.networks = {name: before.networks[name] if name in before.networks and
                      before_ref.networks.get(name) == now_ref.networks.get(name) else net
                      for name, net in fresh.networks.items()}
    return fresh
