"""Collectors: one module per orchestrator. `build_collector` picks the one a cluster config names."""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from fleet.source import Source

if TYPE_CHECKING:  # not imported at run time: worker processes import collectors without the config loader
    from fleet.config import ClusterConfig

# orchestrator -> "module:Class"; a module is imported only when a cluster uses it
REGISTRY: dict[str, str] = {
    "swarm": "collectors.swarm.fetch:SwarmCollector",
    "marathon": "collectors.marathon.fetch:MarathonCollector",
    "kubernetes": "collectors.kubernetes.fetch:KubernetesCollector",
    "nomad": "collectors.nomad.fetch:NomadCollector",
}


class NotAvailable:
    """Stands in for a collector that has not been built yet: the cluster shows a clear error."""

    def __init__(self, config: ClusterConfig, message: str):
        self.name, self.orchestrator, self.endpoint = config.name, config.orchestrator, config.endpoint
        self.message = message

    def collect(self, timeout_s: float):
        from fleet.source import UpstreamError

        raise UpstreamError(self.message)

    def close(self) -> None:
        pass


def build_collector(config: ClusterConfig) -> Source:
    target = REGISTRY.get(config.orchestrator)
    if target is None:
        return NotAvailable(config, f"Podium has no {config.orchestrator} collector in this version")
    module_name, class_name = target.split(":")
    cls = getattr(import_module(module_name), class_name)
    return cls(config)
