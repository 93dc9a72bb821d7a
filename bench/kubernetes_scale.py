"""Kubernetes collection at the documented scalability limit: Podium against the official client.

    .venv/bin/python -m bench.kubernetes_scale                      # 5,000 nodes / ~150,000 pods
    .venv/bin/python -m bench.kubernetes_scale --nodes 1000         # a fifth of that
    .venv/bin/python -m bench.kubernetes_scale --skip-official      # only Podium

One emulated cluster is served from this process; each client runs in a fresh child process so
its peak RSS is its own. Both read the same resources (with Services, EndpointSlices and HPAs).
Podium's path: KubernetesCollector.collect() (paged raw lists decoded
with msgspec, then normalized), then a node is made NotReady and the child measures how long
until the model shows it (through the watch). The baseline is the official client's default
path on the same server: the typed `list_*_for_all_namespaces()` calls for the same resources.
Printed: seconds, peak RSS and the ratios, measured in this run (nothing is compared to a
number remembered from elsewhere).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.memory import peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
TOKEN_ENV = "PODIUM_BENCH_K8S_TOKEN"


def live_children_peak_mb() -> float:
    """Peak RSS of this process's children still running (multiprocessing's resource tracker)."""
    total = 0.0
    for task in Path("/proc/self/task").iterdir():
        try:
            pids = (task / "children").read_text().split()
        except OSError:
            continue
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) / 1024
            except OSError:
                pass
    return total


# -- children ---------------------------------------------------------------------------------------
def podium_child(url: str) -> dict[str, Any]:
    from collectors.kubernetes.fetch import KubernetesCollector
    from fleet.config import ClusterConfig, Secret

    config = ClusterConfig(name="bench", orchestrator="kubernetes", url=url, token=Secret(os.environ[TOKEN_ENV]))
    source = KubernetesCollector(config)
    source.connection()  # imports the official client for its credential loader, as the baseline does
    started, cpu_started = time.perf_counter(), time.process_time()
    data = source.collect(120.0)
    seconds = time.perf_counter() - started
    result = {"seconds": seconds, "cpu_seconds": time.process_time() - cpu_started, "nodes": len(data.nodes), "pods": len(data.instances),
              "workloads": len(data.workloads), "services": len(data.services),
              "autoscalers": sum(w.autoscaler is not None for w in data.workloads), "rss_mb": peak_rss_mb()}
    print("READY", flush=True)
    name, changed_at = sys.stdin.readline().split()
    while True:
        data = source.collect(120.0)
        if next(n.status for n in data.nodes if n.name == name) == "not_ready":
            result["watch_latency_s"] = time.time() - float(changed_at)
            break
    started = time.perf_counter()
    source.collect(120.0)
    result["round_seconds"] = time.perf_counter() - started
    result["offloaded_pages"] = source.offload.pages_offloaded
    source.close()  # ends the worker process (if a big pod list started one), so its peak is counted
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 + live_children_peak_mb()
    result["worker_rss_mb"] = worker_mb
    result["rss_mb"] = peak_rss_mb() + worker_mb  # every process at its peak: an upper bound
    return result


def official_child(kubeconfig: str) -> dict[str, Any]:
    from kubernetes import client, config

    api = config.new_client_from_config(kubeconfig)
    core, apps, batch = client.CoreV1Api(api), client.AppsV1Api(api), client.BatchV1Api(api)
    started = time.perf_counter()
    nodes = core.list_node().items
    pods = core.list_pod_for_all_namespaces().items
    for call in (apps.list_deployment_for_all_namespaces, apps.list_replica_set_for_all_namespaces,
                 apps.list_stateful_set_for_all_namespaces, apps.list_daemon_set_for_all_namespaces,
                 batch.list_job_for_all_namespaces, batch.list_cron_job_for_all_namespaces):
        call()
    core.list_event_for_all_namespaces(field_selector="type=Warning")
    core.list_service_for_all_namespaces()
    client.DiscoveryV1Api(api).list_endpoint_slice_for_all_namespaces()
    client.AutoscalingV2Api(api).list_horizontal_pod_autoscaler_for_all_namespaces()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "nodes": len(nodes), "pods": len(pods), "rss_mb": peak_rss_mb()}


# -- parent -----------------------------------------------------------------------------------------
def child_command(mode: str, target: str) -> list[str]:
    return [sys.executable, "-m", "bench.kubernetes_scale", "--child", mode, "--target", target]


def child_env(token: str) -> dict[str, str]:
    return {**os.environ, TOKEN_ENV: token, "PYTHONPATH": str(ROOT)}


def run_podium(cluster: Any, token: str) -> dict[str, Any]:
    from sim.kubernetes.resources import BY_KEY

    child = subprocess.Popen(child_command("podium", cluster.url), cwd=ROOT, env=child_env(token),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdin is not None
    line = child.stdout.readline().strip()
    if line != "READY":
        raise SystemExit(f"podium child failed: {line}")
    nodes = BY_KEY[("", "nodes")]
    name = sorted(cluster.scenario.expected.nodes)[-1]
    node = copy.deepcopy(cluster.store.get(nodes, name).obj)
    for condition in node["status"]["conditions"]:
        if condition["type"] == "Ready":
            condition["status"] = "False"
    changed_at = time.time()
    cluster.store.put(nodes, node)
    child.stdin.write(f"{name} {changed_at}\n")
    child.stdin.flush()
    output, _ = child.communicate(timeout=600)
    return json.loads(output.strip().splitlines()[-1])


def run_official(kubeconfig: Path, token: str) -> dict[str, Any]:
    done = subprocess.run(child_command("official", str(kubeconfig)), cwd=ROOT, env=child_env(token),
                          capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"official child failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-official", action="store_true")
    parser.add_argument("--child", choices=["podium", "official"])
    parser.add_argument("--target")
    args = parser.parse_args()
    if args.child:
        result = podium_child(args.target) if args.child == "podium" else official_child(args.target)
        print(json.dumps(result), flush=True)
        return

    sys.path.insert(0, str(ROOT))
    from sim.kubernetes import Knobs, generate, start

    token = "bench-" + os.urandom(12).hex()
    started = time.perf_counter()
    scenario = generate(Knobs(seed=args.seed, nodes=args.nodes, pods_per_node=args.pods_per_node,
                              namespaces=max(6, args.nodes // 100), pod_metrics=False))
    cluster = start(scenario, token=token)
    print(f"emulator: {len(scenario.expected.nodes)} nodes, {len(scenario.expected.pods)} pods, "
          f"{len(scenario.expected.workloads)} workloads, {len(scenario.expected.services)} services, "
          f"{sum(obj['kind'] == 'EndpointSlice' for _, obj in scenario.objects)} EndpointSlices, "
          f"{len(scenario.expected.autoscalers)} HPAs; generated and served in "
          f"{time.perf_counter() - started:.1f}s", flush=True)
    try:
        podium = run_podium(cluster, token)
        print(f"podium:   first collection {podium['seconds']:.2f}s ({podium['cpu_seconds']:.2f}s CPU in its "
              f"process, all threads), next round {podium['round_seconds']:.2f}s, "
              f"peak RSS {podium['rss_mb']:.0f} MiB (worker processes {podium['worker_rss_mb']:.0f} MiB of it), watched change in the model after "
              f"{podium['watch_latency_s']:.2f}s ({podium['nodes']} nodes, {podium['pods']} pods, "
              f"{podium['services']} services, {podium['autoscalers']} autoscalers)", flush=True)
        if args.skip_official:
            return
        with tempfile.TemporaryDirectory() as folder:
            kubeconfig = cluster.kubeconfig(Path(folder) / "config", token=token)
            official = run_official(kubeconfig, token)
        print(f"official: default path {official['seconds']:.2f}s, peak RSS {official['rss_mb']:.0f} MiB "
              f"({official['nodes']} nodes, {official['pods']} pods)", flush=True)
        print(f"ratio:    {official['seconds'] / podium['seconds']:.1f}x faster, "
              f"{official['rss_mb'] / podium['rss_mb']:.1f}x less memory", flush=True)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
