"""Pure: a Marathon app's ports → a Service whose backends are the app's tasks.

An app that declares ports (`portDefinitions` with host networking, `container.portMappings` in
1.5+, `container.docker.portMappings` before, or 0.x's bare `ports`) is one Service. Its ports are
the service ports (what Marathon-LB and DC/OS's edge balancers listen on), each with the container
port or port name as its target and a fixed host port as published (0 means dynamic: none). Each
`VIP_n` label of a port is an address: `10.0.0.1:80` as written, a named VIP (`/group/app:80`) as
the DC/OS layer-4 name with the slashes dropped (`/mygroup/myapp:80` →
`mygroupmyapp.marathon.l4lb.thisdcos.directory:80`, per DC/OS's DNS docs). Every task is a backend;
it is ready when it runs and passes all its health checks, or simply runs where the app defines
none. Marathon has no autoscaler of its own (Workload.autoscaler stays null). See docs/marathon.md.
"""
from __future__ import annotations

from collectors.marathon.apps import split_path
from collectors.marathon.wire import App
from fleet.model import Instance, Port, Service, service_status

L4LB = "marathon.l4lb.thisdcos.directory"
PROTOCOLS = ("tcp", "udp", "sctp")


def app_service(app: App, instances: list[Instance]) -> Service | None:
    """The app's Service, or None when it declares no port."""
    ports, vips = app_ports(app)
    if not ports:
        return None
    checked = bool(app.healthChecks)
    if app.tasks is None:  # tasks not embedded (a /v2/groups tree): the app's counts, where it has them
        total = app.tasksRunning or 0
        ready = (app.tasksHealthy or 0) if checked else total
        known = app.tasksRunning is not None
    else:
        total, known = len(instances), True
        ready = len([i for i in instances if i.state == "running" and (i.health == "healthy" or not checked)])
    namespace, name = split_path(app.id)
    return Service(id=app.id, name=name, namespace=namespace, kind="marathon", addresses=vips, ports=ports,
                   workload_ids=[app.id], backends_total=total, backends_ready=ready,
                   status=service_status(total, ready, expected=known and app.instances > 0))


def app_ports(app: App) -> tuple[list[Port], list[str]]:
    ports: list[Port] = []
    vips: list[str] = []
    container = app.container
    mappings = (container.portMappings or (container.docker.portMappings if container.docker else None)
                if container else None)
    if mappings:
        for m in mappings:
            ports.append(Port(port=m.servicePort or m.containerPort, protocol=protocol(m.protocol),
                              target=m.name or str(m.containerPort), published=m.hostPort or None))
            vips += vip_addresses(m.labels)
    elif app.portDefinitions:
        for d in app.portDefinitions:
            ports.append(Port(port=d.port, protocol=protocol(d.protocol), target=d.name))
            vips += vip_addresses(d.labels)
    else:
        ports = [Port(port=p) for p in app.ports or [] if p]
    return [p for p in ports if p.port], vips


def protocol(text: str) -> str:
    """Marathon allows "udp,tcp" for one port; the first protocol named is kept."""
    if text in PROTOCOLS:
        return text
    first = next((p for p in text.lower().split(",") if p in PROTOCOLS), "tcp")
    return first


def vip_addresses(labels: dict[str, str] | None) -> list[str]:
    if not labels:
        return []
    found = []
    for key, value in sorted(labels.items()):
        if not key.startswith("VIP_") or ":" not in value:
            continue
        host, _, port = value.rpartition(":")
        if host[:1].isdigit():
            found.append(value)
        else:  # a named VIP
            found.append(f"{host.replace('/', '')}.{L4LB}:{port}")
    return found
