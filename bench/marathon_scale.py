"""Marathon on Mesos at scale: Podium's collector beside a plain requests + json baseline.

    .venv/bin/python bench/marathon_scale.py                      # 50,000 agents, 20,000 apps, 200,000 tasks
    .venv/bin/python bench/marathon_scale.py --agents 5000 --apps 2000 --instances 10

The emulators run in their own process (they hold the scenario and answer from pre-encoded
bodies, warmed before timing), so what is timed is the client. Every round runs in a fresh
process, for its own peak RSS; Podium and baseline rounds alternate, so both meet the same
background load on a shared machine. Both read the same six endpoints with the same parameters;
the baseline is the plain way: `requests.get(...).json()` and dict walking into the same model
objects. Printed: best seconds per round, peak RSS, and the median ratio of the pairs with its
range. Times are from this machine, this run: compare ratios, not absolute numbers.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EMBEDS = ["apps.tasks", "apps.counts", "apps.deployments", "apps.readiness", "apps.lastTaskFailure"]
MIB = 1024 * 1024


def serve_emulators(sizes: dict[str, int], urls: Any, stop: Any) -> None:
    import requests

    from sim.httpserver import settle_heap
    from sim.marathon import build, serve

    scenario = build(1, pods=5, **sizes)
    cluster = serve(scenario)
    for path, params in (("/v2/info", None), ("/v2/apps", {"embed": EMBEDS}), ("/v2/pods/::status", None),
                         ("/v2/queue", None), ("/v2/deployments", None)):
        requests.get(cluster.marathon.url + path, params=params, timeout=600)  # warm the encoded-body caches
    requests.get(cluster.mesos.url + "/master/state-summary", timeout=600)
    settle_heap()  # the scenario and the warmed bodies out of the GC's full passes, as `python -m sim.*` does
    urls.send((cluster.marathon.url, cluster.mesos.url, len(scenario.mesos.agents),
               sum(len(a.tasks) for a in scenario.marathon.apps)))
    stop.wait()
    cluster.stop()


def podium_round(marathon_url: str, mesos_url: str) -> tuple[int, int, int]:
    from collectors.marathon.fetch import MarathonCollector
    from fleet.config import ClusterConfig

    collector = MarathonCollector(ClusterConfig(name="bench", orchestrator="marathon", url=marathon_url,
                                                options={"mesos_url": mesos_url}))
    data = collector.collect(timeout_s=600)
    collector.close()
    return len(data.nodes), len(data.workloads), len(data.instances)


def baseline_round(marathon_url: str, mesos_url: str) -> tuple[int, int, int]:
    """The plain way: requests + json, then the dicts walked into the same model objects."""
    import requests

    from fleet.model import Instance, Node, Workload

    def get(url: str, params: dict[str, Any] | None = None) -> Any:
        response = requests.get(url, params=params, timeout=600)
        response.raise_for_status()
        return response.json()

    get(marathon_url + "/v2/info")
    apps = get(marathon_url + "/v2/apps", {"embed": EMBEDS})["apps"]
    pods = get(marathon_url + "/v2/pods/::status")
    get(marathon_url + "/v2/queue")
    get(marathon_url + "/v2/deployments")
    agents = get(mesos_url + "/master/state-summary")["slaves"]
    nodes = [Node(id=a["id"], name=a["hostname"], status="ready" if a["active"] else "down",
                  schedulable=a["active"], cpu_capacity_cores=a["resources"]["cpus"],
                  mem_capacity_bytes=int(a["resources"]["mem"] * MIB),
                  cpu_allocated_cores=a["used_resources"]["cpus"],
                  mem_allocated_bytes=int(a["used_resources"]["mem"] * MIB),
                  labels={k: str(v) for k, v in a["attributes"].items()}) for a in agents]
    workloads, instances = [], []
    for app in apps:
        workloads.append(Workload(id=app["id"], name=app["id"].rsplit("/", 1)[-1], kind="App",
                                  desired=app["instances"], running=app["tasksRunning"],
                                  cpu_request_cores=app["cpus"], mem_request_bytes=int(app["mem"] * MIB)))
        for task in app.get("tasks", []):
            instances.append(Instance(id=task["id"], name=task["id"], workload_id=app["id"],
                                      node_id=task.get("slaveId"), state="running"))
    workloads.extend(Workload(id=p["id"], name=p["id"], kind="Pod") for p in pods)
    return len(nodes), len(workloads), len(instances)


def timed(kind: str, marathon_url: str, mesos_url: str, result: Any) -> None:
    work = podium_round if kind == "podium" else baseline_round
    import collectors.marathon.fetch  # noqa: F401  (imports are not part of a round)
    import fleet.config  # noqa: F401
    import fleet.model  # noqa: F401
    import requests  # noqa: F401

    cpu_before = time.process_time()
    start = time.perf_counter()
    counts = work(marathon_url, mesos_url)
    seconds = time.perf_counter() - start
    result.send((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, counts, time.process_time() - cpu_before))


def measure(kind: str, urls: tuple[str, str]) -> tuple[float, int, tuple[int, int, int], float]:
    """One round in a fresh process: (seconds, peak RSS bytes, (nodes, workloads, instances), CPU seconds)."""
    receive, send = mp.Pipe(duplex=False)
    process = mp.Process(target=timed, args=(kind, *urls, send))
    process.start()
    outcome = receive.recv()
    process.join()
    return outcome


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=50_000)
    parser.add_argument("--apps", type=int, default=20_000)
    parser.add_argument("--instances", type=int, default=10, help="tasks per app")
    parser.add_argument("--rounds", type=int, default=5, help="pairs of rounds (Podium, baseline)")
    args = parser.parse_args(argv)
    mp.set_start_method("spawn", force=True)
    receive, send = mp.Pipe(duplex=False)
    stop = mp.Event()
    server = mp.Process(target=serve_emulators, args=(
        dict(agents=args.agents, apps=args.apps, instances_per_app=args.instances), send, stop), daemon=True)
    server.start()
    marathon_url, mesos_url, agents, tasks = receive.recv()
    print(f"emulated cluster: {agents:,} agents, {args.apps:,} apps, {tasks:,} tasks")
    pairs = []
    try:
        # rounds alternate, so both clients see the same background load on a shared machine
        for _ in range(args.rounds):
            pairs.append((measure("podium", (marathon_url, mesos_url)), measure("baseline", (marathon_url, mesos_url))))
    finally:
        stop.set()
        server.join(timeout=30)
    for index, name in enumerate(("podium", "baseline")):
        runs = [pair[index] for pair in pairs]
        counts = runs[0][2]
        print(f"{name:9s} {min(r[0] for r in runs):7.2f} s/round (best of {len(runs)})   "
              f"peak RSS {max(r[1] for r in runs) / 2**30:5.2f} GiB   "
              f"nodes/workloads/instances {counts[0]:,}/{counts[1]:,}/{counts[2]:,}")
    best = min((p for p, _ in pairs), key=lambda run: run[0])
    print(f"          Podium's best round spent {best[3]:.2f} s of CPU in {best[0]:.2f} s: one process, its work "
          f"one thread at a time (the interpreter lock)")
    ratios = sorted(b[0] / p[0] for p, b in pairs)
    podium_rss = max(p[1] for p, _ in pairs)
    memory = max(b[1] for _, b in pairs) / podium_rss
    median = statistics.median(ratios)
    verdict = "met" if median >= 5 and podium_rss < 1.5 * 2**30 else "MISSED"
    print(f"ratio     {median:5.2f}x faster (median of pairs; {ratios[0]:.2f}x to "
          f"{ratios[-1]:.2f}x)   {memory:4.1f}x less memory   (target: >= 5x faster, RSS < 1.5 GiB: {verdict})")

if __name__ == "__main__":
    main()
