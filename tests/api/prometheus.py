"""A real Prometheus (Debian's `prometheus`) with a throwaway data dir on a loopback port, scraping once a second."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import requests

from tests.engines import free_port, require_tool, stop_process_group, wait_for


class Prometheus:
    def __init__(self, target: str, *, bearer_token: str | None = None):
        self.root = Path(tempfile.mkdtemp(prefix="pd-prom-", dir="/tmp"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        job: dict = {"job_name": "podium", "metrics_path": "/metrics", "static_configs": [{"targets": [target]}]}
        if bearer_token:
            (self.root / "token").write_text(bearer_token)
            job["authorization"] = {"type": "Bearer", "credentials_file": str(self.root / "token")}
        # JSON is YAML: Prometheus reads it as its config file
        (self.root / "prometheus.yml").write_text(json.dumps(
            {"global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
             "scrape_configs": [job]}))
        self.process: subprocess.Popen | None = None

    def start(self) -> "Prometheus":
        binary = require_tool("prometheus", "the metrics test scrapes the dashboard with a real Prometheus")
        self.process = subprocess.Popen(
            [binary, f"--config.file={self.root / 'prometheus.yml'}", f"--storage.tsdb.path={self.root / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=open(self.root / "prometheus.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)

        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited: {(self.root / 'prometheus.log').read_text()[-2000:]}")
            return requests.get(self.url + "/-/ready", timeout=2).status_code == 200
        wait_for(ready, timeout_s=60, what="prometheus to be ready")
        return self

    def query(self, promql: str) -> dict[tuple[tuple[str, str], ...], float]:
        """An instant query's result: labels (without __name__, job, instance) → value."""
        answer = requests.get(self.url + "/api/v1/query", params={"query": promql}, timeout=10).json()
        assert answer["status"] == "success", answer
        found = {}
        for item in answer["data"]["result"]:
            labels = {k: v for k, v in item["metric"].items() if k not in ("__name__", "job", "instance")}
            found[tuple(sorted(labels.items()))] = float(item["value"][1])
        return found

    def target_health(self) -> list[dict]:
        return requests.get(self.url + "/api/v1/targets", timeout=10).json()["data"]["activeTargets"]

    def stop(self) -> None:
        stop_process_group(self.process, grace_s=10)
        shutil.rmtree(self.root, ignore_errors=True)
