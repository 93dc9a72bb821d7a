"""The embedded demo fleet: one emulated cluster of each orchestrator that has an emulator.

Started in-process on loopback; the dashboard reads it through the real collectors.
"""
from __future__ import annotations

import logging
from importlib import import_module
from typing import Callable

from sim.demo import DemoCluster

log = logging.getLogger(__name__)

EMULATED = ("kubernetes", "nomad", "marathon", "swarm")


def _demo_factory(orchestrator: str) -> Callable[[int], DemoCluster] | None:
    for module_name in (f"sim.{orchestrator}", f"sim.{orchestrator}.demo"):
        try:
            factory = getattr(import_module(module_name), "demo", None)
        except ImportError:
            continue
        if callable(factory):
            return factory
    return None


def start_demo_fleet(seed: int = 0) -> list[DemoCluster]:
    """Start every available demo cluster; one that fails to start is logged and left out."""
    clusters = []
    for orchestrator in EMULATED:
        factory = _demo_factory(orchestrator)
        if factory is None:
            continue
        try:
            clusters.append(factory(seed))
        except Exception:
            log.exception("demo %s cluster failed to start", orchestrator)
    return clusters
