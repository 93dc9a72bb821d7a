"""Nomad at the seed's practical size: Podium's collector beside the naive python-nomad path.

    .venv/bin/python -m bench.nomad_scale                              # 10,000 nodes, ~100,000 allocations
    .venv/bin/python -m bench.nomad_scale --nodes 1000 --jobs 80       # a tenth of that

The emulator runs in its own process (`python -m sim.nomad`) and is warmed before timing (its
list items are rendered once and then served from bytes, and a list page once joined is served
again from memory, as both clients' pages are after the warm-up), so what is timed is the client
plus the server answering. Each client runs in a fresh child process, for its own peak RSS. They run
in interleaved pairs (Podium, then the naive path: three pairs by default) and the ratio printed is
the median of the pairs' ratios (bench/pairs.py): Podium's collection takes about a second and the
machine's speed drifts, so each ratio compares two runs of the same minute.

Podium's path: `NomadCollector.collect()` (paged lists decoded with msgspec and digested page by
page, task states only for troubled allocations, one spec read per job, in bulk by a helper
process, then normalized), and its next round when nothing changed (blocking-query probes only).
Podium's peak RSS is its own plus the helper process's, each at its peak (an upper bound).
The baseline, measured in the same run on the same emulator: python-nomad listing the nodes,
then reading each node (`/v1/node/:id`, the only place the list does not give resources), plus
the allocation and job lists. Printed: seconds, peak RSS and the ratios; compare ratios, not
absolute numbers.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.memory import peak_rss_mb  # noqa: E402
from bench.pairs import interleaved, median_run, pair_ratios, ratio_text  # noqa: E402
from bench.processes import cpu_seconds, tree  # noqa: E402


# -- children ---------------------------------------------------------------------------------------
def podium_child(url: str) -> dict[str, Any]:
    from collectors.nomad.fetch import NomadCollector
    from fleet.config import ClusterConfig

    collector = NomadCollector(ClusterConfig(name="bench", orchestrator="nomad", url=url))
    cpu_before = time.process_time()
    started = time.perf_counter()
    data = collector.collect(120.0)
    seconds = time.perf_counter() - started
    cpu_s, helpers_cpu_s = time.process_time() - cpu_before, cpu_seconds(tree(os.getpid())[1:])
    started = time.perf_counter()
    collector.collect(120.0)  # nothing changed: blocking-query probes only
    steady = time.perf_counter() - started
    specs_from_worker = collector.specs_from_worker
    collector.close()  # ends the helper process (if the job specs started one), so its peak is counted
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "steady_seconds": steady, "nodes": len(data.nodes), "cpu_s": cpu_s,
            "helpers_cpu_s": helpers_cpu_s,
            "allocations": len(data.instances), "workloads": len(data.workloads),
            "rss_mb": peak_rss_mb() + worker_mb, "worker_rss_mb": worker_mb, "specs_from_worker": specs_from_worker}


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


def with_server_cpu(pid: int, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The run, with the CPU the emulator spent meanwhile (nearly all of it on the first collection:
    the child's imports and its quiet second round ask little of it)."""
    before = cpu_seconds([pid])
    result = run()
    return {**result, "server_cpu_s": cpu_seconds([pid]) - before}


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
    parser.add_argument("--pairs", "--podium-runs", dest="pairs", type=int, default=3,
                        help="interleaved pairs of fresh processes (Podium, then the naive path); the ratio is "
                             "the median of the pairs' (a Podium run is ~1 s: noise matters)")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.url)), flush=True)
        return 0
    emulator, url = serve(args)
    try:
        warm(url)
        runs, naive_runs = interleaved(lambda: with_server_cpu(emulator.pid, lambda: run_child("podium", url)),
                                       None if args.skip_naive else lambda: run_child("naive", url), args.pairs)
    finally:
        emulator.kill()
        emulator.wait()
    podium = {**median_run(runs), "rss_mb": max(r["rss_mb"] for r in runs)}
    report(podium, median_run(naive_runs) if naive_runs else None, pair_ratios(runs, naive_runs))
    return 0


def report(podium: dict[str, Any], naive: dict[str, Any] | None, ratios: list[float]) -> None:
    print(f"cluster: {podium['nodes']:,} nodes, {podium['allocations']:,} current allocations, "
          f"{podium['workloads']:,} jobs")
    each = ", ".join(f"{s:.2f}" for s in podium["all_seconds"])
    print(f"podium  collect: {podium['seconds']:7.2f} s   peak RSS {podium['rss_mb']:7.0f} MiB   "
          f"(median of {len(podium['all_seconds'])} fresh processes: {each} s; "
          f"next round, nothing changed: {podium['steady_seconds'] * 1000:.0f} ms)")
    print(f"        {podium['specs_from_worker']:,} job specs read by the helper process "
          f"(its peak RSS {podium['worker_rss_mb']:.0f} MiB, counted above)")
    spent = podium["cpu_s"] + podium["helpers_cpu_s"] + podium["server_cpu_s"]
    cores = os.cpu_count() or 1
    print(f"        CPU of that collection: the collector {podium['cpu_s']:.2f} s, its helper "
          f"{podium['helpers_cpu_s']:.2f} s, the emulator {podium['server_cpu_s']:.2f} s: {spent:.2f} s on "
          f"{cores} cores, so at least {spent / cores:.2f} s of wall time however well they overlap")
    if naive is None:
        return
    each = ", ".join(f"{s:.2f}" for s in naive["all_seconds"])
    print(f"naive   python-nomad (list, then each node; {naive['allocations']:,} allocations): "
          f"{naive['seconds']:7.2f} s   peak RSS {naive['rss_mb']:7.0f} MiB   (median of {each} s)")
    print(f"ratio   podium is {ratio_text(ratios)}; RSS {podium['rss_mb'] / naive['rss_mb']:.2f}x the naive path's")


if __name__ == "__main__":
    sys.exit(main())
