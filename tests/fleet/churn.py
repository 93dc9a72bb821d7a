"""Random sequences of rounds for the history tests: every kind of change a collector can report.

Each round is a fresh copy of the one before (decoded from its JSON, so values have their model
types) with random changes: items changed, removed, added anywhere, reordered; repeated ids and
repeated events (stored whole); clusters appearing, vanishing, changing status; times in UTC or
with an offset. `rounds(seed, count)` gives the same sequence for the same seed, in any process.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Iterator

import msgspec

from fleet.model import Cluster, Event, Instance, Node, Snapshot, Workload, decode_snapshot, encode_snapshot

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
STATES = ("running", "pending", "failed", "succeeded", "stopped", "unknown")


def node(rng: random.Random, cluster: str, n: int) -> Node:
    return Node(id=f"{cluster}-n{n}", name=f"node-{n}", status=rng.choice(("ready", "ready", "not_ready")),
                schedulable=rng.random() > 0.1, zone=f"z{n % 3}", cpu_capacity_cores=float(rng.choice((4, 8, 16))),
                cpu_allocatable_cores=3.5, mem_capacity_bytes=2**33, labels={"pool": f"p{n % 2}"})


def workload(rng: random.Random, cluster: str, n: int) -> Workload:
    return Workload(id=f"{cluster}-w{n}", name=f"app-{n}", kind="Deployment", desired=rng.randint(1, 5),
                    running=rng.randint(0, 5), images=[f"app:{rng.randint(1, 3)}"], cpu_request_cores=0.25)


def instance(rng: random.Random, cluster: str, n: int, when: datetime) -> Instance:
    return Instance(id=f"{cluster}-i{n}", name=f"app-{n}", workload_id=f"{cluster}-w{n % 7}",
                    node_id=f"{cluster}-n{n % 9}", state=rng.choice(STATES), restarts=rng.randint(0, 3),
                    started_at=when - timedelta(seconds=rng.randint(0, 9999)))


def event(rng: random.Random, when: datetime) -> Event:
    return Event(time=when, severity=rng.choice(("info", "warning", "error")), object=f"pod/app-{rng.randint(0, 9)}",
                 reason=rng.choice(("BackOff", "Failed", "Killing")), message=f"try {rng.randint(0, 3)}")


class Fleet:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.serial = 0
        self.when = T0

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def cluster(self, name: str) -> Cluster:
        rng = self.rng
        return Cluster(name=name, orchestrator=rng.choice(("kubernetes", "nomad")), endpoint=f"https://{name}",
                       status="ok", collected_at=self.when,
                       nodes=[node(rng, name, self.next_serial()) for _ in range(rng.randint(0, 9))],
                       workloads=[workload(rng, name, self.next_serial()) for _ in range(rng.randint(0, 7))],
                       instances=[instance(rng, name, self.next_serial(), self.when) for _ in range(rng.randint(0, 30))],
                       events=[event(rng, self.when) for _ in range(rng.randint(0, 4))])

    def first(self) -> Snapshot:
        return Snapshot(taken_at=self.when, clusters=[self.cluster(f"c{i}") for i in range(3)])

    def next(self, previous: Snapshot) -> Snapshot:
        rng = self.rng
        self.when += timedelta(seconds=15)
        taken_at = self.when if rng.random() > 0.2 else self.when.astimezone(timezone(timedelta(hours=2)))
        snapshot = decode_snapshot(encode_snapshot(previous, indent=0))
        snapshot.taken_at = taken_at
        for cluster in snapshot.clusters:
            self.churn(cluster)
        if rng.random() < 0.1 and snapshot.clusters:
            snapshot.clusters.pop(rng.randrange(len(snapshot.clusters)))
        if rng.random() < 0.1:
            snapshot.clusters.insert(rng.randint(0, len(snapshot.clusters)), self.cluster(f"c{self.next_serial()}"))
        if rng.random() < 0.05:
            rng.shuffle(snapshot.clusters)
        return snapshot

    def churn(self, cluster: Cluster) -> None:
        rng = self.rng
        cluster.collected_at = self.when
        if rng.random() < 0.2:
            cluster.status, cluster.error = rng.choice((("ok", None), ("unreachable", "timed out"), ("degraded", "x")))
        for i in rng.sample(range(len(cluster.instances)), k=min(3, len(cluster.instances))):
            cluster.instances[i] = msgspec.structs.replace(cluster.instances[i], state=rng.choice(STATES),
                                                           restarts=cluster.instances[i].restarts + 1)
        self.remove_and_add(cluster.instances, lambda: instance(rng, cluster.name, self.next_serial(), self.when))
        self.remove_and_add(cluster.nodes, lambda: node(rng, cluster.name, self.next_serial()))
        self.remove_and_add(cluster.workloads, lambda: workload(rng, cluster.name, self.next_serial()))
        if cluster.nodes and rng.random() < 0.3:
            target = rng.randrange(len(cluster.nodes))
            cluster.nodes[target] = msgspec.structs.replace(cluster.nodes[target], status="down", labels={})
        if rng.random() < 0.1 and len(cluster.instances) > 2:  # a collector that lists in another order
            chunk = rng.randrange(len(cluster.instances) - 1)
            cluster.instances[chunk:] = rng.sample(cluster.instances[chunk:], k=len(cluster.instances) - chunk)
        if rng.random() < 0.05 and cluster.instances:  # a repeated id: that list is stored whole
            cluster.instances.append(rng.choice(cluster.instances))
        cluster.events[:0] = [event(rng, self.when) for _ in range(rng.randint(0, 3))]
        if rng.random() < 0.1 and cluster.events:
            cluster.events.append(cluster.events[0])  # the same event twice
        del cluster.events[12:]

    def remove_and_add(self, items: list, make) -> None:
        rng = self.rng
        for _ in range(rng.randint(0, 2)):
            if items:
                items.pop(rng.randrange(len(items)))
        for _ in range(rng.randint(0, 2)):
            items.insert(rng.randint(0, len(items)), make())


def rounds(seed: int, count: int) -> Iterator[Snapshot]:
    fleet = Fleet(seed)
    current = fleet.first()
    for _ in range(count):
        yield current
        current = fleet.next(current)
