"""Fidelity: python-nomad reads every endpoint the emulator serves, and upstream recordings replay.

The emulator covers python-nomad's read calls for agent, status, regions, namespaces, nodes, jobs,
allocations, deployments, evaluations, client stats, metrics, the event stream, ACL tokens and
policies, Raft configuration, scaling policies, variables and the allocation filesystem (ls, stat,
cat, readat, stream, logs). Not emulated: Sentinel (Enterprise) and search (a POST).
"""
from __future__ import annotations

import base64
import json

import nomad
import pytest
import requests

from collectors.nomad.wire import AgentSelf, AllocStub, Deployment, Evaluation, JobSpec, JobStub, NodeStub
from collectors.toolkit import decode
from sim.httpserver import EmulatorServer
from sim.nomad import build, start
from sim.nomad.recorded import RecordedApi
from tests.upstream import upstream_path

TOKEN = "3f1d7f52-1c7e-4a0e-9a4e-2f7b1f0f9d0a"
MANAGEMENT = "9b7e1c55-0d7a-4f4e-b1b2-6f3f9a0c2e17"


@pytest.fixture(scope="module")
def cluster():
    with start(build(1), tokens={TOKEN: "read-only", MANAGEMENT: "management"}, heartbeat_s=0.2) as running:
        yield running


@pytest.fixture(scope="module")
def client(cluster):
    return nomad.Nomad(address=cluster.url, token=TOKEN, timeout=10)


def some(client):
    jobs = client.jobs.get_jobs()
    job = next(j for j in jobs if j["Type"] == "service")
    alloc = client.job.get_allocations(job["ID"])[0]
    node = next(n for n in client.nodes.get_nodes() if n["Status"] == "ready")
    return job, alloc, node


def test_agent_status_and_regions_read(client):
    assert client.agent.get_agent()["config"]["Region"] == "eu-west"
    assert [m["Tags"]["region"] for m in client.agent.get_members()["Members"]] == ["eu-west", "us-east"]
    assert client.agent.get_servers() == ["10.1.0.1:4647"]
    assert client.status.leader.get_leader() == "10.1.0.1:4647"
    assert client.status.peers.get_peers() == ["10.1.0.1:4647"]
    assert client.regions.get_regions() == ["eu-west", "us-east"]
    assert client.metrics.get_metrics()["Gauges"] == []


def test_namespaces_read(client):
    assert [n["Name"] for n in client.namespaces.get_namespaces()] == ["default", "platform", "batch"]
    assert client.namespace.get_namespace("batch")["Name"] == "batch"


def test_nodes_read(client):
    job, alloc, node = some(client)
    assert client.nodes.get_nodes(resources=True)[0]["NodeResources"]["Cpu"]["CpuShares"] > 0
    full = client.node.get_node(node["ID"])
    assert full["Attributes"]["cpu.numcores"] == str(full["NodeResources"]["Cpu"]["TotalCpuCores"])
    assert all(a["NodeID"] == node["ID"] for a in client.node.get_allocations(node["ID"]))


def test_jobs_read(client):
    job, alloc, node = some(client)
    spec = client.job.get_job(job["ID"])
    assert spec["TaskGroups"][0]["Count"] >= 1
    assert client.job.get_versions(job["ID"])["Versions"][0]["ID"] == job["ID"]
    assert client.job.get_summary(job["ID"])["JobID"] == job["ID"]
    assert client.job.get_evaluations(job["ID"]) == []
    deployments = client.job.get_deployments(job["ID"])
    assert client.job.get_deployment(job["ID"])["ID"] == deployments[0]["ID"]
    assert {j["Namespace"] for j in client.jobs.get_jobs(namespace="*")} == {"default", "platform", "batch"}


def test_allocations_deployments_and_evaluations_read(client):
    job, alloc, node = some(client)
    assert client.allocation.get_allocation(alloc["ID"])["Job"]["ID"] == job["ID"]
    assert len(client.allocations.get_allocations(namespace="*", per_page=5)) == 5
    deployment = client.deployments.get_deployments()[0]
    assert client.deployment.get_deployment(deployment["ID"])["JobID"] == deployment["JobID"]
    allocations = client.deployment.get_deployment_allocations(deployment["ID"])
    assert all(a["JobID"] == deployment["JobID"] for a in allocations)
    evaluation = client.evaluations.get_evaluations()[0]
    assert client.evaluation.get_evaluation(evaluation["ID"])["Status"] == "blocked"
    assert all(a["EvalID"] == evaluation["ID"] for a in client.evaluation.get_allocations(evaluation["ID"]))


def test_client_stats_read(client, cluster):
    region = cluster.scenario.regions["eu-west"]
    alloc = next(a for a in region.allocs if a.client_status == "running" and a.node.stats and a.node.status == "ready")
    assert client.client.stats.read_stats(alloc.node.id)["Memory"]["Total"] > 0
    assert client.client.allocation.read_allocation_stats(alloc.id)["Tasks"]


def test_acl_operator_scaling_and_variables_read(client, cluster):
    me = client.acl.get_self_token()
    assert (me["Type"], me["Policies"], me["SecretID"]) == ("client", ["read-only"], TOKEN)
    admin = nomad.Nomad(address=cluster.url, token=MANAGEMENT, timeout=10)
    tokens = admin.acl.get_tokens()
    assert {t["Type"] for t in tokens} == {"client", "management"} and all("SecretID" not in t for t in tokens)
    assert admin.acl.get_token(me["AccessorID"])["Name"] == "read-only token"
    assert [p["Name"] for p in client.acl.get_policies()] == ["read-only"]
    assert 'node { policy = "read" }' in client.acl.get_policy("read-only")["Rules"]
    assert admin.operator.get_configuration()["Servers"][0]["Leader"] is True
    policies = client.scaling.get_scaling_policies()
    assert policies and {p["Type"] for p in policies} == {"horizontal"}
    assert client.scaling.get_scaling_policy(policies[0]["ID"])["Max"] >= 1
    assert client.variables.get_variables() == []


def test_allocation_files_and_logs_read(client, cluster):
    region = cluster.scenario.regions["eu-west"]
    failed = next(a for a in region.allocs if a.client_status == "failed" and a.node.status == "ready")
    task = failed.failing_task
    assert {e["Name"] for e in client.client.ls.list_files(failed.id)} >= {"alloc", task}
    assert [e["Name"] for e in client.client.ls.list_files(failed.id, "/alloc/logs")] == [
        f"{task}.stdout.0", f"{task}.stderr.0"]
    assert client.client.stat.stat_file(failed.id, f"/{task}")["IsDir"] is True
    stderr = client.client.cat.read_file(failed.id, f"/alloc/logs/{task}.stderr.0")
    assert "Exit Code: 1" in stderr
    assert client.client.read_at.read_file_offset(failed.id, 0, len(task), f"/alloc/logs/{task}.stderr.0") == task
    assert "Exit Code" in client.client.stream_logs.stream(failed.id, task, "stderr", plain=True)
    framed = json.loads(client.client.stream_file.stream(failed.id, 0, "start", f"/alloc/logs/{task}.stdout.0"))
    assert base64.b64decode(framed["Data"]).decode().startswith(f"{task}: starting")


def test_management_reads_are_denied_to_a_read_only_token(client):
    with pytest.raises(nomad.api.exceptions.URLNotAuthorizedNomadException):
        client.acl.get_tokens()


def test_event_stream_reads(client, cluster):
    index = int(cluster.store.index("eu-west", "nodes"))
    cluster.store.update("eu-west", ["nodes"])
    thread, stop, events = client.event.stream.get_stream(index=index, topic={"Node": "*"}, timeout=5)
    thread.start()
    try:
        batch = events.get(timeout=5)
    finally:
        stop.set()
    assert batch["Events"][0]["Topic"] == "Node"


RECORDED = {
    "/v1/agent/self": None,
    "/v1/agent/members": "v1-agent-members.json", "/v1/agent/health": "v1-agent-health.json",
    "/v1/regions": "v1-regions.json", "/v1/status/leader": "v1-status-leader.json",
    "/v1/status/peers": "v1-status-peers.json", "/v1/nodes": "v1-nodes.json",
    "/v1/node/1ac61e33-a465-2ace-f63f-cffa1285e7eb": "v1-node-nodeId.json", "/v1/jobs": "v1-jobs.json",
    "/v1/job/example": "v1-job-jobId.json", "/v1/job/example/summary": "v1-job-jobId-summary.json",
    "/v1/job/my-job/deployments": "v1-job-jobId-deployments.json", "/v1/allocations": "v1-allocations.json",
    "/v1/allocation/a8198d79-cfdb-6593-a999-1e9adabcba2e": "v1-allocation-allocId.json",
    "/v1/deployments": "v1-deployments.json", "/v1/evaluations": "v1-evaluations.json",
}


@pytest.fixture(scope="module")
def recorded():
    payloads = {path: upstream_path(f"nomad/{name}").read_bytes() for path, name in RECORDED.items() if name}
    with EmulatorServer(RecordedApi(payloads)) as server:
        yield server, payloads


def test_recorded_payloads_are_served_verbatim_and_python_nomad_reads_them(recorded):
    server, payloads = recorded
    client = nomad.Nomad(address=server.url, timeout=10)
    reads = {
        "/v1/agent/members": client.agent.get_members, "/v1/regions": client.regions.get_regions,
        "/v1/status/leader": client.status.leader.get_leader, "/v1/status/peers": client.status.peers.get_peers,
        "/v1/nodes": client.nodes.get_nodes, "/v1/jobs": client.jobs.get_jobs,
        "/v1/allocations": client.allocations.get_allocations, "/v1/deployments": client.deployments.get_deployments,
        "/v1/evaluations": client.evaluations.get_evaluations,
        "/v1/node/1ac61e33-a465-2ace-f63f-cffa1285e7eb":
            lambda: client.node.get_node("1ac61e33-a465-2ace-f63f-cffa1285e7eb"),
        "/v1/job/example": lambda: client.job.get_job("example"),
        "/v1/job/example/summary": lambda: client.job.get_summary("example"),
        "/v1/job/my-job/deployments": lambda: client.job.get_deployments("my-job"),
        "/v1/allocation/a8198d79-cfdb-6593-a999-1e9adabcba2e":
            lambda: client.allocation.get_allocation("a8198d79-cfdb-6593-a999-1e9adabcba2e"),
    }
    for path, read in reads.items():
        assert read() == json.loads(payloads[path]), path


@pytest.mark.parametrize("path,kind", [
    ("/v1/nodes", list[NodeStub]), ("/v1/node/1ac61e33-a465-2ace-f63f-cffa1285e7eb", NodeStub),
    ("/v1/jobs", list[JobStub]), ("/v1/job/example", JobSpec), ("/v1/allocations", list[AllocStub]),
    ("/v1/allocation/a8198d79-cfdb-6593-a999-1e9adabcba2e", AllocStub), ("/v1/deployments", list[Deployment]),
    ("/v1/job/my-job/deployments", list[Deployment]), ("/v1/evaluations", list[Evaluation]),
    ("/v1/agent/members", AgentSelf), ("/v1/regions", list[str]),
])
def test_recorded_payloads_decode_into_podium_wire_structs(recorded, path, kind):
    server, payloads = recorded
    response = requests.get(server.url + path, timeout=10)
    assert response.content == payloads[path]
    assert decode(response.content, kind, path)



@pytest.mark.parametrize("recording,path,first", [
    ("v1-nodes.json", "/v1/nodes", True), ("v1-node-nodeId.json", "/v1/node/{node}", False),
    ("v1-allocations.json", "/v1/allocations", True), ("v1-allocation-allocId.json", "/v1/allocation/{alloc}", False),
    ("v1-jobs.json", "/v1/jobs", True), ("v1-job-jobId.json", "/v1/job/{job}", False),
    ("v1-job-jobId-summary.json", "/v1/job/{job}/summary", False), ("v1-deployments.json", "/v1/deployments", True),
    ("v1-evaluations.json", "/v1/evaluations", True),
])
def test_emulated_objects_have_every_field_of_the_recorded_ones(cluster, recording, path, first):
    recorded = json.loads(upstream_path(f"nomad/{recording}").read_bytes())
    recorded = recorded[0] if first else recorded
    region = cluster.scenario.regions["eu-west"]
    job = next(j for j in region.jobs if j.namespace == "default" and j.type == "service")
    ids = {"node": region.nodes[0].id, "alloc": region.allocs[0].id, "job": job.id}
    response = requests.get(cluster.url + path.format(**ids), headers={"X-Nomad-Token": TOKEN}, timeout=10,
                            params={"namespace": "*"} if first else {})
    mine = response.json()[0] if first else response.json()
    assert set(recorded) - set(mine) == set()
