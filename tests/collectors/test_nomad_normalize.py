"""The Nomad normalizer on every recorded upstream payload, with exact values."""
from __future__ import annotations

from datetime import datetime, timezone

import msgspec
import pytest

from collectors.nomad.events import evaluation_events, placement_message
from collectors.nomad.allocs import AllocRow, alloc_mhz_mb, alloc_to_instance, digest, parse_time
from collectors.nomad.normalize import (NomadRaw, RegionRaw, job_to_workload, latest_deployments, mhz_per_core,
                                        node_to_model, normalize)
from collectors.nomad.wire import (AgentMember, AgentSelf, AllocMetric, AllocStub, Deployment, Evaluation,
                                   HostMemory, HostStats, JobSpec, JobStub, LeanAlloc, NodeStub, TaskGroup)
from tests.upstream import upstream_json

MIB = 1024 * 1024
NOW = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)


def fixture(name: str, kind: type):
    return msgspec.convert(upstream_json(f"nomad/{name}"), type=kind)


def digest_all(allocs: list[LeanAlloc], region: str | None) -> list[AllocRow]:
    prefix = f"{region}/" if region else ""
    return [digest(alloc, prefix) for alloc in allocs]


def test_full_node_cpu_uses_its_own_per_core_frequency():
    node = fixture("v1-node-nodeId.json", NodeStub)
    assert mhz_per_core(node) == 4000.0  # cpu.frequency; CpuShares 32000 MHz = 8 cores
    model = node_to_model(node, "global", mhz_per_core(node), None)
    assert (model.cpu_capacity_cores, model.cpu_allocatable_cores) == (8.0, 8.0)
    assert (model.mem_capacity_bytes, model.mem_allocatable_bytes) == (15803 * MIB, 15803 * MIB)
    assert (model.cpu_used_cores, model.mem_used_bytes) == (None, None)


def test_full_node_identity_and_labels():
    node = node_to_model(fixture("v1-node-nodeId.json", NodeStub), "global", 4000.0, None)
    assert (node.id, node.name, node.status, node.schedulable) == ("1ac61e33-a465-2ace-f63f-cffa1285e7eb", "mew",
                                                                   "ready", True)
    assert (node.address, node.zone, node.region, node.roles) == ("127.0.0.1", "dc1", "global", ["client"])
    assert (node.version, node.os, node.arch) == ("1.1.0", "nixos", "amd64")
    assert node.labels == {"nomad.region": "global", "nomad.datacenter": "dc1",
                           "nomad.drivers": "docker,mock_driver,raw_exec", "nomad.kernel": "linux 4.19.56"}


def test_node_list_stub_without_resources():
    [stub] = fixture("v1-nodes.json", list[NodeStub])
    node = node_to_model(stub, "global", mhz_per_core(stub), None)
    assert (node.id, node.name, node.address, node.version) == ("f7476465-4d6e-c0de-26d0-e383c49be941", "nomad-4",
                                                                "10.138.0.5", "0.8.0-rc1")
    assert (node.status, node.schedulable, node.zone) == ("ready", True, "dc1")
    assert node.labels["nomad.drivers"] == "docker,exec,java,raw_exec,rkt"
    assert (node.cpu_capacity_cores, node.mem_capacity_bytes) == (0.0, 0)  # the list says nothing of resources


def test_node_usage_from_client_stats_in_cores_of_that_node():
    node = fixture("v1-node-nodeId.json", NodeStub)
    stats = HostStats(Memory=HostMemory(Used=4096 * MIB), CPUTicksConsumed=6000.0)
    model = node_to_model(node, None, mhz_per_core(node), stats)
    assert (model.cpu_used_cores, model.mem_used_bytes) == (1.5, 4096 * MIB)  # 6000 MHz at 4000 MHz/core


def test_running_alloc_from_the_list():
    [alloc] = fixture("v1-allocations.json", list[AllocStub])
    instance = alloc_to_instance(alloc, "global/")
    assert (instance.id, instance.name) == ("5457f16d-0f87-8e6b-5e91-0c7da3a41eb7", "example.cache[0]")
    assert instance.workload_id == "global/default/example"
    assert instance.node_id == "f476d2b4-02dc-c216-d031-273396727347"
    assert (instance.state, instance.health, instance.restarts, instance.reason) == ("running", "healthy", 0, None)
    assert instance.started_at == datetime(2021, 11, 4, 9, 14, 12, 49960, tzinfo=timezone.utc)


def test_single_alloc_with_legacy_resources():
    alloc = fixture("v1-allocation-allocId.json", AllocStub)
    assert alloc_mhz_mb(alloc) == (500, 10)
    instance = alloc_to_instance(alloc, "")
    assert (instance.workload_id, instance.state, instance.health) == ("default/example", "running", "unknown")
    assert instance.started_at == datetime(2017, 7, 25, 23, 36, 26, 106431, tzinfo=timezone.utc)


def test_periodic_batch_job_spec():
    [stub] = fixture("v1-jobs.json", list[JobStub])
    spec = fixture("v1-job-jobId.json", JobSpec)
    workload = job_to_workload(stub, spec, [], None, False, "global/", 4000.0)
    assert (workload.id, workload.name, workload.namespace, workload.kind) == ("global/default/example", "example",
                                                                               "default", "service")
    assert workload.images == ["alpine", "redis:latest"]
    assert (workload.cpu_request_cores, workload.mem_request_bytes) == (0.15, 556 * MIB)  # 600 MHz at 4 GHz/core
    assert (workload.desired, workload.running, workload.healthy) == (None, 0, None)  # a periodic parent


@pytest.mark.parametrize("job_type, per_node", [("system", True), ("sysbatch", True), ("service", False),
                                                 ("batch", False)])
def test_only_system_and_sysbatch_jobs_are_per_node(job_type, per_node):
    workload = job_to_workload(JobStub(ID="agent", Type=job_type), None, [], None, False, "", None)
    assert workload.per_node is per_node


def test_job_stub_alone_is_unknown_while_pending():
    [stub] = fixture("v1-jobs.json", list[JobStub])
    workload = job_to_workload(stub, None, [], None, False, "", None)
    assert (workload.status, workload.desired, workload.images) == ("unknown", None, [])


def test_latest_deployment_wins_and_marks_the_job_progressing():
    deployments = fixture("v1-job-jobId-deployments.json", list[Deployment])
    latest = latest_deployments(deployments)[("default", "my-job")]
    assert (latest.ID, latest.Status, latest.JobVersion) == ("85ee4a9a-339f-a921-a9ef-0550d20b2c61", "running", 1)
    stub = JobStub(ID="my-job", Status="running")
    spec = JobSpec(ID="my-job", Version=1, TaskGroups=[TaskGroup(Name="cache", Count=3)])
    assert job_to_workload(stub, spec, [], latest, False, "", None).status == "progressing"


def test_deployments_list():
    [deployment] = fixture("v1-deployments.json", list[Deployment])
    assert (deployment.JobID, deployment.Status) == ("example", "running")
    assert deployment.TaskGroups["cache"].DesiredTotal == 3


def test_complete_evaluation_is_no_event():
    evaluations = fixture("v1-evaluations.json", list[Evaluation])
    assert [e.Status for e in evaluations] == ["complete"]
    assert evaluation_events([e for e in evaluations if e.Status == "blocked"], NOW) == []


def test_placement_failure_names_the_exhausted_dimension():
    metric = AllocMetric(NodesEvaluated=5, NodesExhausted=5, DimensionExhausted={"memory": 5}, CoalescedFailures=1)
    assert placement_message("cache", metric) == ("2 allocation(s) of group 'cache' cannot be placed: no nodes had "
                                                  "enough memory (exhausted on 5 of 5 nodes evaluated)")


def test_agent_version_and_region_fall_back_to_member_tags():
    member = upstream_json("nomad/v1-agent-members.json")["Members"][0]
    agent = AgentSelf(member=msgspec.convert(member, type=AgentMember))
    assert (agent.version, agent.region) == ("0.5.5dev", "global")


def test_region_list_and_times():
    assert upstream_json("nomad/v1-regions.json") == ["region1", "region2"]
    assert parse_time("2021-11-04T10:14:22.054814+01:00") == datetime(2021, 11, 4, 9, 14, 22, 54814,
                                                                      tzinfo=timezone.utc)
    assert parse_time("0001-01-01T00:00:00Z") is None


def test_every_payload_together_normalizes():
    region = RegionRaw(
        "global", nodes=fixture("v1-nodes.json", list[NodeStub]) + [fixture("v1-node-nodeId.json", NodeStub)],
        jobs=fixture("v1-jobs.json", list[JobStub]),
        allocs=digest_all(fixture("v1-allocations.json", list[AllocStub])
                          + [fixture("v1-allocation-allocId.json", AllocStub)], "global"),
        deployments=fixture("v1-deployments.json", list[Deployment]),
        evaluations=fixture("v1-evaluations.json", list[Evaluation]))
    data = normalize(NomadRaw("1.1.0", [region], NOW))
    assert [n.name for n in data.nodes] == ["nomad-4", "mew"]
    assert [(w.id, w.status, w.running, w.healthy) for w in data.workloads] == [
        ("global/default/example", "progressing", 2, 1)]  # deployment 70638f62 is running
    assert [i.state for i in data.instances] == ["running", "running"]
    assert data.events == [] and data.degraded_reason is None
