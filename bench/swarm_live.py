"""Swarm live updates on a real engine: how fast a change reaches the model, and what a round costs.

    .venv/bin/python -m bench.swarm_live                 # 10 services of 2 replicas, 5 changes each kind
    .venv/bin/python -m bench.swarm_live --services 30 --changes 10

Needs root and dockerd (it starts a throwaway one, like the swarm test tier). Printed, all measured
in this run:
- latency: from a change (a service scaled, a task's container killed) until `collect()` shows it,
  beside the baseline of the same change becoming visible through the Engine API at all (the SDK
  asking every 20 ms); the difference is what the event stream adds;
- round time: a live round (state kept by the stream) against a polling round (everything listed).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectors.swarm.fetch import SwarmCollector  # noqa: E402
from fleet.config import ClusterConfig  # noqa: E402
from tests.collectors.test_swarm_engine import create_service  # noqa: E402
from tests.collectors.test_swarm_live import scale  # noqa: E402
from tests.engines import Dockerd, wait_for  # noqa: E402

POLL_S = 0.02


def until(check: Callable[[], bool], timeout_s: float = 60.0) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout_s:
            raise TimeoutError("no change seen")
        time.sleep(POLL_S)
    return time.monotonic()


def running(data, name: str) -> int:
    return next(w.running for w in data.workloads if w.name == name)


def task_running(data, task_id: str) -> bool:
    return any(i.id == task_id and i.state == "running" for i in data.instances)


def engine_running(client, service_id: str) -> int:
    return sum(1 for t in client.tasks({"service": service_id}) if t["Status"]["State"] == "running")


def engine_task_state(client, task_id: str) -> str:
    return client.inspect_task(task_id)["Status"]["State"]


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:,.0f} ms (min {min(values) * 1000:,.0f}, max {max(values) * 1000:,.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, default=10)
    parser.add_argument("--changes", type=int, default=5)
    args = parser.parse_args()
    engine = Dockerd("bench-live").start().init_swarm()
    try:
        engine.import_busybox()
        client = engine.client
        ids = [create_service(client, f"bench-{n}", replicas=2) for n in range(args.services)]
        wait_for(lambda: all(engine_running(client, i) == 2 for i in ids), timeout_s=300, what="services to run")
        config = ClusterConfig(name="bench", orchestrator="swarm", url=engine.url)
        polling, streaming = SwarmCollector(config, live=False), SwarmCollector(config)
        streaming.collect(10)
        wait_for(lambda: streaming.feed.live(), timeout_s=30, what="the stream")

        scaled_model, scaled_engine, killed_model, killed_engine = [], [], [], []
        target = ids[0]
        for change in range(args.changes):
            replicas = 3 if change % 2 == 0 else 2
            started = time.monotonic()
            scale(client, target, replicas)
            seen_engine = until(lambda: engine_running(client, target) == replicas)
            seen_model = until(lambda: running(streaming.collect(10), "bench-0") == replicas)
            scaled_engine.append(seen_engine - started)
            scaled_model.append(seen_model - started)
        for _ in range(args.changes):
            container = client.containers(filters={"label": f"com.docker.swarm.service.id={ids[1]}"})[0]
            task_id = container["Labels"]["com.docker.swarm.task.id"]
            until(lambda: task_running(streaming.collect(10), task_id))
            started = time.monotonic()
            client.kill(container["Id"])
            seen_engine = until(lambda: engine_task_state(client, task_id) != "running")
            seen_model = until(lambda: not task_running(streaming.collect(10), task_id))
            killed_engine.append(seen_engine - started)
            killed_model.append(seen_model - started)
            until(lambda: engine_running(client, ids[1]) == 2)

        rounds = {"polling": [], "live": []}
        for _ in range(10):
            for name, collector in (("polling", polling), ("live", streaming)):
                started = time.monotonic()
                collector.collect(10)
                rounds[name].append(time.monotonic() - started)
        polling.close()
        streaming.close()
        print(f"engine {client.version()['Version']} (API {client.version()['ApiVersion']}), "
              f"{args.services} services x 2 replicas, {args.changes} changes of each kind")
        print(f"scaled service   model {median_ms(scaled_model)}   engine API {median_ms(scaled_engine)}")
        print(f"killed container model {median_ms(killed_model)}   engine API {median_ms(killed_engine)}")
        live_s, poll_s = statistics.median(rounds["live"]), statistics.median(rounds["polling"])
        print(f"round            live {live_s * 1000:,.1f} ms   polling {poll_s * 1000:,.1f} ms   "
              f"ratio {poll_s / live_s:,.1f}x")
    finally:
        engine.remove()


if __name__ == "__main__":
    main()
