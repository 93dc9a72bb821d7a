"""A tiny Lighthouse API for the tests: a stdlib HTTP server on 127.0.0.1, on a free port, in a thread.

It serves the fleets of a JSON file (`harbour.json`) read-only: GET /v1/fleets/<id> and its
/hosts, /services, /replicas. Every request's method is recorded, so a test can show that the
collector only ever reads.
"""
from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.engines import wait_for

FLEETS_FILE = Path(__file__).with_name("harbour.json")
TABLES = ("hosts", "services", "replicas")


class LighthouseServer:
    def __init__(self, fleets: dict[str, dict[str, Any]]):
        self.fleets = fleets
        self.methods: list[str] = []  # of every request received, in order
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="lighthouse-api", daemon=True)

    @classmethod
    def from_file(cls, path: Path = FLEETS_FILE) -> "LighthouseServer":
        return cls(json.loads(path.read_text()))

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, path: str) -> Any:
        """The JSON for a path, or None for 404."""
        parts = path.split("?")[0].strip("/").split("/")
        if len(parts) < 3 or parts[:2] != ["v1", "fleets"] or parts[2] not in self.fleets:
            return None
        fleet = self.fleets[parts[2]]
        if len(parts) == 3:
            return fleet["fleet"]
        return fleet[parts[3]] if len(parts) == 4 and parts[3] in TABLES else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                body = api.answer(self.path)
                data = json.dumps(body if body is not None else {"error": "not found"}).encode()
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                api.methods.append(self.command)  # every answer, 501 for other methods included

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> "LighthouseServer":
        self._thread.start()
        probe = f"{self.url}/v1/fleets/{next(iter(self.fleets))}"
        wait_for(lambda: urllib.request.urlopen(probe, timeout=2).status == 200,
                 timeout_s=10, interval_s=0.1, what="the Lighthouse API to answer")
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
