"""Analysis on hand-built clusters with known answers: node and zone loss, balance, headroom, limits."""
from __future__ import annotations

from pathlib import Path

from fleet.analysis import analyze, analyze_cluster, first_fit_decreasing, free_capacity, loss_impact, n_plus_1
from fleet.model import decode_snapshot
from tests.fleet.snapshot_builder import GIB, ClusterBuilder

SNAPSHOTS = Path(__file__).parent / "snapshots"


def impact_of(analysis, node: str):
    return next(i for i in analysis.node_loss if i.lost == node)


def test_replicas_all_on_one_node_make_a_single_point_of_failure():
    cluster = (ClusterBuilder().nodes_named("a", "b")
               .workload("db", on=["a", "a"], cpu=0.5).workload("web", on=["a", "b"], cpu=0.5).build())
    analysis = analyze_cluster(cluster)
    assert [(s.workload, s.node, s.instances) for s in analysis.spof_workloads] == [("db", "a", 2)]
    assert impact_of(analysis, "a").spof_workloads == ["db"]
    assert impact_of(analysis, "b").spof_workloads == []


def test_cluster_that_cannot_absorb_its_biggest_node_is_not_n_plus_1():
    cluster = (ClusterBuilder().node("a", cpu=8).node("b", cpu=4).node("c", cpu=4)
               .workload("big", on=["a", "a"], cpu=3.5).workload("small", on=["b", "c"], cpu=1).build())
    analysis = analyze_cluster(cluster)
    assert analysis.n_plus_1 is False
    assert analysis.worst_node.lost == "a"
    assert (analysis.worst_node.replaced, analysis.worst_node.unplaced) == (0, 2)
    assert analysis.worst_node.stranded_cpu_cores == 7.0
    assert impact_of(analysis, "b").absorbable and impact_of(analysis, "b").stranded[0].placed_on == "a"


def test_cluster_with_room_everywhere_is_n_plus_1():
    cluster = ClusterBuilder().nodes_named("a", "b", "c").workload("web", on=["a", "b", "c"], cpu=1).build()
    analysis = analyze_cluster(cluster)
    assert analysis.n_plus_1 is True
    assert all(i.replaced == 1 and i.unplaced == 0 for i in analysis.node_loss)


def test_single_node_cluster_with_work_is_not_n_plus_1():
    analysis = analyze_cluster(ClusterBuilder().node("only").workload("web", on=["only"], cpu=1).build())
    assert analysis.n_plus_1 is False and analysis.worst_node.unplaced == 1


def test_cluster_without_nodes_has_no_verdict():
    assert analyze_cluster(ClusterBuilder(status="unreachable").build()).n_plus_1 is None


def test_first_fit_decreasing_places_the_largest_request_first():
    bins = free_capacity(ClusterBuilder().node("x", cpu=3).node("y", cpu=2).build().nodes)
    placement = first_fit_decreasing([("small", 1.0, 0), ("large", 2.0, 0), ("medium", 2.0, 0)], bins)
    # in given order, small would take x and large would then not fit: decreasing order fits all three
    assert placement == {"large": "x", "medium": "y", "small": "x"}


def test_memory_request_that_fits_nowhere_stays_unplaced():
    cluster = (ClusterBuilder().node("a", mem_gib=8).node("b", mem_gib=8)
               .workload("cache", on=["a"], mem_gib=6).workload("filler", on=["b"], mem_gib=4).build())
    impact = impact_of(analyze_cluster(cluster), "a")
    assert (impact.unplaced, impact.stranded_mem_bytes) == (1, 6 * GIB)


def test_unschedulable_and_not_ready_nodes_take_no_re_placed_work():
    cluster = (ClusterBuilder().node("a").node("cordoned", schedulable=False).node("sick", status="not_ready")
               .workload("web", on=["a"], cpu=1).build())
    impact = impact_of(analyze_cluster(cluster), "a")
    assert impact.unplaced == 1


def test_workload_left_with_fewer_than_half_of_desired_is_reported():
    cluster = (ClusterBuilder().nodes_named("a", "b", "c", "d")
               .workload("api", on=["a", "a", "a", "b"], desired=4, cpu=0.1).build())
    impact = impact_of(analyze_cluster(cluster), "a")
    assert impact.below_half_workloads == ["api"] and impact.spof_workloads == []


def test_per_node_workloads_are_neither_stranded_nor_single_points_of_failure():
    cluster = (ClusterBuilder().nodes_named("a", "b")
               .workload("logs", on=["a", "b"], kind="DaemonSet", cpu=0.1, per_node=True).build())
    analysis = analyze_cluster(cluster)
    assert impact_of(analysis, "a").stranded == [] and analysis.spof_workloads == []


def test_two_zone_cluster_reports_the_loss_of_each_zone():
    cluster = (ClusterBuilder().node("a1", zone="eu-a").node("a2", zone="eu-a").node("b1", cpu=8, zone="eu-b")
               .workload("web", on=["a1", "a2", "b1"], cpu=1).workload("batch", on=["b1"], cpu=2.5).build())
    zones = analyze_cluster(cluster).zone_loss
    assert zones.single_zone is False and zones.zones == ["eu-a", "eu-b"]
    lose_a, lose_b = zones.impacts
    assert (lose_a.lost, lose_a.nodes, lose_a.replaced, lose_a.unplaced) == ("eu-a", ["a1", "a2"], 2, 0)
    assert (lose_b.lost, lose_b.replaced, lose_b.unplaced, lose_b.spof_workloads) == ("eu-b", 2, 0, ["batch"])


def test_single_zone_cluster_says_so():
    cluster = ClusterBuilder().node("a", zone="eu-a").node("b", zone="eu-a").build()
    zones = analyze_cluster(cluster).zone_loss
    assert zones.single_zone and zones.impacts == []
    assert "One zone (eu-a)" in zones.note


def test_cluster_without_zone_labels_says_so():
    zones = analyze_cluster(ClusterBuilder().nodes_named("a", "b").build()).zone_loss
    assert zones.single_zone and "No zone information" in zones.note


def test_evenly_loaded_cluster_has_zero_variation():
    cluster = ClusterBuilder().nodes_named("a", "b").workload("web", on=["a", "b"], cpu=2, mem_gib=4).build()
    result = analyze_cluster(cluster).balance
    assert (result.cpu_cv, result.mem_cv) == (0.0, 0.0)


def test_unevenly_loaded_cluster_has_known_variation_and_hottest_node_first():
    cluster = (ClusterBuilder().nodes_named("cool", "hot")
               .workload("web", on=["cool", "hot"], cpu=1).workload("extra", on=["hot"], cpu=2).build())
    result = analyze_cluster(cluster).balance
    assert result.cpu_cv == 0.5  # ratios 0.25 and 0.75: stdev 0.25 over mean 0.5
    assert [(n.node, n.cpu_ratio) for n in result.hottest] == [("hot", 0.75), ("cool", 0.25)]


def test_headroom_counts_more_instances_of_the_median_request():
    cluster = (ClusterBuilder().nodes_named("n1", "n2")
               .workload("w", on=["n1", "n2"], cpu=1, mem_gib=1).workload("x", on=["n1"], cpu=0.5, mem_gib=2).build())
    room = analyze_cluster(cluster).headroom
    assert (room.median_cpu_request_cores, room.median_mem_request_bytes) == (1, GIB)
    assert (room.instances, room.limited_by) == (5, "cpu")  # n1: 2.5 cores free -> 2, n2: 3


def test_headroom_without_requests_is_unknown():
    room = analyze_cluster(ClusterBuilder().node("a").workload("w", on=["a"]).build()).headroom
    assert room.instances is None


def test_more_than_110_pods_on_a_kubernetes_node_warns_with_its_source():
    cluster = ClusterBuilder().node("packed").workload("many", on=["packed"] * 111).build()
    [warning] = analyze_cluster(cluster).limit_warnings
    assert (warning.limit, warning.value, warning.threshold) == ("pods_per_node", 111, 110)
    assert warning.source.startswith("https://kubernetes.io/")


def test_more_than_5000_kubernetes_nodes_warns():
    builder = ClusterBuilder()
    for index in range(5001):
        builder.node(f"n{index}")
    limits = [w.limit for w in analyze_cluster(builder.build()).limit_warnings]
    assert limits == ["nodes_per_cluster"]


def test_eight_swarm_managers_are_too_many_and_even():
    builder = ClusterBuilder(orchestrator="swarm").nodes_named(*[f"m{i}" for i in range(8)], roles=("manager",))
    assert [w.limit for w in analyze_cluster(builder.build()).limit_warnings] == ["managers_max", "managers_even"]


def test_even_number_of_swarm_managers_warns_and_odd_does_not():
    even = ClusterBuilder(orchestrator="swarm").nodes_named("m1", "m2", roles=("manager",)).node("w1")
    odd = ClusterBuilder(orchestrator="swarm").nodes_named("m1", "m2", "m3", roles=("manager",))
    assert [w.limit for w in analyze_cluster(even.build()).limit_warnings] == ["managers_even"]
    assert analyze_cluster(odd.build()).limit_warnings == []


def test_limits_of_one_orchestrator_do_not_apply_to_another():
    cluster = ClusterBuilder(orchestrator="nomad").node("packed").workload("many", on=["packed"] * 200).build()
    assert analyze_cluster(cluster).limit_warnings == []


def test_loss_of_a_node_set_names_every_lost_node():
    cluster = ClusterBuilder().nodes_named("a", "b", "c").workload("web", on=["a", "b", "c"], cpu=3).build()
    impact = loss_impact(cluster, "a+b", {"id-a", "id-b"})
    assert (impact.nodes, impact.replaced, impact.unplaced) == (["a", "b"], 0, 2)


def test_fixture_snapshots_have_their_stated_verdicts():
    assert analyze(decode_snapshot((SNAPSHOTS / "n-plus-1.json").read_bytes())).all_n_plus_1
    assert not analyze(decode_snapshot((SNAPSHOTS / "not-n-plus-1.json").read_bytes())).all_n_plus_1


def test_verdict_alone_matches_the_full_analysis():
    for name in ("n-plus-1.json", "not-n-plus-1.json"):
        for cluster in decode_snapshot((SNAPSHOTS / name).read_bytes()).clusters:
            assert n_plus_1(cluster) == analyze_cluster(cluster).n_plus_1
