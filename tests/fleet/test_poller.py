from __future__ import annotations

from fleet.config import Settings
from fleet.poller import MAX_BACKOFF_S, Poller
from fleet.source import Unauthorized, Unreachable, UpstreamError
from tests.engines import wait_for
from tests.fleet.fakes import Gate, ScriptedSource, small_cluster


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_poller(*sources, interval: float = 10.0, timeout: float = 1.0, clock=None) -> Poller:
    kwargs = {"clock": clock} if clock else {}
    return Poller(list(sources), Settings(poll_interval_s=interval, timeout_s=timeout), **kwargs)


def by_name(snapshot, name):
    return next(c for c in snapshot.clusters if c.name == name)


def test_successful_cluster_is_ok_with_summary():
    poller = make_poller(ScriptedSource("a", [small_cluster(nodes=3)]))
    cluster = poller.poll_once().clusters[0]
    assert (cluster.status, cluster.error, cluster.stale, cluster.version) == ("ok", None, False, "1.0")
    assert cluster.summary.nodes_ready == 3 and cluster.summary.cpu_allocatable_cores == 12
    assert cluster.collected_at is not None


def test_failure_keeps_last_good_data_marked_stale():
    source = ScriptedSource("a", [small_cluster(nodes=3), Unreachable("cannot connect to tcp://a:2376")])
    poller = make_poller(source)
    good = poller.poll_once().clusters[0]
    failed = poller.poll_once(force=True).clusters[0]
    assert (failed.status, failed.stale) == ("unreachable", True)
    assert failed.error.startswith("cannot connect to tcp://a:2376")
    assert failed.nodes == good.nodes and failed.collected_at == good.collected_at
    assert failed.version == "1.0"


def test_failure_without_earlier_data_is_not_stale():
    poller = make_poller(ScriptedSource("a", [Unauthorized("GET /nodes: unauthorized (401)")]))
    cluster = poller.poll_once().clusters[0]
    assert (cluster.status, cluster.stale, cluster.nodes, cluster.collected_at) == ("unauthorized", False, [], None)


def test_slow_cluster_does_not_hold_back_the_others():
    gate = Gate()
    poller = make_poller(ScriptedSource("slow", [gate]), ScriptedSource("fast", [small_cluster()]), timeout=0.1)
    try:
        snapshot = poller.poll_once()
        slow, fast = by_name(snapshot, "slow"), by_name(snapshot, "fast")
        assert fast.status == "ok"
        assert slow.status == "unreachable" and "did not finish answering within 0.3s" in slow.error
    finally:
        gate.release.set()
        poller.stop()


def test_hung_cluster_is_not_collected_twice_at_once():
    gate = Gate()
    source = ScriptedSource("slow", [gate])
    poller = make_poller(source, timeout=0.05)
    try:
        poller.poll_once()
        poller.poll_once(force=True)
        assert source.calls == 1
        gate.release.set()
        assert poller.poll_once(force=True).clusters[0].status == "ok"
    finally:
        gate.release.set()
        poller.stop()


def test_collector_crash_becomes_error_status_not_an_exception():
    poller = make_poller(ScriptedSource("a", [RuntimeError("boom")]), ScriptedSource("b", [small_cluster()]))
    snapshot = poller.poll_once()
    assert by_name(snapshot, "a").status == "error" and "RuntimeError: boom" in by_name(snapshot, "a").error
    assert by_name(snapshot, "b").status == "ok"


def test_degraded_reason_makes_cluster_degraded():
    data = small_cluster()
    data.degraded_reason = "metrics API unavailable (503): usage not shown"
    cluster = make_poller(ScriptedSource("a", [data])).poll_once().clusters[0]
    assert (cluster.status, cluster.error) == ("degraded", "metrics API unavailable (503): usage not shown")


def test_failing_cluster_is_backed_off_and_says_so():
    clock = ManualClock()
    source = ScriptedSource("a", [Unreachable("down")])
    poller = make_poller(source, interval=10, clock=clock)
    poller.poll_once()                      # failure 1: retried next round
    clock.now += 10
    second = poller.poll_once()             # failure 2: wait 20s
    assert source.calls == 2
    assert "2 failures in a row; next try in 20s" in second.clusters[0].error
    clock.now += 10
    poller.poll_once()                      # within the penalty: not tried
    assert source.calls == 2
    clock.now += 10
    poller.poll_once()
    assert source.calls == 3


def test_backoff_doubles_up_to_ten_minutes():
    poller = make_poller(interval=15)
    assert [poller.backoff_s(n) for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert poller.backoff_s(20) == MAX_BACKOFF_S


def test_retry_after_is_honoured_and_capped():
    poller = make_poller(interval=15)
    assert poller.backoff_s(1, retry_after_s=90) == 90
    assert poller.backoff_s(1, retry_after_s=10_000) == MAX_BACKOFF_S
    clock = ManualClock()
    source = ScriptedSource("a", [UpstreamError("rate limited (429)", retry_after_s=45)])
    poller = make_poller(source, interval=10, clock=clock)
    cluster = poller.poll_once().clusters[0]
    assert "next try in 45s" in cluster.error
    clock.now += 40
    poller.poll_once()
    assert source.calls == 1


def test_success_after_failures_resets_the_backoff():
    clock = ManualClock()
    source = ScriptedSource("a", [Unreachable("down"), Unreachable("down"), small_cluster()])
    poller = make_poller(source, interval=10, clock=clock)
    poller.poll_once()
    poller.poll_once(force=True)
    assert poller.poll_once(force=True).clusters[0].status == "ok"
    clock.now += 10
    poller.poll_once()
    assert source.calls == 4


def test_secrets_are_scrubbed_from_error_messages():
    source = ScriptedSource("a", [UpstreamError("server echoed Bearer s3cr3t-canary back")], secrets=["s3cr3t-canary"])
    cluster = make_poller(source).poll_once().clusters[0]
    assert "s3cr3t-canary" not in cluster.error and "***" in cluster.error


def test_clusters_keep_config_order_and_background_loop_publishes():
    sources = [ScriptedSource(name, [small_cluster()]) for name in ("c", "a", "b")]
    poller = make_poller(*sources, interval=0.05)
    assert [c.status for c in poller.snapshot().clusters] == ["unreachable"] * 3  # not collected yet
    poller.start()
    try:
        from tests.engines import wait_for
        wait_for(lambda: poller.rounds >= 2, timeout_s=10, what="two rounds")
        assert [c.name for c in poller.snapshot().clusters] == ["c", "a", "b"]
        assert all(c.status == "ok" for c in poller.snapshot().clusters)
    finally:
        poller.stop()
    assert all(s.closed for s in sources)


def test_every_round_is_handed_to_the_round_hook_and_a_failing_hook_is_survived():
    seen = []

    def hook(snapshot):
        seen.append(snapshot)
        raise OSError("disk full")

    poller = Poller([ScriptedSource("a", [small_cluster()])], Settings(poll_interval_s=10, timeout_s=1), on_round=hook)
    first = poller.poll_once()
    second = poller.poll_once(force=True)
    assert seen == [first, second]
    assert second.clusters[0].status == "ok"


def test_a_rounds_progress_counts_each_cluster_as_its_collection_ends_whatever_the_config_order():
    """The first round of a large fleet takes a while: the progress bar moves as each cluster comes in,
    not only when the clusters before it in the config have."""
    first, last = Gate(), Gate()
    poller = make_poller(ScriptedSource("first", [first]), ScriptedSource("fast", [small_cluster()]),
                         ScriptedSource("last", [last]), timeout=5)
    poller.start()
    try:
        from tests.engines import wait_for
        wait_for(lambda: poller.progress.done == ["fast"], timeout_s=10, what="the fast cluster counted")
        last.release.set()
        wait_for(lambda: poller.progress.done == ["fast", "last"], timeout_s=10, what="the last cluster counted")
        assert poller.rounds == 0 and poller.progress.total == 3
        first.release.set()
        wait_for(lambda: poller.rounds == 1, timeout_s=10, what="the round")
        assert poller.progress.done == ["fast", "last", "first"]
    finally:
        first.release.set()
        last.release.set()
        poller.stop()


def test_the_first_round_shows_each_cluster_as_it_comes_in_while_later_rounds_publish_whole():
    """One slow cluster must not blank the page for its deadline: in the first round the others are
    shown as soon as they are collected. The rounds the hooks hear (history, alerts) stay whole."""
    slow = Gate()
    heard = []
    poller = Poller([ScriptedSource("slow", [slow, small_cluster(nodes=1)]),
                     ScriptedSource("fast", [small_cluster(nodes=2), small_cluster(nodes=5)])],
                    Settings(poll_interval_s=3600, timeout_s=5), on_round=heard.append)
    poller.start()
    try:
        from tests.engines import wait_for
        wait_for(lambda: by_name(poller.snapshot(), "fast").status == "ok", timeout_s=10, what="the fast cluster shown")
        shown = poller.snapshot()
        assert by_name(shown, "fast").summary.nodes_total == 2
        assert by_name(shown, "slow").error.startswith("not collected yet")
        assert poller.rounds == 0 and heard == []
        slow.release.set()
        wait_for(lambda: poller.rounds == 1, timeout_s=10, what="the first round")
        assert heard == [poller.snapshot()] and all(c.status == "ok" for c in heard[0].clusters)
    finally:
        slow.release.set()
        poller.stop()


def test_after_the_first_round_a_slow_cluster_holds_the_others_last_round_until_the_round_ends():
    slow = Gate()
    poller = make_poller(ScriptedSource("slow", [small_cluster(nodes=1), slow]),
                         ScriptedSource("fast", [small_cluster(nodes=2), small_cluster(nodes=5)]), timeout=5)
    first = poller.poll_once()
    import threading
    second: list = []
    round_two = threading.Thread(target=lambda: second.append(poller.poll_once(force=True)))
    round_two.start()
    try:
        from tests.engines import wait_for
        wait_for(lambda: "fast" in poller.progress.done, timeout_s=10, what="the fast cluster collected")
        assert poller.snapshot() is first  # a round is shown (and stored) whole
    finally:
        slow.release.set()
        round_two.join(10)
    assert by_name(second[0], "fast").summary.nodes_total == 5 and poller.snapshot() is second[0]


def test_a_collection_running_when_the_poller_stops_is_handed_over_and_its_answer_shown_by_the_next():
    """A config save stops the poller while a kept cluster is being collected: its collector goes on
    (it is not rebuilt, so it keeps what it watches), and the next poller shows what it answers."""
    gate = Gate()
    source = ScriptedSource("a", [gate])
    first = make_poller(source, timeout=5).start()  # as the dashboard runs it: stop() joins its rounds' thread
    try:
        wait_for(lambda: source.calls == 1, timeout_s=10, what="the collection started")
        carried = first.stop(keep=["a"])
        assert list(carried) == ["a"] and not source.closed
        second = Poller([source], Settings(poll_interval_s=10, timeout_s=5), carried=carried)
        gate.release.set()
        shown = second.poll_once()
        assert shown.clusters[0].status == "ok" and source.calls == 1  # the same collection, not a second
        second.stop()
    finally:
        gate.release.set()


def test_a_collection_past_its_deadline_is_not_handed_over_so_the_cluster_gets_a_new_collector():
    gate, clock = Gate(), ManualClock()
    source = ScriptedSource("a", [gate])
    poller = make_poller(source, timeout=0.05, clock=clock)
    try:
        assert poller.poll_once().clusters[0].status == "unreachable"  # waited 0.15 s of the real clock's time
        clock.now += 1  # far past the 0.15 s deadline on the poller's clock
        assert poller.stop(keep=["a"]) == {} and source.closed
    finally:
        gate.release.set()
