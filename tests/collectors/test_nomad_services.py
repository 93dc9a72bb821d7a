"""Nomad services, autoscalers and the two fixed readings: on recorded upstream payloads, with exact
values, and through the emulator against what its scenarios say."""
from __future__ import annotations

import json

import jsonschema
import msgspec
import pytest

from collectors.nomad.fetch import NomadCollector
from collectors.nomad.normalize import job_to_workload, mhz_per_core, node_to_model
from collectors.nomad.services import autoscalers, metrics, services
from collectors.nomad.wire import (HostMemory, HostStats, JobScale, JobSpec, JobStub, NodeStub, ScalingPolicy,
                                   ServiceBlock, ServiceList, ServiceRegistration, TaskGroup)
from fleet.config import Settings
from fleet.model import Instance, Workload, encode_snapshot
from fleet.poller import Poller
from sim.nomad import build, start
from sim.nomad.cluster import problems_in
from tests.sim.nomad.harness import TOKENS, collect, config
from tests.upstream import spec_path, upstream_json

MIB = 1024 * 1024


def fixture(name: str, kind: type):
    return msgspec.convert(upstream_json(f"nomad/{name}"), type=kind)


def running(alloc_id: str, health: str = "unknown") -> Instance:
    return Instance(id=alloc_id, name=alloc_id, state="running", health=health)  # type: ignore[arg-type]


# --- services on the docs' and Traefik's recordings ------------------------------------------------

def test_service_list_names_each_service_per_namespace():
    [entry] = fixture("v1-services.json", list[ServiceList])
    assert (entry.Namespace, [(s.ServiceName, s.Tags) for s in entry.Services or []]) == (
        "default", [("example-cache-redis", ["cache", "db"])])
    traefik = fixture("v1-services-traefik.json", list[ServiceList])
    assert traefik[0].Namespace == "default" and len(traefik[0].Services or []) == 2


def test_two_registrations_are_two_ready_backends_of_one_service():
    regs = fixture("v1-service-serviceName.json", list[ServiceRegistration])
    instances = {r.AllocID: running(r.AllocID) for r in regs}
    [service] = services(regs, [], instances, "global/")
    assert (service.id, service.name, service.namespace, service.kind) == (
        "global/default/example-cache-redis", "example-cache-redis", "default", "nomad")
    assert service.addresses == ["127.0.0.1:27232", "127.0.0.1:29702"]
    assert service.ports == []  # each allocation has its own dynamic port
    assert service.workload_ids == ["global/default/example"]
    assert (service.backends_total, service.backends_ready, service.status) == (2, 2, "ok")


def test_a_registration_of_an_unhealthy_or_unknown_allocation_is_not_ready():
    regs = fixture("v1-service-serviceName.json", list[ServiceRegistration])
    instances = {regs[0].AllocID: running(regs[0].AllocID, "unhealthy")}  # the other allocation is gone
    [service] = services(regs, [], instances, "")
    assert (service.backends_total, service.backends_ready, service.status) == (2, 0, "down")


def test_group_level_registration_with_one_port():
    [reg] = fixture("v1-service-serviceName-traefik.json", list[ServiceRegistration])
    [service] = services([reg], [], {reg.AllocID: running(reg.AllocID)}, "")
    assert (service.id, service.addresses, [p.port for p in service.ports]) == (
        "default/hello-nomad", ["127.0.0.1:20627"], [20627])
    assert (service.workload_ids, service.status) == (["default/echo"], "ok")


def test_tcp_registration_on_a_routable_address():
    [reg] = fixture("v1-service-serviceName-tcp-traefik.json", list[ServiceRegistration])
    [service] = services([reg], [], {reg.AllocID: running(reg.AllocID)}, "")
    assert service.addresses == [f"192.168.1.21:{reg.Port}"]


def _spec(provider: str, stop: bool = False) -> JobSpec:
    group = TaskGroup(Name="web", Count=2, Services=[ServiceBlock(Name="web-http", PortLabel="http",
                                                                  Provider=provider)])
    return JobSpec(ID="web", TaskGroups=[group], Stop=stop)


def test_a_native_service_declared_but_never_registered_is_down():
    workload = Workload(id="default/web", name="web", namespace="default", kind="service", desired=2)
    [service] = services([], [(_spec("nomad"), workload)], {}, "")
    assert (service.id, service.kind, service.workload_ids) == ("default/web-http", "nomad", ["default/web"])
    assert (service.backends_total, service.backends_ready, service.status) == (0, 0, "down")


@pytest.mark.parametrize("provider", ["consul", ""])  # "" is Consul: Nomad's default provider
def test_a_consul_service_is_listed_from_the_spec_as_unknown(provider):
    workload = Workload(id="default/web", name="web", namespace="default", kind="service", desired=2)
    [service] = services([], [(_spec(provider), workload)], {}, "")
    assert (service.kind, service.status, service.backends_total) == ("consul", "unknown", 0)


def test_a_stopped_job_declares_no_service():
    workload = Workload(id="default/web", name="web", namespace="default", kind="service", desired=0)
    assert services([], [(_spec("nomad", stop=True), workload)], {}, "") == []


def test_interpolated_service_names_are_left_to_the_registrations():
    spec = _spec("nomad")
    spec.TaskGroups[0].Services[0].Name = "${NOMAD_JOB_NAME}-http"  # type: ignore[index]
    workload = Workload(id="default/web", name="web", namespace="default", kind="service", desired=2)
    assert services([], [(spec, workload)], {}, "") == []


# --- scaling policies ----------------------------------------------------------------------------

def test_policy_stubs_carry_no_bounds_and_only_horizontal_ones_count():
    stubs = fixture("v1-scaling-policies.json", list[ScalingPolicy])
    assert [(s.Type, s.Max) for s in stubs] == [("vertical_cpu", None), ("vertical_mem", None), ("horizontal", None)]
    assert autoscalers(stubs, {}, "") == {}  # no Max: nothing to show until the whole policy is read


def test_whole_policy_with_the_job_scale_status():
    policy = fixture("v1-scaling-policy-policyId.json", ScalingPolicy)
    scale = fixture("v1-job-jobId-scale.json", JobScale)
    found = autoscalers([policy], {("default", "example"): scale}, "global/")
    assert list(found) == ["global/default/example"]
    scaler = found["global/default/example"]
    assert (scaler.kind, scaler.min, scaler.max, scaler.current, scaler.desired) == ("nomad-autoscaler", 0, 10, 0, 1)
    assert (scaler.limited, scaler.message, scaler.metrics) == (False, "group cache", [])  # its Policy has no check


def test_a_group_at_its_maximum_is_limited():
    policy = msgspec.structs.replace(fixture("v1-scaling-policy-policyId.json", ScalingPolicy), Max=1)
    scale = fixture("v1-job-jobId-scale.json", JobScale)
    scaler = autoscalers([policy], {("default", "example"): scale}, "")["default/example"]
    assert scaler.limited and scaler.message == "group cache at its maximum (1): the autoscaler may not add more"


def test_the_autoscalers_golden_policy_blocks_read_as_checks():
    job = upstream_json("nomad/v1-job-jobId-inspect-scaling-nomad-autoscaler.json")["Job"]
    raw = job["TaskGroups"][0]["Scaling"]
    policy = msgspec.convert(raw, type=ScalingPolicy)
    assert (policy.Min, policy.Max, policy.Enabled, policy.Target.Job) == (2, 10, False, "full-scaling")
    assert metrics(policy.Policy or {}) == ["check-1 (source-1: query-1) → strategy-1", "check-2 (source-2: query-2) → strategy-2"]
    scaler = autoscalers([policy], {}, "")["default/full-scaling"]
    assert (scaler.limited, scaler.message, scaler.current) == (False, "group test: policy disabled", None)


# --- the two fixed readings ------------------------------------------------------------------------

def test_a_dispatched_child_of_a_parameterized_job_counts_its_task_groups():
    parent = fixture("v1-job-jobId.json", JobSpec)
    assert parent.ParameterizedJob is not None
    child = msgspec.structs.replace(parent, ID="example/dispatch-1700000000-3b2a", Periodic=None, Dispatched=True)
    stub = JobStub(ID=child.ID, Type="batch", Status="running")  # Nomad lists a child as not parameterized
    workload = job_to_workload(stub, child, [], None, False, "", 4000.0)
    assert workload.desired == sum(g.Count for g in child.TaskGroups or [])
    undispatched = msgspec.structs.replace(child, Dispatched=False)
    assert job_to_workload(stub, undispatched, [], None, False, "", 4000.0).desired is None


def test_client_memory_is_kept_when_the_cpu_frequency_is_unknown():
    node = fixture("v1-nodes.json", list[NodeStub])[0]
    assert mhz_per_core(node) is None
    stats = HostStats(Memory=HostMemory(Used=3000 * MIB), CPUTicksConsumed=1200.0)
    model = node_to_model(node, None, None, stats)
    assert (model.cpu_used_cores, model.mem_used_bytes) == (None, 3000 * MIB)


# --- through the emulator ----------------------------------------------------------------------------

@pytest.fixture(scope="module", params=[(0, {}), (3, {"regions": 3, "nodes": 24, "jobs": 30})], ids=["seed0", "seed3"])
def observed(request):
    seed, sizes = request.param
    scenario = build(seed, **sizes)
    with start(scenario, tokens=TOKENS) as cluster:
        yield scenario.expected, collect(cluster)


def test_services_are_what_the_scenario_says(observed):
    expected, data = observed
    assert {s.id: (s.status, s.backends_total, s.backends_ready) for s in data.services} == expected.services
    assert any(status == "down" for status, _, _ in expected.services.values())


def test_autoscalers_are_what_the_scenario_says(observed):
    expected, data = observed
    found = {w.id: (w.autoscaler.min, w.autoscaler.max, w.autoscaler.current, w.autoscaler.limited)
             for w in data.workloads if w.autoscaler}
    assert found == expected.autoscalers
    assert any(limited for *_, limited in expected.autoscalers.values())


def test_native_service_backends_point_at_the_job_and_its_nodes(observed):
    _, data = observed
    jobs = {w.id for w in data.workloads}
    for service in data.services:
        assert set(service.workload_ids) <= jobs
        assert len(service.addresses) == (service.backends_total if service.kind == "nomad" else 0)


@pytest.mark.parametrize("phase", [0, 1, 2])
def test_every_phase_of_the_demo_shows_a_down_service_and_an_autoscaler_at_max(phase):
    expected = build(0, problems=problems_in(phase)).expected
    assert any(status == "down" for status, _, _ in expected.services.values())
    assert any(limited for *_, limited in expected.autoscalers.values())


def test_a_polled_snapshot_with_services_and_autoscalers_matches_the_shared_schema():
    with start(build(2), tokens=TOKENS) as cluster:
        source = NomadCollector(config(cluster.url))
        try:
            snapshot = Poller([source], Settings(timeout_s=10)).poll_once(force=True)
        finally:
            source.close()
    document = json.loads(encode_snapshot(snapshot))
    jsonschema.validate(document, json.loads(spec_path("snapshot-v1.schema.json").read_text()))
    (entry,) = document["clusters"]
    assert {s["kind"] for s in entry["services"]} == {"nomad", "consul"}
    assert any(w["autoscaler"] and w["autoscaler"]["limited"] for w in entry["workloads"])
