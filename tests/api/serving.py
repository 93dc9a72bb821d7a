"""The API of a dashboard process over a scripted fleet, served by uvicorn on a loopback port.

The same Server (api/server.py) and routes as `streamlit run app.py`, without the pages: its
lifespan starts the runtime, as the real server's does, and requests go over real HTTP.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

import requests
import uvicorn
from starlette.applications import Starlette

from api.server import Server
from fleet.config import ClusterConfig
from fleet.runtime import FleetRuntime
from fleet.source import Source
from tests.engines import free_port, wait_for


class ApiServer:
    def __init__(self, config: Path, build: Callable[[ClusterConfig], Source]):
        self.server = Server(lambda: FleetRuntime(config, build).start())
        app = Starlette(routes=self.server.routes(), lifespan=self.server.lifespan)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._uvicorn = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                      lifespan="on"))
        self._thread = threading.Thread(target=self._uvicorn.run, name="api-test-server", daemon=True)

    def start(self) -> "ApiServer":
        self._thread.start()
        wait_for(lambda: self._uvicorn.started, timeout_s=30, what="the API server to start")
        return self

    def wait_ready(self) -> "ApiServer":
        wait_for(lambda: self.get("/readyz").status_code == 200, timeout_s=30, what="/readyz to turn 200")
        return self

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=10, **kwargs)

    def stop(self) -> None:
        self._uvicorn.should_exit = True
        self._thread.join(timeout=30)
