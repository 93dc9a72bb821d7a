"""Diffs between hand-built snapshots: nodes, workloads, problems, and the text a person reads."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import msgspec

from fleet.diff import diff_snapshots, to_text
from fleet.model import decode_snapshot
from tests.fleet.snapshot_builder import T0, ClusterBuilder, snapshot

SNAPSHOTS = Path(__file__).parent / "snapshots"


def fixture_diff():
    old = decode_snapshot((SNAPSHOTS / "diff-old.json").read_bytes())
    new = decode_snapshot((SNAPSHOTS / "diff-new.json").read_bytes())
    return diff_snapshots(old, new)


def prod(diff):
    return next(c for c in diff.clusters if c.cluster == "prod")


def pairs(changes):
    return [(c.name, c.before, c.after) for c in changes]


def test_identical_snapshots_have_no_changes():
    cluster = ClusterBuilder().nodes_named("a").workload("web", on=["a"]).build()
    diff = diff_snapshots(snapshot(cluster), snapshot(cluster, taken_at=T0 + timedelta(minutes=1)))
    assert diff.unchanged and to_text(diff).endswith("no changes\n")


def test_added_and_removed_nodes_are_listed_by_name():
    assert (prod(fixture_diff()).nodes_added, prod(fixture_diff()).nodes_removed) == (["d"], [])


def test_node_that_stopped_being_ready_is_a_status_change_and_a_new_problem():
    cluster = prod(fixture_diff())
    assert pairs(cluster.nodes_changed_status) == [("c", "ready", "not_ready")]
    assert "node c is not_ready" in cluster.problems_new


def test_cordoning_a_node_is_a_status_change():
    before = ClusterBuilder().node("a").build()
    after = ClusterBuilder().node("a", schedulable=False).build()
    [change] = diff_snapshots(snapshot(before), snapshot(after)).clusters[0].nodes_changed_status
    assert (change.before, change.after) == ("ready", "ready, unschedulable")


def test_added_and_removed_workloads_are_listed():
    cluster = prod(fixture_diff())
    assert (cluster.workloads_added, cluster.workloads_removed) == (["worker"], ["cron"])


def test_scaled_workload_shows_desired_before_and_after():
    assert pairs(prod(fixture_diff()).workloads_scaled) == [("web", "2", "3")]


def test_new_image_is_an_image_change():
    assert pairs(prod(fixture_diff()).workloads_changed_images) == [("web", "web:1", "web:2")]


def test_workload_status_change_is_listed():
    before = ClusterBuilder().node("a").workload("web", on=["a"]).build()
    after = ClusterBuilder().node("a").workload("web", on=["a"], state="pending").build()
    [change] = diff_snapshots(snapshot(before), snapshot(after)).clusters[0].workloads_changed_status
    assert (change.before, change.after) == ("healthy", "degraded")


def test_stuck_instances_are_a_new_problem_naming_the_reason():
    assert "workload worker: ImagePullBackOff" in prod(fixture_diff()).problems_new


def test_problem_gone_in_the_new_snapshot_is_resolved():
    sick = ClusterBuilder().node("a", status="down").build()
    well = ClusterBuilder().node("a").build()
    cluster = diff_snapshots(snapshot(sick), snapshot(well)).clusters[0]
    assert (cluster.problems_new, cluster.problems_resolved) == ([], ["node a is down"])


def test_cluster_missing_from_the_new_snapshot_is_removed():
    lab = next(c for c in fixture_diff().clusters if c.cluster == "lab")
    assert lab.change == "removed"


def test_cluster_status_change_is_reported():
    old = ClusterBuilder().node("a").build()
    new = msgspec.structs.replace(old, status="unreachable")
    cluster = diff_snapshots(snapshot(old), snapshot(new)).clusters[0]
    assert pairs([cluster.status]) == [("c1", "ok", "unreachable")]
    assert cluster.problems_new == ["cluster is unreachable"]


def test_text_shows_one_line_per_change():
    text = to_text(fixture_diff())
    for line in ("prod: changed", "  + node d", "  ~ node c ready -> not_ready", "  - workload cron",
                 "  ~ workload scaled: web 2 -> 3", "  ~ workload images: web web:1 -> web:2", "lab: removed"):
        assert line in text.splitlines()
