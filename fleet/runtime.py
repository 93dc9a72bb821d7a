"""The dashboard's one fleet per process: the config it was started with and its poller.

Built by the entry point (app.py), which injects the collector factory, so the core still
knows no orchestrator.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fleet.config import DEFAULT_CONFIG_PATH, ConfigError, FleetConfig, load_config
from fleet.model import Snapshot
from fleet.poller import Poller
from fleet.source import Source

log = logging.getLogger(__name__)

CONFIG_ENV = "PODIUM_CONFIG"


def config_path_from_env() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)


@dataclass
class FleetRuntime:
    config_path: Path
    config: FleetConfig | None = None
    config_error: ConfigError | None = None
    poller: Poller | None = None

    @property
    def configured(self) -> bool:
        return self.config is not None and bool(self.config.clusters)

    def snapshot(self) -> Snapshot | None:
        return self.poller.snapshot() if self.poller else None

    def stop(self) -> None:
        if self.poller:
            self.poller.stop()


def start_runtime(path: Path, build: Callable[..., Source]) -> FleetRuntime:
    """Load the config and start polling in the background; a broken or missing config is reported."""
    runtime = FleetRuntime(config_path=path)
    if not path.exists():
        return runtime
    try:
        runtime.config = load_config(path)
    except ConfigError as exc:
        log.error("invalid config %s:\n%s", path, exc)
        runtime.config_error = exc
        return runtime
    if runtime.config.clusters:
        sources = [build(cluster) for cluster in runtime.config.clusters]
        runtime.poller = Poller(sources, runtime.config.settings).start()
    return runtime
