"""The demo fleet's contract: each emulator package offers `demo(seed) -> DemoCluster`.

The dashboard starts these in-process on loopback when no clusters are configured and reads
them through the real collectors, exactly as it would read a production cluster.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.httpserver import EmulatorServer


@dataclass
class DemoCluster:
    name: str
    # one clusters.yaml entry (name, orchestrator, url, ...); secrets only by env var name
    config: dict[str, Any]
    servers: list[EmulatorServer] = field(default_factory=list)
    # environment variables the entry refers to (e.g. a demo token); set before loading the config
    environ: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
