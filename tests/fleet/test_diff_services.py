"""`fleet diff` on services: added, removed, changed (status, backends, addresses, ports) and the
"no ready backend" problem, from the hand-built services snapshot."""
from __future__ import annotations

from pathlib import Path

import msgspec

from fleet.diff import diff_snapshots, to_text
from fleet.model import Port, Service, decode_snapshot

SNAPSHOT = Path(__file__).parents[1] / "views" / "snapshots" / "services-fleet.json"


def pair():
    old = decode_snapshot(SNAPSHOT.read_bytes())
    new = decode_snapshot(SNAPSHOT.read_bytes())
    nomad = new.clusters[0]
    checkout = next(s for s in nomad.services if s.name == "checkout-http")
    checkout.backends_total = checkout.backends_ready = 2
    checkout.status = "ok"
    nomad.services = [s for s in nomad.services if s.name != "api-http"]
    nomad.services.append(Service(id="eu/default/cart-http", name="cart-http", namespace="default", kind="nomad",
                                  status="down"))
    new.clusters[1].services[0] = msgspec.structs.replace(new.clusters[1].services[0],
                                                          ports=[Port(port=80, published=30081)])
    return old, new


def test_services_added_removed_and_changed():
    diff = diff_snapshots(*pair())
    nomad, swarm = diff.clusters
    assert (nomad.services_added, nomad.services_removed) == (["nomad/default/cart-http"], ["consul/default/api-http"])
    assert [(c.name, c.before, c.after) for c in nomad.services_changed] == [
        ("nomad/default/checkout-http", "down, 0/0 ready", "ok, 2/2 ready")]
    assert [(c.before, c.after) for c in swarm.services_changed] == [
        ("degraded, 1/2 ready, 10.255.0.5, 80/tcp:30080", "degraded, 1/2 ready, 10.255.0.5, 80/tcp:30081")]


def test_a_service_losing_its_last_ready_backend_is_a_new_problem_and_recovery_resolves_it():
    nomad = diff_snapshots(*pair()).clusters[0]
    assert "service nomad/default/cart-http has no ready backend" in nomad.problems_new
    assert "service nomad/default/checkout-http has no ready backend" in nomad.problems_resolved


def test_text_has_one_line_per_service_change():
    lines = to_text(diff_snapshots(*pair())).splitlines()
    for line in ("  + service nomad/default/cart-http", "  - service consul/default/api-http",
                 "  ~ service nomad/default/checkout-http down, 0/0 ready -> ok, 2/2 ready"):
        assert line in lines


def test_unchanged_services_are_no_change():
    old = decode_snapshot(SNAPSHOT.read_bytes())
    assert diff_snapshots(old, decode_snapshot(SNAPSHOT.read_bytes())).unchanged
