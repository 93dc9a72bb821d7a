"""A real dashboard (`streamlit run app.py`) over emulated clusters of every orchestrator, for the API
tests that need the whole process: the emulators run in the test process, the dashboard in its own."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from sim.demo import DemoCluster
from sim.fleet import start_demo_fleet
from tests.engines import StreamlitServer, wait_for

ROOT = Path(__file__).resolve().parents[2]
DEAD = {"name": "lost", "orchestrator": "kubernetes", "url": "http://127.0.0.1:9", "token_env": "PODIUM_TEST_LOST"}


@dataclass
class Dashboard:
    server: StreamlitServer
    emulators: list[DemoCluster]
    token: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url.rstrip("/")

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return requests.get(self.url + path, headers=headers, timeout=30, **kwargs)

    def wait_ready(self) -> "Dashboard":
        wait_for(lambda: self.get("/readyz").status_code == 200, timeout_s=90, what="/readyz to turn 200")
        return self

    def stop(self) -> None:
        self.server.stop()
        for emulator in self.emulators:
            emulator.stop()


def start_dashboard(folder: Path, *, swarm_url: str | None = None, settings: dict[str, Any] | None = None,
                    token: str | None = None, env: dict[str, str] | None = None) -> Dashboard:
    """Emulated Kubernetes, Nomad and Marathon clusters, the real Swarm at `swarm_url` when given, and one
    dead cluster; the config is JSON (which is YAML)."""
    emulators = start_demo_fleet()
    clusters = [e.config for e in emulators] + [DEAD]
    if swarm_url:
        clusters.append({"name": "real-swarm", "orchestrator": "swarm", "url": swarm_url})
    config = folder / "clusters.yaml"
    config.write_text(json.dumps({"settings": {"poll_interval_s": 600, "timeout_s": 3, "demo": False,
                                               "history_dir": str(folder / "history"), **(settings or {})},
                                  "clusters": clusters}, indent=2))
    environ = {key: value for e in emulators for key, value in e.environ.items()}
    environ.update({"PODIUM_CONFIG": str(config), "PODIUM_TEST_LOST": "lost-cluster-canary-5c1d"}, **(env or {}))
    try:
        server = StreamlitServer(ROOT, environ).start()
    except BaseException:
        for emulator in emulators:
            emulator.stop()
        raise
    return Dashboard(server, emulators, token, environ)
