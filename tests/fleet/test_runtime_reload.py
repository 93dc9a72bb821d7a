"""Saving the config reloads the runtime: clusters whose entry, credentials and files did not change
keep their collector and their data; the others are collected afresh."""
from __future__ import annotations

from fleet.runtime import FleetRuntime
from tests.engines import wait_for
from tests.fleet.fakes import Gate, ScriptedSource, small_cluster


def config_text(b_url: str, ca_file) -> str:
    return ("settings:\n  poll_interval_s: 3600\n  demo: false\nclusters:\n"
            "  - name: a\n    orchestrator: kubernetes\n    url: https://a:6443\n    token_env: PODIUM_TEST_A_TOKEN\n"
            f"    ca_file: {ca_file}\n  - name: b\n    orchestrator: swarm\n    url: {b_url}\n")


def by_name(snapshot, name):
    return next(c for c in snapshot.clusters if c.name == name)


def test_a_reload_keeps_the_collectors_and_data_of_unchanged_clusters_and_rebuilds_the_rest(tmp_path, monkeypatch):
    monkeypatch.setenv("PODIUM_TEST_A_TOKEN", "first-token")
    config, ca_file = tmp_path / "clusters.yaml", tmp_path / "a-ca.crt"
    ca_file.write_text("the first CA\n")
    config.write_text(config_text("tcp://b:2376", ca_file))
    built: list[ScriptedSource] = []
    moved_b = Gate()  # b at its new endpoint answers when released

    def build(cluster_config):
        moved = cluster_config.url == "tcp://b-moved:2376"
        source = ScriptedSource(cluster_config.name, [moved_b if moved else small_cluster(nodes=3)])
        built.append(source)
        return source

    runtime = FleetRuntime(config, build).start()
    try:
        wait_for(lambda: runtime.poller.rounds >= 1, timeout_s=10, what="the first round")
        [a, b] = built
        config.write_text(config_text("tcp://b-moved:2376", ca_file))  # b changes, a does not
        runtime.reload()
        shown = runtime.snapshot()
        assert by_name(shown, "a").status == "ok" and by_name(shown, "a").summary.nodes_total == 3  # not blanked
        assert by_name(shown, "b").collected_at is None  # its new endpoint is collected afresh
        assert [s.name for s in built] == ["a", "b", "b"] and not a.closed and b.closed
        moved_b.release.set()
        wait_for(lambda: by_name(runtime.snapshot(), "b").status == "ok", timeout_s=10, what="b collected again")
        assert a.calls == 2  # the same collector went on polling

        monkeypatch.setenv("PODIUM_TEST_A_TOKEN", "rotated-token")  # same entry, new credentials
        runtime.reload()
        assert [s.name for s in built] == ["a", "b", "b", "a"] and a.closed

        ca_file.write_text("a renewed CA, longer\n")  # same entry, the file it names changed
        runtime.reload()
        assert [s.name for s in built] == ["a", "b", "b", "a", "a"] and built[3].closed and not built[2].closed
    finally:
        moved_b.release.set()
        runtime.stop()
    assert all(source.closed for source in built)


def test_a_save_does_not_wait_for_a_hanging_cluster_and_keeps_what_the_round_collected(tmp_path, monkeypatch):
    """A cluster that accepts and does not answer holds a round up to its deadline (3 × timeout_s):
    a save meanwhile must not wait for it, nor throw its collection away."""
    import threading

    monkeypatch.setenv("PODIUM_TEST_A_TOKEN", "token")
    config, ca_file = tmp_path / "clusters.yaml", tmp_path / "a-ca.crt"
    ca_file.write_text("a CA\n")
    config.write_text(config_text("tcp://b:2376", ca_file).replace("poll_interval_s: 3600", "poll_interval_s: 3600\n"
                                                                    "  timeout_s: 60"))
    hanging = Gate()
    built: list[ScriptedSource] = []

    def build(cluster_config):
        source = ScriptedSource(cluster_config.name, [hanging if cluster_config.name == "b" else small_cluster(nodes=3)])
        built.append(source)
        return source

    runtime = FleetRuntime(config, build).start()
    try:
        wait_for(lambda: "a" in runtime.poller.progress.done, timeout_s=10, what="a collected, b hanging")
        saving = threading.Thread(target=runtime.reload)
        saving.start()
        saving.join(10)
        assert not saving.is_alive() and not hanging.release.is_set()  # done while b still hangs
        [a, b] = built  # b's collection is inside its deadline: its collector goes on
        assert not a.closed and not b.closed
        assert by_name(runtime.snapshot(), "a").summary.nodes_total == 3  # a's round result was kept
        hanging.release.set()
        wait_for(lambda: by_name(runtime.snapshot(), "b").status == "ok", timeout_s=10, what="b's answer shown")
        assert b.calls == 1 and len(built) == 2
    finally:
        hanging.release.set()
        runtime.stop()
