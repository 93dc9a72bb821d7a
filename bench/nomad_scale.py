"""Nomad at the seed's practical size: Podium's collector beside the naive python-nomad path.

    .venv/bin/python -m bench.nomad_scale                              # 10,000 nodes, ~100,000 allocations
    .venv/bin/python -m bench.nomad_scale --nodes 1000 --jobs 80       # a tenth of that

The emulator runs in its own process (`python -m sim.nomad`) and is warmed before timing (its
list bodies are rendered once and then served from bytes), so what is timed is the client plus
the server answering. Each client runs in a fresh child process, for its own peak RSS.
Podium's path: `NomadCollector.collect()` (paged lists decoded with msgspec, task states only for
troubled allocations, one spec read per job, then normalized), and its next round when nothing
changed (blocking-query probes only). The baseline, measured in the same
run on the same emulator: python-nomad listing the nodes, then reading each node
(`/v1/node/:id`, the only place the list does not give resources), plus the allocation and job
lists. Printed: seconds, peak RSS and the ratios; compare ratios, not absolute numbers.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.memory import peak_rss_mb  # noqa: E402


# -- children ---------------------------------------------------------------------------------------
def podium_child(url: str) -> dict[str, Any]:
    from collectors.nomad import NomadCollector
    from fleet.config import ClusterConfig

    collector = NomadCollector(ClusterConfig(name="bench", orchestrator="nomad", url=url))
    started = time.perf_counter()
    data = collector.collect(120.0)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    collector.collect(120.0)  # nothing changed: blocking-query probes only
    steady = time.perf_counter() - started
    return {"seconds": seconds, "steady_seconds": steady, "nodes": len(data.nodes),
            "allocations": len(data.instances), "workloads": len(data.workloads), "rss_mb": peak_rss_mb()}


def naive_child(url: str) -> dict[str, Any]:
    import nomad

    client = nomad.Nomad(address=url, timeout=120)
    started = time.perf_counter()
    nodes = [client.node.get_node(stub["ID"]) for stub in client.nodes.get_nodes()]
    allocations = client.allocations.get_allocations(namespace="*")
    jobs = client.jobs.get_jobs(namespace="*")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "nodes": len(nodes), "allocations": len(allocations), "workloads": len(jobs),
            "rss_mb": peak_rss_mb()}


CHILDREN = {"podium": podium_child, "naive": naive_child}


# -- parent -----------------------------------------------------------------------------------------
def run_child(kind: str, url: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.nomad_scale", "--child", kind, "--url", url],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def serve(args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    emulator = subprocess.Popen(
        [sys.executable, "-m", "sim.nomad", "--regions", "1", "--datacenters", "4", "--nodes", str(args.nodes),
         "--jobs", str(args.jobs), "--allocs-per-job", str(args.allocs_per_job), "--seed", str(args.seed)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = emulator.stdout.readline() if emulator.stdout else ""
    if not line.startswith("URL "):
        emulator.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return emulator, line.split()[1]


def warm(url: str) -> None:
    """Render every list body both clients will ask for, so neither pays the first-render cost."""
    import requests

    run_child("podium", url)
    for path, params in (("/v1/nodes", {}), ("/v1/allocations", {"namespace": "*"}), ("/v1/jobs", {"namespace": "*"})):
        requests.get(url + path, params=params, timeout=600).raise_for_status()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Podium's Nomad collector against the naive python-nomad path")
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=800, help="jobs; two system jobs add one allocation per node")
    parser.add_argument("--allocs-per-job", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.url)), flush=True)
        return 0
    emulator, url = serve(args)
    try:
        warm(url)
        podium = run_child("podium", url)
        naive = None if args.skip_naive else run_child("naive", url)
    finally:
        emulator.kill()
        emulator.wait()
    report(podium, naive)
    return 0


def report(podium: dict[str, Any], naive: dict[str, Any] | None) -> None:
    print(f"cluster: {podium['nodes']:,} nodes, {podium['allocations']:,} current allocations, "
          f"{podium['workloads']:,} jobs")
    print(f"podium  collect: {podium['seconds']:7.2f} s   peak RSS {podium['rss_mb']:7.0f} MiB   "
          f"(next round, nothing changed: {podium['steady_seconds'] * 1000:.0f} ms)")
    if naive is None:
        return
    print(f"naive   python-nomad (list, then each node; {naive['allocations']:,} allocations): "
          f"{naive['seconds']:7.2f} s   peak RSS {naive['rss_mb']:7.0f} MiB")
    print(f"ratio   podium is {naive['seconds'] / podium['seconds']:.1f}x faster; "
          f"RSS {podium['rss_mb'] / naive['rss_mb']:.2f}x the naive path's")


if __name__ == "__main__":
    sys.exit(main())
