"""Fidelity of the emulated service registrations, scaling policies and job scale status: python-nomad
reads the policies, and every emulated object has every field of the upstream recordings."""
from __future__ import annotations

import json

import nomad
import pytest
import requests

from collectors.nomad.wire import JobScale, JobSpec, ScalingPolicy, ServiceList, ServiceRegistration
from collectors.toolkit import decode
from sim.nomad import build, start
from tests.upstream import upstream_path

TOKEN = "5d0c2b8e-7f41-4c55-9d0e-3c1a2b4d6e8f"


@pytest.fixture(scope="module")
def cluster():
    with start(build(1), tokens={TOKEN: "read-only"}) as running:
        yield running


def get(cluster, path: str, **params: str):
    response = requests.get(cluster.url + path, headers={"X-Nomad-Token": TOKEN}, params=params, timeout=10)
    assert response.status_code == 200, response.text
    assert int(response.headers["X-Nomad-Index"]) > 0  # takes part in blocking queries
    return response


def recorded(name: str):
    return json.loads(upstream_path(f"nomad/{name}").read_bytes())


def test_services_list_has_the_recorded_shape(cluster):
    mine = get(cluster, "/v1/services", namespace="*").json()
    first = recorded("v1-services.json")[0]
    assert set(first) <= set(mine[0]) and set(first["Services"][0]) <= set(mine[0]["Services"][0])
    assert decode(json.dumps(mine).encode(), list[ServiceList], "services")


def test_registrations_have_every_recorded_field(cluster):
    lists = get(cluster, "/v1/services", namespace="*").json()
    namespace, name = lists[0]["Namespace"], lists[0]["Services"][0]["ServiceName"]
    mine = get(cluster, f"/v1/service/{name}", namespace=namespace).json()
    for recording in ("v1-service-serviceName.json", "v1-service-serviceName-traefik.json"):
        assert set(recorded(recording)[0]) - set(mine[0]) == set()
    assert all(r["ServiceName"] == name and r["Namespace"] == namespace for r in mine)
    assert decode(json.dumps(mine).encode(), list[ServiceRegistration], "registrations")


def test_scaling_policies_have_every_recorded_field(cluster):
    stubs = get(cluster, "/v1/scaling/policies", namespace="*").json()
    horizontal = next(s for s in recorded("v1-scaling-policies.json") if s["Type"] == "horizontal")
    assert set(horizontal) - set(stubs[0]) == set() and "Max" not in stubs[0]
    whole = get(cluster, f"/v1/scaling/policy/{stubs[0]['ID']}").json()
    assert set(recorded("v1-scaling-policy-policyId.json")) - set(whole) == set()
    assert decode(json.dumps(whole).encode(), ScalingPolicy, "policy").Max == whole["Max"]


def test_policy_of_an_unknown_id_is_not_found(cluster):
    response = requests.get(cluster.url + "/v1/scaling/policy/nope", headers={"X-Nomad-Token": TOKEN}, timeout=10)
    assert (response.status_code, response.text) == (404, "scaling policy not found")


def test_job_scale_status_has_every_recorded_field(cluster):
    stub = get(cluster, "/v1/scaling/policies", namespace="*").json()[0]
    target = stub["Target"]
    mine = get(cluster, f"/v1/job/{target['Job']}/scale", namespace=target["Namespace"]).json()
    expected = recorded("v1-job-jobId-scale.json")
    assert set(expected) - set(mine) == set()
    assert set(expected["TaskGroups"]["cache"]) - set(mine["TaskGroups"][target["Group"]]) == set()
    assert decode(json.dumps(mine).encode(), JobScale, "scale").TaskGroups


def test_job_spec_carries_group_services_and_scaling_like_the_autoscalers_golden(cluster):
    golden = recorded("v1-job-jobId-inspect-scaling-nomad-autoscaler.json")["Job"]["TaskGroups"][0]["Scaling"]
    stub = get(cluster, "/v1/scaling/policies", namespace="*").json()[0]
    target = stub["Target"]
    spec = get(cluster, f"/v1/job/{target['Job']}", namespace=target["Namespace"]).json()
    group = next(g for g in spec["TaskGroups"] if g["Name"] == target["Group"])
    assert set(golden) - set(group["Scaling"]) == set()
    assert isinstance(group["Scaling"]["Policy"]["check"], list)  # HCL blocks as lists of single-key maps
    assert group["Services"] and group["Services"][0]["Provider"] in ("nomad", "consul")
    assert decode(json.dumps(spec).encode(), JobSpec, "job").TaskGroups


def test_python_nomad_reads_the_policies(cluster):
    client = nomad.Nomad(address=cluster.url, token=TOKEN, timeout=10)
    [first, *_] = client.scaling.get_scaling_policies()
    assert client.scaling.get_scaling_policy(first["ID"])["Target"] == first["Target"]
