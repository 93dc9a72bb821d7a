"""After each round the API builds again only the answers requests asked for lately."""
from __future__ import annotations

import gzip
import json

from api import published
from api.published import Publisher
from fleet.analysis import analyze
from fleet.model import Snapshot
from tests.fleet.snapshot_builder import T0, ClusterBuilder


def snapshot(minute: int) -> Snapshot:
    cluster = ClusterBuilder(name="alpha").node("a", cpu=4.0).workload("web", on=["a"], cpu=1.0).build()
    return Snapshot(taken_at=T0.replace(minute=minute), clusters=[cluster])


def warmed(publisher: Publisher, round_: Snapshot) -> set[tuple[str, str]]:
    publisher.warm(round_)
    if publisher._warming is not None:
        publisher._warming.join(10)
    return set(publisher.of(round_)._bodies)


def test_nothing_is_encoded_after_a_round_until_a_request_asks():
    latest = [snapshot(0)]
    publisher = Publisher(lambda: latest[0], analyze)
    assert warmed(publisher, latest[0]) == set()
    body = publisher.current().whole()
    assert json.loads(gzip.decompress(body.gzipped))["clusters"][0]["name"] == "alpha"
    latest[0] = snapshot(1)
    assert warmed(publisher, latest[0]) == {("snapshot", "")}  # asked for last round: ready before it is asked


def test_an_answer_not_asked_for_lately_is_no_longer_built_every_round(monkeypatch):
    latest = [snapshot(0)]
    publisher = Publisher(lambda: latest[0], analyze)
    publisher.current().whole()
    publisher.current().cluster("alpha")
    latest[0] = snapshot(1)
    assert warmed(publisher, latest[0]) == {("snapshot", ""), ("cluster", "alpha")}
    monkeypatch.setattr(published, "WARM_FOR_S", 0.0)  # time has passed: only the warm-up asked since
    latest[0] = snapshot(2)
    assert warmed(publisher, latest[0]) == set()
