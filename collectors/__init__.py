"""Collectors: one package per orchestrator, each declaring its facts (`<name>/facts.py`).

Importing this package registers every orchestrator with the core (fleet/orchestrators.py): the
one place that lists them. `build_collector` builds the collector a cluster config names; an
orchestrator's collector module is imported only when a cluster uses it.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from collectors.kubernetes.facts import FACTS as KUBERNETES
from collectors.marathon.facts import FACTS as MARATHON
from collectors.nomad.facts import FACTS as NOMAD
from collectors.swarm.facts import FACTS as SWARM
from fleet import orchestrators
from fleet.source import Source

if TYPE_CHECKING:  # not imported at run time: worker processes import collectors without the config loader
    from fleet.config import ClusterConfig

BUILT_IN = (KUBERNETES, SWARM, NOMAD, MARATHON)
for _facts in BUILT_IN:
    orchestrators.register(_facts)


def build_collector(config: ClusterConfig) -> Source:
    facts = orchestrators.facts_of(config.orchestrator)
    if facts is None:  # config validation names the known ones; this is a programming error
        raise ValueError(f"no collector registered for orchestrator {config.orchestrator!r}")
    module_name, class_name = facts.collector.split(":")
    return getattr(import_module(module_name), class_name)(config)
