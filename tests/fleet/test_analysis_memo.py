"""A cluster that did not change between rounds is not analyzed again; any change the analysis reads is."""
from __future__ import annotations

import threading
import time

import msgspec

from fleet.analysis import AnalysisMemo, analyze, analyze_cluster
from fleet.model import Cluster, Snapshot, decode_snapshot, encode_snapshot
from tests.fleet.snapshot_builder import T0, ClusterBuilder


def cluster(name: str = "c1") -> Cluster:
    return (ClusterBuilder(name=name).node("a", cpu=8.0).node("b", cpu=4.0).node("c", cpu=4.0)
            .workload("big", on=["a", "a"], cpu=3.5).workload("small", on=["b", "c"], cpu=1.0).build())


def next_round(previous: Cluster) -> Cluster:
    """The same cluster as the next round delivers it: equal content, new objects, a new time."""
    snapshot = decode_snapshot(encode_snapshot(Snapshot(taken_at=T0, clusters=[previous])))
    return msgspec.structs.replace(snapshot.clusters[0], collected_at=T0.replace(minute=1))


def test_a_quiet_cluster_is_analyzed_once_and_answers_the_same():
    memo, first = AnalysisMemo(), cluster()
    second = next_round(first)
    assert memo.analyze_cluster(first) == analyze_cluster(first)
    assert memo.analyze_cluster(second) == analyze_cluster(second)
    assert memo.analyzed == 1


def test_measured_usage_alone_does_not_start_an_analysis():
    memo, first = AnalysisMemo(), cluster()
    memo.analyze_cluster(first)
    busier = next_round(first)
    busier.nodes[0].cpu_used_cores, busier.nodes[0].mem_used_bytes = 6.5, 2**30
    memo.analyze_cluster(busier)
    assert memo.analyzed == 1


def test_a_moved_instance_or_a_changed_node_is_analyzed_afresh():
    memo, first = AnalysisMemo(), cluster()
    assert memo.analyze_cluster(first).n_plus_1 is False  # "a" holds 7 cores that fit nowhere else
    relieved = next_round(first)
    relieved.instances[1].node_id = "id-b"  # one copy of "big" now runs on b
    relieved.nodes[0].cpu_allocated_cores, relieved.nodes[1].cpu_allocated_cores = 3.5, 4.5
    assert memo.analyze_cluster(relieved) == analyze_cluster(relieved)
    assert memo.analyzed == 2
    drained = next_round(relieved)
    drained.nodes[2].schedulable = False
    assert memo.analyze_cluster(drained) == analyze_cluster(drained) != analyze_cluster(relieved)
    assert memo.analyzed == 3


def test_each_cluster_is_remembered_apart_and_the_snapshot_answer_is_unchanged():
    memo = AnalysisMemo()
    snapshot = Snapshot(taken_at=T0, clusters=[cluster("east"), cluster("west")])
    assert analyze(snapshot, memo=memo) == analyze(snapshot)
    later = Snapshot(taken_at=T0.replace(minute=1), clusters=[next_round(c) for c in snapshot.clusters])
    assert analyze(later, memo=memo) == analyze(later)
    assert memo.analyzed == 2


def test_a_cluster_gone_from_the_fleet_is_forgotten():
    memo = AnalysisMemo()
    analyze(Snapshot(taken_at=T0, clusters=[cluster("east"), cluster("west")]), memo=memo)
    analyze(Snapshot(taken_at=T0, clusters=[cluster("east")]), memo=memo)
    analyze(Snapshot(taken_at=T0, clusters=[cluster("east"), cluster("west")]), memo=memo)
    assert memo.analyzed == 3  # west analyzed again after it came back; east only once


def same_objects_again(previous: Cluster, **changes) -> Cluster:
    """The next round of a collector that kept its objects (a quiet cluster): the same workloads
    and instances, new lists of them, a new time."""
    kept = {"workloads": list(previous.workloads), "instances": list(previous.instances)}
    return msgspec.structs.replace(previous, collected_at=T0.replace(minute=1), **{**kept, **changes})


def test_a_round_of_the_same_objects_is_not_encoded_to_be_recognized(monkeypatch):
    import fleet.analysis

    memo, first = AnalysisMemo(), cluster()
    memo.analyze_cluster(first)
    digests = []
    monkeypatch.setattr(fleet.analysis, "fingerprint", lambda c: digests.append(c) or b"never equal")
    busier = [msgspec.structs.replace(first.nodes[0], cpu_used_cores=6.5), *first.nodes[1:]]
    assert memo.analyze_cluster(same_objects_again(first)) == analyze_cluster(first)
    assert memo.analyze_cluster(same_objects_again(first, nodes=busier)) == analyze_cluster(first)
    assert digests == [] and memo.analyzed == 1


def test_a_new_object_among_the_same_ones_is_analyzed_afresh():
    memo, first = AnalysisMemo(), cluster()
    memo.analyze_cluster(first)
    moved = msgspec.structs.replace(first.instances[1], node_id="id-b")
    only_moved = same_objects_again(first, instances=[first.instances[0], moved, *first.instances[2:]])
    assert memo.analyze_cluster(only_moved) == analyze_cluster(only_moved) != analyze_cluster(first)
    memo.analyze_cluster(first)
    relieved = same_objects_again(first, instances=[first.instances[0], moved, *first.instances[2:]],
                                  nodes=[msgspec.structs.replace(first.nodes[0], cpu_allocated_cores=3.5),
                                         msgspec.structs.replace(first.nodes[1], cpu_allocated_cores=4.5),
                                         first.nodes[2]])
    assert memo.analyze_cluster(relieved) == analyze_cluster(relieved) != analyze_cluster(first)
    drained = same_objects_again(relieved, nodes=[*relieved.nodes[:2],
                                                  msgspec.structs.replace(relieved.nodes[2], schedulable=False)])
    assert memo.analyze_cluster(drained) == analyze_cluster(drained) != analyze_cluster(relieved)
    assert memo.analyzed == 5


def test_a_round_arriving_while_the_last_is_analyzed_waits_for_it_and_takes_its_answer(monkeypatch):
    """A large fleet's first analysis can outlast the poll interval: the next round's thread must
    not analyze the same unchanged cluster again beside it (twice the CPU while pages load)."""
    import fleet.analysis

    real, started, release, calls = fleet.analysis.analyze_cluster, threading.Event(), threading.Event(), []

    def slow_analysis(cluster: Cluster, nodes_done=None):
        calls.append(cluster.name)
        started.set()
        assert release.wait(10)
        return real(cluster, nodes_done)

    monkeypatch.setattr(fleet.analysis, "analyze_cluster", slow_analysis)
    memo, first = AnalysisMemo(), cluster()
    second = next_round(first)
    answers: dict[str, object] = {}
    first_thread = threading.Thread(target=lambda: answers.update(first=memo.analyze_cluster(first)))
    first_thread.start()
    assert started.wait(10)
    second_thread = threading.Thread(target=lambda: answers.update(second=memo.analyze_cluster(second)))
    second_thread.start()
    time.sleep(0.3)  # room for the second round to start its own analysis, were it allowed to
    release.set()
    first_thread.join(10)
    second_thread.join(10)
    assert calls == ["c1"]
    assert memo.analyzed == 1
    assert answers["second"] is answers["first"]
