"""Marathon app ports as Services: on the upstream recordings (Marathon 1.5 via marathon-lb, a DC/OS UI
tree with VIP labels, OpenWhisk's lost tasks), and through the emulator against its scenarios."""
from __future__ import annotations

from datetime import datetime, timezone

import msgspec
import requests
import pytest

from collectors.marathon.apps import task_instances
from collectors.marathon.normalize import MarathonRaw, normalize
from collectors.marathon.services import app_service, protocol, vip_addresses
from collectors.marathon.wire import App, AppList, HealthCheckResult, Info, Task
from sim.marathon import build
from tests.sim.marathon.harness import collect, running
from tests.upstream import upstream_json, upstream_path

L4LB = "marathon.l4lb.thisdcos.directory"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def apps(name: str) -> list[App]:
    return msgspec.json.decode(upstream_path(f"marathon/{name}").read_bytes(), type=AppList).apps


def service_of(app: App):
    return app_service(app, task_instances(app.tasks or [], app.id, {}))


def group_apps(tree: dict) -> list[App]:
    found = [msgspec.json.decode(msgspec.json.encode(a), type=App) for a in tree.get("apps", [])]
    for group in tree.get("groups", []):
        found += group_apps(group)
    return found


def test_container_port_mapping_of_marathon_15_with_a_dynamic_host_port():
    [app] = apps("v2-apps-embed-tasks-1.5-marathon-lb.json")
    service = service_of(app)
    assert (service.id, service.name, service.namespace, service.kind) == ("/pywebserver", "pywebserver", "/",
                                                                           "marathon")
    [port] = service.ports
    assert (port.port, port.protocol, port.target, port.published) == (10101, "tcp", "test", None)
    assert (service.addresses, service.workload_ids) == ([], ["/pywebserver"])
    # no health checks defined: a running task is a ready backend
    assert (service.backends_total, service.backends_ready, service.status) == (1, 1, "ok")


def test_backends_pass_their_health_checks():
    [app] = apps("v2-apps-embed-tasks-healthchecks-1.5-marathon-lb.json")
    service = service_of(app)
    assert [(p.port, p.target) for p in service.ports] == [(10000, "8080")]
    assert (service.backends_total, service.backends_ready, service.status) == (3, 3, "ok")


def test_lost_tasks_with_failing_checks_are_backends_that_are_not_ready():
    tasks = msgspec.convert(upstream_json("marathon/v2-apps-appId-tasks-health-alive-false-openwhisk.json")["tasks"],
                            type=list[Task])
    app = App(id="/myapp", instances=3, healthChecks=[msgspec.Raw(b"{}")], ports=[10000], tasks=tasks)
    assert service_of(msgspec.structs.replace(app, tasks=[])).status == "down"
    service = service_of(app)
    assert (service.backends_total, service.backends_ready, service.status) == (6, 3, "degraded")


def test_a_running_task_is_healthy_and_a_ready_backend_only_when_every_check_passes():
    checks = [(), (True,), (False,), (True, True), (True, False), (False, True)]
    tasks = [Task(id=f"app.{n}", slaveId="S1", state="TASK_RUNNING",
                  healthCheckResults=[HealthCheckResult(alive=alive) for alive in results])
             for n, results in enumerate(checks)]
    found = task_instances(tasks, "/app", {})
    assert [i.health for i in found] == ["unknown", "healthy", "unhealthy", "healthy", "unhealthy", "unhealthy"]
    assert {i.state for i in found} == {"running"}
    app = App(id="/app", instances=6, healthChecks=[msgspec.Raw(b"{}")], ports=[10000], tasks=tasks)
    assert (service_of(app).backends_total, service_of(app).backends_ready) == (6, 2)


def test_a_port_of_several_protocols_keeps_the_first_one_marathon_knows():
    assert [protocol(text) for text in ("tcp", "udp", "udp,tcp", "TCP", "sctp", "http", "")] == [
        "tcp", "udp", "udp", "tcp", "sctp", "tcp", "tcp"]


def test_vip_labels_on_port_mappings_and_port_definitions_are_addresses():
    tree = upstream_json("marathon/v2-groups-embed-apps-tasks-vip-dcos-ui.json")
    found = {a.id: a for a in group_apps(tree)}
    net, sleep = service_of(found["/net"]), service_of(found["/sleep"])
    assert net.addresses == [f"notnet.{L4LB}:1234"]
    assert [(p.port, p.target) for p in net.ports] == [(10000, "ping")]
    assert sleep.addresses == [f"new-service-1.{L4LB}:126"]
    assert [(p.port, p.target) for p in sleep.ports] == [(125, "124")]
    # 0.x `ports` without tasks embedded in the tree: backends from the app's counts
    unembedded = service_of(found["/unhealthy-sleep"])
    assert ([p.port for p in unembedded.ports], unembedded.backends_total, unembedded.status) == ([10000], 1, "ok")


def test_legacy_docker_port_mappings_and_bare_ports():
    legacy = {a.id: a for a in apps("v2-apps-legacy-0.x.json")}
    bridged = service_of(legacy["/bridged-webapp"])
    assert [(p.port, p.protocol, p.target) for p in bridged.ports] == [(9000, "tcp", "8080"), (161, "udp", "161")]
    [plain] = apps("v2-apps.json")
    assert [p.port for p in service_of(plain).ports] == [10013, 10015]


def test_ip_vips_and_paths_of_named_ones():
    assert vip_addresses({"VIP_0": "10.0.0.1:80", "VIP_1": "/mygroup/myapp:8080", "HAPROXY_0_VHOST": "x"}) == [
        "10.0.0.1:80", f"mygroupmyapp.{L4LB}:8080"]


def test_no_instances_wanted_and_none_running_is_unknown_and_marathon_has_no_autoscaler():
    app = App(id="/tools/paused", instances=0, ports=[10005], tasks=[])
    assert service_of(app).status == "unknown"
    data = normalize(MarathonRaw(collected_at=NOW, info=Info(version="1.5.0"), apps=AppList(apps=[app])))
    assert [s.id for s in data.services] == ["/tools/paused"]
    assert [w.autoscaler for w in data.workloads] == [None]


@pytest.mark.parametrize("seed", [0, 5])
def test_services_are_what_the_scenario_says(seed):
    scenario = build(seed)
    with running(scenario) as cluster:
        data = collect(cluster)
    expected = scenario.expected
    assert {s.id: (s.status, s.backends_total, s.backends_ready) for s in data.services} == expected.services
    assert {s.id: s.addresses for s in data.services if s.addresses} == expected.vips
    assert any(status == "down" for status, _, _ in expected.services.values())


def test_emulated_ports_have_the_shape_of_the_marathon_15_recording():
    recorded = upstream_json("marathon/v2-apps-embed-tasks-1.5-marathon-lb.json")["apps"][0]
    with running(build(0)) as cluster:
        apps = requests.get(cluster.marathon.url + "/v2/apps", params={"embed": "apps.tasks"}, timeout=10).json()["apps"]
    docker = next(a for a in apps if a.get("container"))
    assert set(recorded["container"]["portMappings"][0]) <= set(docker["container"]["portMappings"][0])
    assert docker["networks"] == recorded["networks"] == [{"mode": "container/bridge"}]
    assert "portMappings" not in docker["container"]["docker"]  # moved out of `docker` in 1.5
    ports = sorted(p["servicePort"] for a in apps for p in (a.get("container") or {}).get("portMappings", []))
    ports += sorted(p["port"] for a in apps for p in a.get("portDefinitions", []))
    assert len(ports) == len(set(ports)) == len(apps)  # service ports are unique per app, one port each
