"""Several replicas on one PostgreSQL history: one poller, failover, fencing, clusters split between replicas.

The lease and fencing tests run in-process against a real PostgreSQL; the replica tests start real
processes (tests/fleet/ha_replica.py: the dashboard's FleetRuntime without a browser) and count
collections per replica and requests at the Nomad emulator.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from fleet.ha.assign import SPLIT_FROM, owners
from fleet.ha.coordinator import Coordinator
from fleet.ha.leases import LEADER, FencedOut, LeaseTable, check_fence
from fleet.model import utc_now
from fleet.store import open_postgres
from sim.nomad import build, start
from tests.fleet.snapshot_builder import ClusterBuilder, snapshot

ROOT = Path(__file__).resolve().parents[2]
INTERVAL_S = 3.0  # poll interval of the replica tests; the lease lasts as long (fleet/ha: MIN_LEASE_S)


def small_snapshot(minutes: int = 0):
    """Taken now (+ minutes): the history's retention drops rounds older than its age limit."""
    return snapshot(ClusterBuilder("c1").node("n1").build(), taken_at=utc_now() + timedelta(minutes=minutes))


def connector(url: str):
    return lambda: psycopg.connect(url, autocommit=True)


# -- leases and fencing, in-process --------------------------------------------------------------------


def test_a_lease_is_held_by_one_replica_and_its_fence_rises_when_it_changes_hands(postgres_url):
    leases = LeaseTable(connector(postgres_url))
    first = leases.acquire("leader", "a", 0.5)
    assert first is not None
    assert leases.acquire("leader", "b", 0.5) is None, "an unexpired lease belongs to its holder"
    assert leases.acquire("leader", "a", 0.5) == first, "renewing keeps the fence"
    time.sleep(0.7)
    taken = leases.acquire("leader", "b", 5)
    assert taken == first + 1
    assert leases.holder("leader").holder == "b"
    leases.release("leader", "b")
    assert leases.holder("leader") is None
    assert leases.acquire("leader", "c", 5) == first + 2


def test_a_write_under_a_lost_lease_is_refused(postgres_url):
    leases = LeaseTable(connector(postgres_url))
    fence = leases.acquire("leader", "a", 0.3)
    with psycopg.connect(postgres_url, autocommit=True) as connection, connection.transaction():
        check_fence(connection.cursor(), "leader", "a", fence)  # still held: allowed
    time.sleep(0.5)
    with psycopg.connect(postgres_url, autocommit=True) as connection, connection.transaction():
        with pytest.raises(FencedOut):
            check_fence(connection.cursor(), "leader", "a", fence)  # expired, even though nobody took it
    leases.acquire("leader", "b", 5)
    with psycopg.connect(postgres_url, autocommit=True) as connection, connection.transaction():
        with pytest.raises(FencedOut):
            check_fence(connection.cursor(), "leader", "a", fence)


def test_a_leader_frozen_past_its_lease_cannot_store_a_round_when_it_wakes(postgres_url):
    """A frozen VM's monotonic clock stands still: the replica still believes it leads; the database refuses it."""
    store_a, store_b = open_postgres(postgres_url), open_postgres(postgres_url)
    a = Coordinator(connector(postgres_url), store_a, ["c1"], 1.0, replica="a")
    b = Coordinator(connector(postgres_url), store_b, ["c1"], 1.0, replica="b")
    a.lease_s = b.lease_s = 1.0
    a.tick()
    b.tick()
    assert a.status().role == "leader" and b.status().role == "follower" and b.status().leader == "a"
    snapshot = small_snapshot()
    a.round_finished(snapshot)
    assert a.problem is None
    assert len(store_a.list_snapshots()) == 1
    time.sleep(1.2)  # a is frozen: no tick; its lease runs out
    b.tick()
    assert b.status().role == "leader"
    a._leader_until = time.monotonic() + 60  # what a frozen clock makes a believe
    a.round_finished(small_snapshot(minutes=1))
    assert len(store_a.list_snapshots()) == 1, "the stale leader's round was written"
    assert a.status().role == "follower", "a refused leader steps down"
    b.round_finished(small_snapshot(minutes=2))
    assert len(store_b.list_snapshots()) == 2


# -- which replica polls which cluster (pure) ----------------------------------------------------------


def test_a_small_fleet_is_polled_by_the_leader_alone():
    clusters = [f"c{i}" for i in range(SPLIT_FROM - 1)]
    assert set(owners(clusters, ["r1", "r2", "r3"], "r2").values()) == {"r2"}


def test_a_large_fleet_is_split_and_a_leaving_replica_moves_only_its_own_clusters():
    clusters = [f"cluster-{i}" for i in range(200)]
    before = owners(clusters, ["r1", "r2", "r3"], "r1")
    counts = Counter(before.values())
    assert set(counts) == {"r1", "r2", "r3"} and min(counts.values()) > 40
    after = owners(clusters, ["r1", "r3"], "r1")
    moved = {c for c in clusters if before[c] != after[c]}
    assert moved == {c for c in clusters if before[c] == "r2"}


# -- replica processes ---------------------------------------------------------------------------------


class Replicas:
    def __init__(self, tmp_path: Path, url: str, clusters: list[dict], names: list[str]):
        self.dir = tmp_path
        self.url = url
        config = {"settings": {"poll_interval_s": INTERVAL_S, "timeout_s": 2, "history_db_url_env": "PODIUM_TEST_PG"},
                  "clusters": clusters}
        self.config = tmp_path / "clusters.yaml"
        self.config.write_text(json.dumps(config))  # JSON is YAML
        self.processes = {name: self._start(name) for name in names}

    def _start(self, name: str) -> subprocess.Popen:
        env = {**os.environ, "PODIUM_TEST_PG": self.url, "PODIUM_REPLICA": name}
        return subprocess.Popen([sys.executable, "-m", "tests.fleet.ha_replica", str(self.config), str(self.dir)],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(self.dir / f"{name}.err", "w"))

    def status(self, name: str) -> dict:
        path = self.dir / f"{name}.status"
        return json.loads(path.read_text()) if path.exists() else {}

    def collections(self, name: str) -> list[tuple[str, float]]:
        path = self.dir / f"{name}.collections"
        if not path.exists():
            return []
        return [(line.split()[0], float(line.split()[1])) for line in path.read_text().splitlines() if line.strip()]

    def wait_for(self, what: str, condition, timeout_s: float = 60):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = condition()
            if found:
                return found
            time.sleep(0.2)
        errors = {n: (self.dir / f"{n}.err").read_text()[-2000:] for n in self.processes}
        raise AssertionError(f"timed out waiting for {what}; statuses "
                             f"{ {n: self.status(n) for n in self.processes} }; stderr {errors}")

    def leader(self, among: list[str] | None = None) -> str | None:
        leaders = [n for n in (among or self.processes) if self.status(n).get("role") == "leader"]
        return leaders[0] if len(leaders) == 1 else None

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.kill()
                process.wait(10)


def stored_rounds(url: str) -> list[float]:
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute("SELECT taken_at_s FROM podium_snapshots ORDER BY id").fetchall()
    return [r[0] for r in rows]


def live_replicas(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as connection:
        return [r[0] for r in connection.execute("SELECT id FROM podium_replicas WHERE expires_at > now()")]


def cluster_holders(url: str) -> dict[str, str]:
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute("SELECT name, holder FROM podium_leases WHERE name LIKE 'cluster:%' "
                                  "AND expires_at > now()").fetchall()
    return {name.removeprefix("cluster:"): holder for name, holder in rows}


@pytest.fixture
def nomad():
    cluster = start(build(1, regions=1, datacenters=1, nodes=3, jobs=2, allocs_per_job=1))
    yield cluster
    cluster.stop()


def nomad_entry(nomad) -> dict:
    return {"name": "batch", "orchestrator": "nomad", "url": nomad.url}


@pytest.mark.replicas
def test_three_replicas_one_collects_and_a_killed_leader_is_replaced_without_a_gap(tmp_path, postgres_url, nomad):
    replicas = Replicas(tmp_path, postgres_url, [nomad_entry(nomad)], ["r1", "r2", "r3"])
    try:
        replicas.wait_for("a leader", replicas.leader)
        replicas.wait_for("four stored rounds", lambda: len(stored_rounds(postgres_url)) >= 4)
        first = replicas.leader()
        followers = [n for n in replicas.processes if n != first]
        replicas.wait_for("followers naming the leader",
                          lambda: all(replicas.status(n).get("leader") == first for n in followers))
        assert replicas.collections(first) and not any(replicas.collections(n) for n in followers)
        server = nomad.servers[0]
        before = len(server.requests)
        rounds_before = len(stored_rounds(postgres_url))
        replicas.wait_for("three more rounds", lambda: len(stored_rounds(postgres_url)) >= rounds_before + 3)
        per_round = (len(server.requests) - before) / (len(stored_rounds(postgres_url)) - rounds_before)
        single = len(replicas.collections(first))
        assert per_round <= 1.5 * len(server.requests) / single, "the emulator saw more than one replica's polling"

        replicas.processes[first].kill()  # kill -9
        killed_at = time.time()
        second = replicas.wait_for("a new leader", lambda: replicas.leader(followers))
        replicas.wait_for("two rounds by the new leader",
                          lambda: len([t for t in stored_rounds(postgres_url) if t > killed_at]) >= 2)
        rounds = stored_rounds(postgres_url)
        gaps = [b - a for a, b in zip(rounds, rounds[1:])]
        assert max(gaps) <= 3 * INTERVAL_S + 2, f"a gap in the stored rounds: {gaps}"
        assert min(gaps) >= INTERVAL_S / 2, f"a round written twice: {gaps}"
        third = [n for n in followers if n != second][0]
        assert not replicas.collections(third), "a follower polled"
    finally:
        replicas.stop()


@pytest.mark.replicas
def test_a_paused_leader_that_wakes_up_writes_no_round(tmp_path, postgres_url, nomad):
    replicas = Replicas(tmp_path, postgres_url, [nomad_entry(nomad)], ["r1", "r2"])
    try:
        first = replicas.wait_for("a leader", replicas.leader)
        other = "r2" if first == "r1" else "r1"
        replicas.wait_for("two stored rounds", lambda: len(stored_rounds(postgres_url)) >= 2)
        os.kill(replicas.processes[first].pid, signal.SIGSTOP)
        replicas.wait_for("the other replica to lead", lambda: replicas.status(other).get("role") == "leader")
        time.sleep(INTERVAL_S)
        os.kill(replicas.processes[first].pid, signal.SIGCONT)
        woke = time.time()
        replicas.wait_for("the woken replica to follow", lambda: replicas.status(first).get("role") == "follower"
                          and replicas.status(first).get("leader") == other)
        replicas.wait_for("two rounds after waking", lambda: len([t for t in stored_rounds(postgres_url)
                                                                 if t > woke]) >= 2)
        rounds = stored_rounds(postgres_url)
        gaps = [b - a for a, b in zip(rounds, rounds[1:])]
        assert min(gaps) >= INTERVAL_S / 2, f"two replicas wrote rounds at once: {gaps}"
        assert replicas.status(other).get("role") == "leader"
    finally:
        replicas.stop()


@pytest.mark.replicas
def test_two_hundred_clusters_are_split_across_three_replicas_and_rebalanced_when_one_leaves(tmp_path,
                                                                                              postgres_url, nomad):
    # sockets that do not exist fail at once: every replica's polling is visible, nothing loads the machine;
    # the one real cluster makes the rounds worth storing (a round with nothing collected is not kept)
    clusters = [nomad_entry(nomad)] + [{"name": f"swarm-{i:03}", "orchestrator": "swarm",
                                        "url": f"unix:///nonexistent/podium-{i}.sock"} for i in range(199)]
    replicas = Replicas(tmp_path, postgres_url, clusters, ["r1", "r2", "r3"])
    names = [c["name"] for c in clusters]
    try:
        replicas.wait_for("a leader", replicas.leader)

        def polled_by(since: float) -> dict[str, set[str]]:
            seen: dict[str, set[str]] = {}
            for replica in replicas.processes:
                for cluster, at in replicas.collections(replica):
                    if at > since:
                        seen.setdefault(cluster, set()).add(replica)
            return seen

        replicas.wait_for("three live replicas", lambda: len(live_replicas(postgres_url)) == 3)
        time.sleep(2 * INTERVAL_S)  # the first replica polled everything until the others joined
        since = time.time()
        holders = replicas.wait_for("every cluster leased", lambda: (h := cluster_holders(postgres_url)) and
                                    len(h) == 200 and set(h.values()) == {"r1", "r2", "r3"} and h)
        time.sleep(2 * INTERVAL_S)
        polled = polled_by(since)
        assert polled, "nothing polled"
        assert all(pollers == {holders[n]} for n, pollers in polled.items()), \
            "a cluster polled by a replica that does not hold its lease, or by two"
        latest = open_postgres(postgres_url).latest()
        assert [c.name for c in latest.clusters] == names, "the round is not assembled from every cluster"
        assert latest.clusters[0].status == "ok"
        assert all("no such socket" in (c.error or "") for c in latest.clusters[1:]), "a cluster not collected"

        leaving = "r3" if replicas.leader() != "r3" else "r2"
        moved = [n for n in names if holders[n] == leaving]
        replicas.processes[leaving].terminate()
        replicas.processes[leaving].wait(20)
        left = time.time()
        remaining = {n for n in replicas.processes if n != leaving}
        replicas.wait_for("the leaver's clusters polled by the others",
                          lambda: all(polled_by(left).get(n) for n in moved))
        time.sleep(2 * INTERVAL_S)
        after, now_held = polled_by(left), cluster_holders(postgres_url)
        assert set(now_held.values()) == remaining and len(now_held) == 200
        assert all(after[n] == {now_held[n]} for n in moved), "a moved cluster polled twice"
        assert all(now_held[n] == holders[n] for n in names if n not in moved), "a cluster of a staying replica moved"
        assert all(p == {now_held[n]} for n, p in after.items()), "a cluster polled by two replicas"
        assert {now_held[n] for n in moved} == remaining, "the leaver's clusters were not spread"
    finally:
        replicas.stop()


@pytest.mark.replicas
def test_a_config_saved_through_one_replica_reaches_the_others(tmp_path, postgres_url, nomad):
    replicas = Replicas(tmp_path, postgres_url, [nomad_entry(nomad)], ["r1", "r2"])
    try:
        replicas.wait_for("a leader", replicas.leader)
        replicas.wait_for("a stored round", lambda: stored_rounds(postgres_url))
        config = json.loads(replicas.config.read_text())
        config["clusters"].append({"name": "batch-2", "orchestrator": "nomad", "url": nomad.url})
        saved = tmp_path / "clusters.yaml.tmp"
        saved.write_text(json.dumps(config))
        saved.replace(replicas.config)  # as Settings saves: a whole new file, renamed over the old one
        latest = replicas.wait_for("a round with the new cluster", lambda: (s := open_postgres(postgres_url).latest())
                                   and [c.name for c in s.clusters] == ["batch", "batch-2"]
                                   and s.clusters[1].status == "ok" and s)
        assert latest.clusters[1].nodes
        assert all(replicas.status(n).get("role") in ("leader", "follower") for n in replicas.processes)
        assert sum(replicas.status(n).get("role") == "leader" for n in replicas.processes) == 1
    finally:
        replicas.stop()
