"""/metrics from a fixture snapshot: every metric and label of the contract, exact values, zeros included."""
from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.metrics import FleetMetrics
from fleet.analysis import analyze
from fleet.model import decode_snapshot

FIXTURE = Path(__file__).parent / "fixtures" / "metrics-fleet.json"
CONTRACT = {  # http-api.md: metric → labels
    "podium_cluster_up": {"cluster", "orchestrator"}, "podium_cluster_status": {"cluster", "orchestrator", "status"},
    "podium_cluster_stale": {"cluster"}, "podium_last_success_timestamp_seconds": {"cluster"},
    "podium_nodes": {"cluster", "status"}, "podium_nodes_unschedulable": {"cluster"},
    "podium_workloads": {"cluster", "status"}, "podium_instances": {"cluster", "state"},
    "podium_services": {"cluster", "status"}, "podium_cpu_cores": {"cluster", "kind"},
    "podium_memory_bytes": {"cluster", "kind"}, "podium_n_plus_1": {"cluster"},
}


@pytest.fixture(scope="module")
def snapshot():
    return decode_snapshot(FIXTURE.read_bytes())


@pytest.fixture(scope="module")
def samples(snapshot):
    analysis = analyze(snapshot)
    metrics = FleetMetrics(lambda: snapshot, lambda s: analysis)
    metrics.observe(snapshot.clusters[0], 0.3)
    metrics.observe(snapshot.clusters[0], 7.0)
    found = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


def test_every_contract_metric_is_there_with_its_labels(samples):
    labels = {}
    for name, pairs in samples:
        labels.setdefault(name, set()).update(key for key, _ in pairs)
    for name, wanted in CONTRACT.items():
        assert labels.get(name) == wanted, name


def test_cluster_up_is_1_for_ok_and_0_for_unreachable_or_unauthorized(samples):
    assert value(samples, "podium_cluster_up", cluster="kube", orchestrator="kubernetes") == 1
    assert value(samples, "podium_cluster_up", cluster="lost", orchestrator="marathon") == 0
    assert value(samples, "podium_cluster_up", cluster="never", orchestrator="nomad") == 0


def test_cluster_status_is_1_for_the_current_status_and_0_for_every_other(samples):
    statuses = {dict(labels)["status"]: v for (name, labels), v in samples.items()
                if name == "podium_cluster_status" and dict(labels)["cluster"] == "lost"}
    assert statuses == {"ok": 0, "degraded": 0, "unreachable": 1, "unauthorized": 0, "error": 0}


def test_stale_and_last_success_follow_the_last_good_collection(samples, snapshot):
    assert value(samples, "podium_cluster_stale", cluster="lost") == 1
    assert value(samples, "podium_cluster_stale", cluster="kube") == 0
    assert value(samples, "podium_last_success_timestamp_seconds", cluster="lost") == \
        snapshot.clusters[1].collected_at.timestamp()
    assert ("podium_last_success_timestamp_seconds", (("cluster", "never"),)) not in samples


def test_nodes_by_status_include_zeros(samples):
    assert {s: value(samples, "podium_nodes", cluster="kube", status=s)
            for s in ("ready", "not_ready", "down", "unknown")} == {"ready": 3, "not_ready": 1, "down": 0, "unknown": 0}
    assert value(samples, "podium_nodes", cluster="never", status="ready") == 0
    assert value(samples, "podium_nodes_unschedulable", cluster="kube") == 1


def test_workloads_instances_and_services_by_status_include_zeros(samples):
    assert value(samples, "podium_workloads", cluster="kube", status="failed") == 1
    assert value(samples, "podium_workloads", cluster="kube", status="healthy") == 1
    assert value(samples, "podium_workloads", cluster="kube", status="degraded") == 0
    assert value(samples, "podium_instances", cluster="kube", state="running") == 2
    assert value(samples, "podium_instances", cluster="kube", state="failed") == 1
    assert value(samples, "podium_instances", cluster="kube", state="pending") == 0
    assert {s: value(samples, "podium_services", cluster="kube", status=s)
            for s in ("ok", "degraded", "down", "unknown")} == {"ok": 1, "degraded": 0, "down": 1, "unknown": 0}


def test_cpu_and_memory_equal_the_summary_with_used_only_where_known(samples, snapshot):
    summary = snapshot.clusters[0].summary
    assert value(samples, "podium_cpu_cores", cluster="kube", kind="capacity") == summary.cpu_capacity_cores == 16
    assert value(samples, "podium_cpu_cores", cluster="kube", kind="allocatable") == summary.cpu_allocatable_cores
    assert value(samples, "podium_cpu_cores", cluster="kube", kind="allocated") == summary.cpu_allocated_cores
    assert value(samples, "podium_cpu_cores", cluster="kube", kind="used") == summary.cpu_used_cores
    assert value(samples, "podium_memory_bytes", cluster="kube", kind="used") == summary.mem_used_bytes
    assert value(samples, "podium_memory_bytes", cluster="lost", kind="capacity") == 16 * 2**30
    assert ("podium_cpu_cores", (("cluster", "lost"), ("kind", "used"))) not in samples


def test_n_plus_1_comes_from_the_analysis_and_is_absent_without_nodes(samples, snapshot):
    verdicts = {c.cluster: c.n_plus_1 for c in analyze(snapshot).clusters}
    assert value(samples, "podium_n_plus_1", cluster="kube") == float(verdicts["kube"])
    assert value(samples, "podium_n_plus_1", cluster="lost") == float(verdicts["lost"])
    assert verdicts["never"] is None and ("podium_n_plus_1", (("cluster", "never"),)) not in samples


def test_collection_duration_histogram_counts_what_the_poller_reported(samples):
    assert value(samples, "podium_collection_duration_seconds_count", cluster="kube") == 2
    assert value(samples, "podium_collection_duration_seconds_sum", cluster="kube") == pytest.approx(7.3)
    assert value(samples, "podium_collection_duration_seconds_bucket", cluster="kube", le="0.5") == 1
    assert value(samples, "podium_collection_duration_seconds_bucket", cluster="kube", le="10.0") == 2


def test_no_snapshot_yet_gives_no_cluster_samples():
    text = FleetMetrics(lambda: None).exposition().decode()
    assert "podium_cluster_up{" not in text and "# TYPE podium_cluster_up gauge" in text
