"""A throwaway Alertmanager (Debian's prometheus-alertmanager) routing every alert to a webhook
receiver served by the test, and that receiver.

Storage in a temp dir, loopback ports, clustering off; `group_wait: 0s` and a short
`group_interval` so notifications follow changes quickly. A missing binary skips the tests, or
fails them under PODIUM_REQUIRE_ENGINES=1 (`make test` installs the package).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from tests.engines import free_port, require_tool, stop_process_group, wait_for

CONFIG = """route:
  receiver: test
  group_by: [alertname, cluster, node]
  group_wait: 0s
  group_interval: {group_interval}
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: {hook}
        send_resolved: true
"""


class Receiver:
    """Collects the JSON bodies POSTed to it (Alertmanager's webhook notifications)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
                with lock:
                    outer.bodies.append(body)
                    outer.headers.append(dict(self.headers))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def with_status(self, status: str) -> list[dict]:
        return [b for b in list(self.bodies) if b.get("status") == status]


class Alertmanager:
    def __init__(self, hook_url: str, *, group_interval: str = "1s") -> None:
        self.binary = require_tool("prometheus-alertmanager", "the alert tests run a real Alertmanager "
                                                              "(Debian package prometheus-alertmanager)")
        self.root = Path(tempfile.mkdtemp(prefix="pd-am-", dir="/tmp"))
        self.port = free_port()
        (self.root / "alertmanager.yml").write_text(CONFIG.format(hook=hook_url, group_interval=group_interval))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Alertmanager":
        self.process = subprocess.Popen(
            [self.binary, f"--config.file={self.root / 'alertmanager.yml'}", f"--storage.path={self.root / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=", "--log.level=warn"],
            stdout=open(self.root / "log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self.ready, timeout_s=60, what=f"Alertmanager on {self.url} (log: {self.root / 'log'})")
        return self

    def ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"Alertmanager exited: {(self.root / 'log').read_text()[-2000:]}")
        return requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200

    def alerts(self) -> list[dict]:
        """What Alertmanager holds now (GET /api/v2/alerts)."""
        return requests.get(f"{self.url}/api/v2/alerts", timeout=5).json()

    def stop(self) -> None:
        stop_process_group(self.process, grace_s=10)
        shutil.rmtree(self.root, ignore_errors=True)
