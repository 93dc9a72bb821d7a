"""Swarm at the seed's practical size: Podium's collector beside the docker SDK's high-level path.

    .venv/bin/python -m bench.swarm_scale                                   # 1,000 nodes, 30,000 running tasks, ~150,000 tasks
    .venv/bin/python -m bench.swarm_scale --nodes 100 --services 28         # a tenth of that

The emulator runs in its own process (`python -m sim.swarm`: every object is encoded once, a list
once joined is served again from memory) and is warmed before timing, so what is timed is the
client plus the server answering. Each client runs in a fresh child process, for its own peak RSS.

Podium's path: `SwarmCollector.collect()` (`/version`, `/nodes`, `/services?status=true`, the
tasks in parts of a few services each, read and digested by the collector and its worker process,
and the manager's `/containers/json`, all decoded straight into typed msgspec structs, then
normalized), and its next round when nothing changed. The baseline, measured in the same run on
the same emulator: the docker SDK's high-level objects, `DockerClient.nodes.list()`,
`services.list()` and each service's `.tasks()` (one `/tasks?filters={"service": ...}` request per
service). The two run in interleaved pairs of fresh processes (Podium, then the baseline: three
pairs by default), and the ratio printed is the median of the pairs' ratios (bench/pairs.py).
Printed: seconds, peak RSS and the ratios; compare ratios, not absolute numbers.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402

from bench.memory import peak_rss_mb  # noqa: E402
from bench.pairs import interleaved, median_run, pair_ratios, ratio_text  # noqa: E402


# -- children ---------------------------------------------------------------------------------------
def podium_child(url: str) -> dict[str, Any]:
    from collectors.swarm.fetch import SwarmCollector
    from fleet.config import ClusterConfig

    collector = SwarmCollector(ClusterConfig(name="bench", orchestrator="swarm", url=url))
    started = time.perf_counter()
    data = collector.collect(300.0)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    collector.collect(300.0)  # nothing changed
    steady = time.perf_counter() - started
    collector.close()
    return {"seconds": seconds, "steady_seconds": steady, "nodes": len(data.nodes), "tasks": len(data.instances),
            "workloads": len(data.workloads), "rss_mb": peak_rss_mb()}


def naive_child(url: str) -> dict[str, Any]:
    import docker

    client = docker.DockerClient(base_url=url, version="auto", timeout=300)
    started = time.perf_counter()
    nodes = client.nodes.list()
    services = client.services.list()
    tasks = [task for service in services for task in service.tasks()]
    seconds = time.perf_counter() - started
    client.close()
    return {"seconds": seconds, "nodes": len(nodes), "tasks": len(tasks), "workloads": len(services),
            "rss_mb": peak_rss_mb()}


CHILDREN = {"podium": podium_child, "naive": naive_child}


# -- parent -----------------------------------------------------------------------------------------
def run_child(kind: str, url: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.swarm_scale", "--child", kind, "--url", url],
                          cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"the {kind} child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def serve(args: argparse.Namespace) -> tuple[subprocess.Popen, str, float]:
    started = time.perf_counter()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "sim.swarm", "--nodes", str(args.nodes), "--managers", str(args.managers),
         "--services", str(args.services), "--replicas", str(args.replicas), "--global-services",
         str(args.global_services), "--history", str(args.history), "--seed", str(args.seed)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = emulator.stdout.readline() if emulator.stdout else ""
    if not line.startswith("URL "):
        emulator.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    url = line.split()[1].replace("http://", "tcp://")
    return emulator, url, time.perf_counter() - started


def warm(url: str) -> None:
    """Join every list body both clients will ask for, so neither pays the first-join cost."""
    import requests

    base = url.replace("tcp://", "http://")
    for path, params in (("/v1.47/nodes", {}), ("/v1.47/services", {}), ("/v1.47/services", {"status": "true"}),
                         ("/v1.47/tasks", {})):
        requests.get(base + path, params=params, timeout=600).raise_for_status()
    for service in requests.get(base + "/v1.47/services", timeout=600).json():
        requests.get(base + "/v1.47/tasks", params={"filters": json.dumps({"service": [service["ID"]]})},
                     timeout=600).raise_for_status()
    # the parts Podium reads a large swarm's tasks in (collectors/swarm/listing.py)
    from collectors.swarm import wire
    from collectors.swarm.engine import filters, task_parts
    nodes = requests.get(base + "/v1.47/nodes", timeout=600).json()
    services = msgspec.json.decode(requests.get(base + "/v1.47/services", params={"status": "true"}, timeout=600).content,
                                   type=list[wire.Service])
    for part in task_parts(services, len(nodes)):
        requests.get(base + "/v1.47/tasks", params={"filters": filters(service=part)}, timeout=600).raise_for_status()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Podium's Swarm collector against the docker SDK's high-level path")
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--managers", type=int, default=5)
    parser.add_argument("--services", type=int, default=280, help="replicated services of --replicas tasks each")
    parser.add_argument("--replicas", type=int, default=100)
    parser.add_argument("--global-services", type=int, default=2, help="one task per node each")
    parser.add_argument("--history", type=int, default=4, help="earlier tasks kept per slot (5 task objects a slot)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--pairs", "--podium-runs", dest="pairs", type=int, default=3,
                        help="interleaved pairs of fresh processes (Podium, then the SDK path)")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.url)), flush=True)
        return 0
    emulator, url, start_seconds = serve(args)
    try:
        warm(url)
        import requests
        listed = len(requests.get(url.replace("tcp://", "http://") + "/v1.47/tasks", timeout=600).json())
        runs, naive_runs = interleaved(lambda: run_child("podium", url),
                                       None if args.skip_naive else lambda: run_child("naive", url), args.pairs)
    finally:
        emulator.kill()
        emulator.wait()
    podium = {**median_run(runs), "steady_seconds": statistics.median(r["steady_seconds"] for r in runs),
              "rss_mb": max(r["rss_mb"] for r in runs)}
    report(podium, median_run(naive_runs) if naive_runs else None, pair_ratios(runs, naive_runs), listed,
           start_seconds)
    return 0


def report(podium: dict[str, Any], naive: dict[str, Any] | None, ratios: list[float], listed: int,
           start_seconds: float) -> None:
    print(f"cluster: {podium['nodes']:,} nodes, {podium['workloads']:,} services, {listed:,} task objects on /tasks "
          f"({podium['tasks']:,} current); emulator ready in {start_seconds:.1f} s")
    each = ", ".join(f"{s:.2f}" for s in podium["all_seconds"])
    print(f"podium  collect: {podium['seconds']:7.2f} s   peak RSS {podium['rss_mb']:7.0f} MiB   "
          f"(median of {len(podium['all_seconds'])} fresh processes: {each} s; "
          f"next round, nothing changed: {podium['steady_seconds']:.2f} s)")
    if naive is None:
        return
    each = ", ".join(f"{s:.2f}" for s in naive["all_seconds"])
    print(f"naive   docker SDK nodes.list(), services.list(), each service's tasks() ({naive['tasks']:,} tasks): "
          f"{naive['seconds']:7.2f} s   peak RSS {naive['rss_mb']:7.0f} MiB   (median of {each} s)")
    print(f"ratio   podium is {ratio_text(ratios)}; RSS {podium['rss_mb'] / naive['rss_mb']:.2f}x the naive path's")


if __name__ == "__main__":
    sys.exit(main())
