"""The runtime feeds every finished round to its alerts engine, which outlives a config reload."""
from __future__ import annotations

import msgspec

from fleet.runtime import FleetRuntime
from tests.engines import wait_for
from tests.fleet.fakes import ScriptedSource, small_cluster

CONFIG = """settings:
  poll_interval_s: 0.2
  timeout_s: 5
  history_dir: history
clusters:
  - name: edge
    orchestrator: swarm
    url: tcp://edge:2376
{alerts}"""


def one_node_down():
    data = small_cluster()
    data.nodes[1] = msgspec.structs.replace(data.nodes[1], status="down")
    return data


def firing(runtime: FleetRuntime) -> list[str]:
    return [a.name for a in runtime.alerts.view().firing]


def test_rounds_reach_the_alerts_engine_and_a_reload_keeps_it(tmp_path):
    path = tmp_path / "clusters.yaml"
    path.write_text(CONFIG.format(alerts=""))
    heard = []
    runtime = FleetRuntime(path, lambda config: ScriptedSource(config.name, [one_node_down]))
    runtime.on_round(heard.append)
    runtime.start()
    try:
        engine = runtime.alerts
        wait_for(lambda: firing(runtime) == ["PodiumNodeNotReady"], timeout_s=30, what="the node alert to fire")
        assert heard and runtime.recorder is not None  # the history recorder and other listeners still hear rounds
        path.write_text(CONFIG.format(alerts="alerts:\n  conditions:\n    PodiumNodeNotReady: {enabled: false}\n"))
        runtime.reload()
        assert runtime.alerts is engine
        wait_for(lambda: engine.view().resolved, timeout_s=30, what="the switched-off alert to resolve")
        assert firing(runtime) == []
    finally:
        runtime.stop()
    assert runtime.alerts is None
