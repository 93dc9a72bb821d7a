"""The HTTP API at the seed's scale: /api/v1/snapshot of 150,000 instances, served by the real routes.

    .venv/bin/python -m bench.api_scale                            # 5,000 nodes x 30 instances = 150,000
    .venv/bin/python -m bench.api_scale --nodes 500 --requests 5   # a quick look

A FleetRuntime collects one synthetic cluster (bench/synthetic.py) through a scripted source, so the
snapshot is published the way the dashboard publishes it; the API routes (api/server.py) are served by
uvicorn on a loopback port and fetched over HTTP. Measured in the same run:
  - baseline: the same snapshot encoded and gzipped on every request (what serving costs without the
    per-round cache), from a route added for the bench only;
  - first: the first request after a round (encodes and compresses, unless the warm-up already did);
  - cached: later requests, gzip and identity (bytes only: what a client downloads).
Target: a request for the whole snapshot answered in under 1 s. Nothing is compared to a remembered number.
"""
from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import requests
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import collectors  # noqa: F401  (registers the orchestrators, as the entry points do)
from api.published import GZIP_LEVEL
from api.server import Server
from bench.synthetic import synthetic_cluster
from fleet.model import encode_snapshot
from fleet.runtime import FleetRuntime
from fleet.source import ClusterData

TARGET_S = 1.0
CONFIG = "settings:\n  poll_interval_s: 3600\n  demo: false\nclusters:\n  - name: big\n    orchestrator: swarm\n" \
         "    url: tcp://big:2376\n"


class SyntheticSource:
    orchestrator, verify_tls, endpoint = "kubernetes", True, "https://big:6443"

    def __init__(self, name: str, nodes: int, per_node: int):
        self.name = name
        cluster = synthetic_cluster(name, nodes, per_node)
        self.data = ClusterData(version=cluster.version, nodes=cluster.nodes, workloads=cluster.workloads,
                                instances=cluster.instances)

    def collect(self, timeout_s: float) -> ClusterData:
        return self.data

    def secret_values(self) -> list[str]:
        return []

    def close(self) -> None:
        pass


def fetch(url: str, encoding: str) -> tuple[float, int]:
    started = time.perf_counter()
    answer = requests.get(url, headers={"Accept-Encoding": encoding}, stream=True, timeout=120)
    body = answer.raw.read(decode_content=False)
    assert answer.status_code == 200, answer.status_code
    return time.perf_counter() - started, len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--per-node", type=int, default=30)
    parser.add_argument("--requests", type=int, default=10)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="podium-api-bench-"))
    (folder / "clusters.yaml").write_text(CONFIG.replace("demo: false\n", f"demo: false\n  history_dir: {folder}/h\n"))
    source = SyntheticSource("big", args.nodes, args.per_node)
    server = Server(lambda: FleetRuntime(folder / "clusters.yaml", lambda c: source).start())

    def baseline(request: Request) -> Response:  # no cache: encode and compress per request
        raw = encode_snapshot(server.latest(), indent=0)  # type: ignore[arg-type]
        return Response(gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0), media_type="application/json",
                        headers={"Content-Encoding": "gzip"})

    app = Starlette(routes=[Route("/baseline", baseline), *server.routes()], lifespan=server.lifespan)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    http = uvicorn.Server(config)
    thread = threading.Thread(target=http.run, daemon=True)
    thread.start()
    while not http.started:
        time.sleep(0.05)
    port = http.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    try:
        while requests.get(base + "/readyz", timeout=30).status_code != 200:
            time.sleep(0.1)
        instances = sum(len(c.instances) for c in server.latest().clusters)  # type: ignore[union-attr]
        first, first_bytes = fetch(base + "/api/v1/snapshot", "gzip")
        baselines = [fetch(base + "/baseline", "gzip")[0] for _ in range(max(2, args.requests // 3))]
        cached_gzip = [fetch(base + "/api/v1/snapshot", "gzip")[0] for _ in range(args.requests)]
        cached_raw = [fetch(base + "/api/v1/snapshot", "identity") for _ in range(args.requests)]
    finally:
        http.should_exit = True
        thread.join(timeout=30)
        server.runtime.stop()  # type: ignore[union-attr]
        shutil.rmtree(folder, ignore_errors=True)

    baseline_s = statistics.mean(baselines)
    print(f"/api/v1/snapshot of {instances:,} instances ({args.nodes:,} nodes): "
          f"{first_bytes / 2**20:.1f} MiB gzip, {cached_raw[0][1] / 2**20:.1f} MiB identity")
    print(f"  baseline (encode + gzip per request): mean {baseline_s:.3f}s")
    print(f"  first request after the round:        {first:.3f}s ({first / baseline_s:.2f}x baseline)")
    for label, times in (("cached, gzip", cached_gzip), ("cached, identity", [t for t, _ in cached_raw])):
        mean, worst = statistics.mean(times), max(times)
        print(f"  {label:<37} mean {mean:.3f}s, slowest {worst:.3f}s ({mean / baseline_s:.2f}x baseline; "
              f"target < {TARGET_S:g}s: {'met' if worst < TARGET_S else 'MISSED'})")


if __name__ == "__main__":
    main()
