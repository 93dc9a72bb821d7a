from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import msgspec
import pytest

from fleet.model import (Cluster, Event, Instance, Node, Snapshot, Workload, decode_snapshot, encode_snapshot,
                         json_schema, summarize)
from tests.upstream import spec_path

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)


def sample_snapshot() -> Snapshot:
    nodes = [Node(id="n1", name="a", status="ready", schedulable=True, cpu_capacity_cores=4, cpu_allocatable_cores=3.5,
                  cpu_allocated_cores=1.25, mem_capacity_bytes=8 * 2**30, mem_allocatable_bytes=7 * 2**30,
                  mem_allocated_bytes=2**30, labels={"zone": "a"}),
             Node(id="n2", name="b", status="down", schedulable=False)]
    workloads = [Workload(id="w", name="web", kind="ReplicatedService", desired=2, running=1, status="degraded")]
    instances = [Instance(id="i", name="web.1", workload_id="w", node_id="n1", state="running", started_at=T0),
                 Instance(id="j", name="web.2", workload_id="w", state="failed", reason="No such image: x")]
    events = [Event(time=T0, severity="warning", object="Task/web.2", reason="TaskRejected", message="No such image: x")]
    ok = Cluster(name="prod", orchestrator="swarm", endpoint="unix:///var/run/docker.sock", status="ok",
                 version="28.0", collected_at=T0, nodes=nodes, workloads=workloads, instances=instances,
                 events=events, summary=summarize(nodes, workloads, instances))
    dead = Cluster(name="dead", orchestrator="nomad", endpoint="http://nomad:4646", status="unreachable",
                   error="cannot connect to http://nomad:4646: connection refused")
    return Snapshot(taken_at=T0, clusters=[ok, dead])


def test_snapshot_validates_against_the_shared_contract_schema():
    schema = json.loads(spec_path("snapshot-v1.schema.json").read_text())
    document = json.loads(encode_snapshot(sample_snapshot()))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(document)


def test_snapshot_round_trips_through_json():
    snapshot = sample_snapshot()
    assert decode_snapshot(encode_snapshot(snapshot)) == snapshot


def test_times_are_rfc3339_utc():
    document = json.loads(encode_snapshot(sample_snapshot()))
    assert document["taken_at"] == "2026-11-27T03:00:00Z"
    assert document["schema"] == "podium.snapshot/v1"


def test_decode_rejects_unknown_status():
    document = json.loads(encode_snapshot(sample_snapshot()))
    document["clusters"][0]["status"] = "fine"
    with pytest.raises(msgspec.ValidationError, match="status"):
        decode_snapshot(json.dumps(document))


def test_summary_counts_and_sums():
    summary = sample_snapshot().clusters[0].summary
    assert (summary.nodes_total, summary.nodes_ready, summary.workloads_total) == (2, 1, 1)
    assert summary.workloads_by_status == {"degraded": 1}
    assert summary.instances_by_state == {"running": 1, "failed": 1}
    assert summary.cpu_allocatable_cores == 3.5 and summary.mem_allocated_bytes == 2**30


def test_usage_totals_are_null_unless_every_ready_node_reports_usage():
    measured = Node(id="1", name="1", status="ready", schedulable=True, cpu_used_cores=1.5, mem_used_bytes=100)
    unmeasured = Node(id="2", name="2", status="ready", schedulable=True)
    down = Node(id="3", name="3", status="down", schedulable=False)
    assert summarize([measured, unmeasured], [], []).cpu_used_cores is None
    both = summarize([measured, down], [], [])
    assert (both.cpu_used_cores, both.mem_used_bytes) == (1.5, 100)


def test_committed_json_schema_is_current():
    committed = json.loads((ROOT / "docs" / "snapshot.schema.json").read_text())
    assert committed == json_schema(), "run: python -m fleet.schema > docs/snapshot.schema.json"
