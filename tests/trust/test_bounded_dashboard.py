"""Any server, bounded, in the dashboard: the background poller beside servers that drip for ever.

One Kubernetes, Nomad, Marathon and Swarm cluster each send their headers and then one byte a
second, beside a healthy cluster of each, for about 45 one-second rounds of the dashboard's own
poller (the one `app.py` runs). Healthy clusters keep their cadence; each dripping one is
`unreachable` every round, saying its request's deadline passed, and is tried again with a fresh
connection instead of staying wedged; threads and memory stay flat. Then the servers turn healthy
and the Refresh button is pressed (the poller backs a failing cluster off, 1, 2, 4 ... s, so without
it the next try may be half a minute away): each cluster is `ok` within two rounds.
"""
from __future__ import annotations

import gc
import json
import re
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from collectors import build_collector
from fleet.config import load_config
from fleet.model import Snapshot
from fleet.poller import Poller
from tests.trust.faultserver import FaultServer, running

TOKEN_ENV = "PODIUM_BOUNDED_TOKEN"
CANARY = "b0a7ded0-ca7a-4e11-9b11-5ec7e7c0ffee"
INTERVAL_S = 1.0
TIMEOUT_S = 1.0
DEADLINE_S = 3 * TIMEOUT_S
STEADY_AFTER_S = 15.0  # caches filled, watches and event streams open: what grows after this, leaks
WATCH_S = 45.0
DRIPPING = {"kubernetes": "kube-drip", "nomad": "nomad-drip", "marathon": "marathon-drip", "swarm": "swarm-drip"}
HEALTHY = ("kube-ok", "nomad-ok", "marathon-ok", "swarm-ok")


@dataclass(frozen=True)
class Usage:
    threads: int
    rss_bytes: int
    thread_names: tuple[str, ...] = ()


@dataclass
class Watched:
    rounds: list[tuple[float, Snapshot]]  # (monotonic time published, snapshot) while the servers dripped
    steady: Usage
    end: Usage
    attempts: dict[str, int]  # connections each dripping server accepted
    after_heal: list[Snapshot]


def usage_now() -> Usage:
    found = re.search(r"^VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    names = tuple(sorted(re.sub(r"\d+", "N", thread.name) for thread in threading.enumerate()))
    return Usage(len(names), int(found.group(1)) * 1024 if found else 0, names)


def usage(over_s: float = 3.0) -> Usage:
    """The fewest threads seen over a few rounds: a round's own short-lived reader pools are not a leak."""
    gc.collect()
    samples = []
    give_up = time.monotonic() + over_s
    while time.monotonic() < give_up:
        samples.append(usage_now())
        time.sleep(0.05)
    return min(samples, key=lambda sample: sample.threads)


def clusters_yaml(server: FaultServer) -> dict:
    healthy, token = server.healthy, {"token_env": TOKEN_ENV}
    return {"settings": {"poll_interval_s": INTERVAL_S, "timeout_s": TIMEOUT_S, "demo": False}, "clusters": [
        {"name": "kube-drip", "orchestrator": "kubernetes", "url": server.url("kubernetes", "drip"), **token},
        {"name": "nomad-drip", "orchestrator": "nomad", "url": server.url("nomad", "drip"), **token},
        {"name": "marathon-drip", "orchestrator": "marathon", "url": server.url("marathon", "drip"),
         "mesos_url": healthy["mesos"], **token},
        {"name": "swarm-drip", "orchestrator": "swarm", "url": server.url("swarm", "drip")},
        {"name": "kube-ok", "orchestrator": "kubernetes", "url": healthy["kubernetes"], **token},
        {"name": "nomad-ok", "orchestrator": "nomad", "url": healthy["nomad"], **token},
        {"name": "marathon-ok", "orchestrator": "marathon", "url": healthy["marathon"], "mesos_url": healthy["mesos"],
         **token},
        {"name": "swarm-ok", "orchestrator": "swarm", "url": healthy["swarm"]},
    ]}


def wait_for(condition, within_s: float) -> None:
    give_up = time.monotonic() + within_s
    while not condition() and time.monotonic() < give_up:
        time.sleep(0.1)


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Watched]:
    path = tmp_path_factory.mktemp("bounded-dashboard") / "clusters.yaml"
    with running(TOKEN_ENV, CANARY) as server:
        path.write_text(json.dumps(clusters_yaml(server), indent=2))  # JSON is YAML
        config = load_config(path, environ={TOKEN_ENV: CANARY})
        rounds: list[tuple[float, Snapshot]] = []
        poller = Poller([build_collector(cluster) for cluster in config.clusters], config.settings,
                        on_round=lambda snapshot: rounds.append((time.monotonic(), snapshot)))
        started = time.monotonic()
        poller.start()
        try:
            time.sleep(STEADY_AFTER_S)
            steady = usage()
            time.sleep(max(0.0, started + WATCH_S - time.monotonic()))
            end = usage()
            attempts = {side: server.accepted(side, "drip") for side in DRIPPING}
            for side in DRIPPING:
                server.heal(side, "drip")
            healed_at = len(rounds)
            poller.refresh_now()  # the dashboard's Refresh button
            wait_for(lambda: len(rounds) >= healed_at + 2, within_s=30)
            yield Watched(rounds[:healed_at], steady, end, attempts, [s for _, s in rounds[healed_at:healed_at + 2]])
        finally:
            poller.stop()


def by_name(snapshot: Snapshot) -> dict:
    return {cluster.name: cluster for cluster in snapshot.clusters}


def test_healthy_clusters_keep_their_cadence(watched: Watched) -> None:
    times = [at for at, _ in watched.rounds]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert len(watched.rounds) >= 20, f"{len(watched.rounds)} rounds in {WATCH_S:g}s"
    # a round waits for no request longer than its deadline, so it lasts about a timeout at most
    assert statistics.median(gaps) <= INTERVAL_S + TIMEOUT_S, gaps
    assert max(gaps) <= INTERVAL_S + DEADLINE_S + 1, gaps


def test_healthy_clusters_are_collected_every_round(watched: Watched) -> None:
    for name in HEALTHY:
        seen = [by_name(snapshot)[name] for _, snapshot in watched.rounds]
        assert {(c.status, c.error) for c in seen} == {("ok", None)}, name
        stamps = [c.collected_at for c in seen]
        assert all(earlier < later for earlier, later in zip(stamps, stamps[1:])), f"{name}: {stamps}"


def test_a_dripping_cluster_is_unreachable_every_round_past_its_deadline(watched: Watched) -> None:
    for name in DRIPPING.values():
        seen = [by_name(snapshot)[name] for _, snapshot in watched.rounds]
        wrong = [(c.status, c.error) for c in seen
                 if c.status != "unreachable" or not re.search(r"did not finish within 1s", c.error or "")]
        assert not wrong, f"{name}: {wrong[:3]}"


def test_a_dripping_cluster_is_tried_again_with_a_fresh_connection(watched: Watched) -> None:
    # backed off 1, 2, 4, 8, 16 s after each failure: tries at about 0, 1, 3, 7, 15 and 31 s
    assert all(count >= 4 for count in watched.attempts.values()), watched.attempts


def test_threads_and_memory_stay_flat(watched: Watched) -> None:
    grown = Counter(watched.end.thread_names) - Counter(watched.steady.thread_names)
    assert watched.end.threads <= watched.steady.threads + 2, f"threads that appeared: {dict(grown)}"
    assert watched.end.rss_bytes <= watched.steady.rss_bytes + 64 * 1024**2, (watched.steady.rss_bytes,
                                                                            watched.end.rss_bytes)


def test_a_healed_cluster_is_ok_within_two_rounds(watched: Watched) -> None:
    assert len(watched.after_heal) == 2, "fewer than two rounds after the servers turned healthy"
    second = by_name(watched.after_heal[1])
    assert {name: (second[name].status, second[name].error) for name in DRIPPING.values()} == \
        {name: ("ok", None) for name in DRIPPING.values()}
