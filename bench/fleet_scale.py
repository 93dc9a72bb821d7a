"""The whole product at the seed's scale: the real dashboard watching the seed fleet, in a browser.

    .venv/bin/python -m bench.fleet_scale                     # the seed fleet (several GiB, minutes)
    .venv/bin/python -m bench.fleet_scale --small             # 300 nodes per cluster, same densities
    .venv/bin/python -m bench.fleet_scale --small --watch-s 1800
    .venv/bin/python -m bench.fleet_scale --history-days 7 --watch-s 1800  # the issue's week and half hour
    .venv/bin/python -m bench.fleet_scale --share 0.25        # every count of the seed fleet times 0.25

The seed fleet: Kubernetes 5,000 nodes / ~150,000 pods, Nomad 10,000 nodes / ~100,000 allocations,
Marathon on Mesos 50,000 agents / 200,000 tasks, Swarm 1,000 nodes / 30,000 running tasks (~150,000
task objects with history), each emulator in its own process. The dashboard is
`streamlit run app.py` in its own process with a clusters.yaml naming them; once its first round is
in the history, every page is opened in headless Chromium (bench/fleet_pages.py), and after the
watch each table page is searched and narrowed to one cluster, each answer timed. Then: the
analysis of each cluster (fleet.analysis on a snapshot the CLI collects), the history bytes per
round and per day, and the dashboard's CPU and RSS (its process and its helpers) over a watch
period (its first and last five minutes side by side, so a slow leak shows). Each figure is printed beside its target; nothing is asserted. The emulators do not churn,
so history deltas here are those of a quiet fleet; bench/history_scale.py measures 1% churn.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.fleet_pages import FirstRound, watch_first_round  # noqa: E402
from bench.history_fill import prefill  # noqa: E402
from bench.processes import cpu_seconds, rss_bytes, tree  # noqa: E402
from bench.watching import RSS_GROWTH_ALLOWED, Sample, WatchSummary, summarize  # noqa: E402
from fleet.cli import EXIT_NOT_ALL_OK, EXIT_OK  # noqa: E402
from fleet.history_schema import DELTA  # noqa: E402
from fleet.store import ChainPolicy  # noqa: E402

TOKEN_ENV = "PODIUM_FLEET_K8S_TOKEN"
MIB = 1024 * 1024
PAGE_SECONDS, PAGE_BYTES = 2.0, 5 * MIB  # the targets per page view
FILTER_SECONDS = 1.0  # the target for a filter's or a search's answer


@dataclass(frozen=True)
class FleetSize:
    k8s_nodes: int = 5000
    pods_per_node: int = 30
    nomad_nodes: int = 10_000
    nomad_jobs: int = 800  # x allocs_per_job, plus two system jobs with one allocation per node
    allocs_per_job: int = 100
    mesos_agents: int = 50_000
    marathon_apps: int = 20_000
    tasks_per_app: int = 10
    swarm_nodes: int = 1000
    swarm_services: int = 280  # x swarm_replicas, plus two global services with one task per node
    swarm_replicas: int = 100


SEED = FleetSize()


def fraction_of_seed(share: float) -> FleetSize:
    """The seed fleet with every count times `share` (densities kept)."""
    return FleetSize(k8s_nodes=max(1, round(SEED.k8s_nodes * share)), nomad_nodes=max(1, round(SEED.nomad_nodes * share)),
                     nomad_jobs=max(1, round(SEED.nomad_jobs * share)), mesos_agents=max(1, round(SEED.mesos_agents * share)),
                     marathon_apps=max(1, round(SEED.marathon_apps * share)))


def scaled(nodes: int) -> FleetSize:
    """`nodes` nodes in every cluster, each at the seed's density."""
    return replace(SEED, k8s_nodes=nodes, nomad_nodes=nodes, nomad_jobs=max(1, nodes * 8 // 100),
                   mesos_agents=nodes, marathon_apps=max(1, nodes * 2 // 5), swarm_nodes=nodes,
                   swarm_services=max(1, nodes * 28 // 100))


# -- emulators, each in its own process -------------------------------------------------------------
def serve(kind: str, size: FleetSize) -> None:
    """Child: serve one emulated cluster, print `URL <url> [<mesos url>]`, serve until stdin closes."""
    if kind == "kubernetes":
        from sim.kubernetes import Knobs, generate, start

        cluster = start(generate(Knobs(nodes=size.k8s_nodes, pods_per_node=size.pods_per_node,
                                       namespaces=max(6, size.k8s_nodes // 100))), token=os.environ[TOKEN_ENV])
        print(f"URL {cluster.url}", flush=True)
    else:
        from sim.marathon import build, serve as serve_marathon

        cluster = serve_marathon(build(1, agents=size.mesos_agents, apps=size.marathon_apps, pods=5,
                                       instances_per_app=size.tasks_per_app))
        print(f"URL {cluster.marathon.url} {cluster.mesos.url}", flush=True)
    from sim.httpserver import serve_until_stdin_closes

    serve_until_stdin_closes(cluster.stop)


def emulator_commands(size: FleetSize) -> dict[str, list[str]]:
    me = [sys.executable, "-m", "bench.fleet_scale", "--k8s-nodes", str(size.k8s_nodes),
          "--mesos-agents", str(size.mesos_agents), "--marathon-apps", str(size.marathon_apps)]
    return {"kubernetes": [*me, "--serve", "kubernetes"],
            "nomad": [sys.executable, "-m", "sim.nomad", "--regions", "1", "--datacenters", "4",
                      "--nodes", str(size.nomad_nodes), "--jobs", str(size.nomad_jobs),
                      "--allocs-per-job", str(size.allocs_per_job)],
            "marathon": [*me, "--serve", "marathon"],
            "swarm": [sys.executable, "-m", "sim.swarm", "--nodes", str(size.swarm_nodes), "--managers", "5",
                      "--services", str(size.swarm_services), "--replicas", str(size.swarm_replicas),
                      "--history", "4"]}


def cluster_name(kind: str) -> str:
    return f"seed-{kind}"


def cluster_entry(kind: str, urls: list[str]) -> str:
    entry = f"  - name: {cluster_name(kind)}\n    orchestrator: {kind}\n    url: {urls[0]}\n"
    if kind == "kubernetes":
        entry += f"    token_env: {TOKEN_ENV}\n"
    if kind == "nomad":
        entry += "    namespace: \"*\"\n"
    if kind == "marathon":
        entry += f"    mesos_url: {urls[1]}\n"
    return entry


class Fleet:
    """The emulators (started together, so they generate in parallel) and the clusters.yaml naming them."""

    def __init__(self, size: FleetSize, folder: Path, poll_interval_s: float):
        self.env = {**os.environ, TOKEN_ENV: "fleet-" + os.urandom(12).hex(), "PYTHONPATH": str(ROOT)}
        self.processes: list[subprocess.Popen] = []
        entries = []
        for kind, command in emulator_commands(size).items():
            self.processes.append(subprocess.Popen(command, cwd=ROOT, env=self.env, stdin=subprocess.PIPE,
                                                   stdout=subprocess.PIPE, text=True))
        try:
            for kind, process in zip(emulator_commands(size), self.processes):
                line = process.stdout.readline() if process.stdout else ""
                if not line.startswith("URL "):
                    raise SystemExit(f"the {kind} emulator did not start: {line!r}")
                entries.append(cluster_entry(kind, line.split()[1:]))
        except BaseException:
            self.stop()
            raise
        self.clusters = len(entries)
        self.names = [(cluster_name(kind), kind) for kind in emulator_commands(size)]
        self.prefilled_to = 0  # the last history id written before the dashboard started
        self.history = folder / "history"
        self.config = folder / "clusters.yaml"
        self.config.write_text(f"settings:\n  poll_interval_s: {poll_interval_s}\n  timeout_s: 600\n"
                               f"  history_dir: {self.history}\nclusters:\n" + "".join(entries))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None and process.stdin:
                process.stdin.close()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- the dashboard ----------------------------------------------------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_dashboard(env: dict[str, str], config: Path, log: Path,
                    extra_args: Sequence[str] = ()) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` over `config`, once it answers; its own process group (stop_dashboard)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         *extra_args],  # the rest as .streamlit/config.toml says
        cwd=ROOT, env={**env, "PODIUM_CONFIG": str(config)}, stdout=open(log, "wb"),
        stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    wait_until(lambda: urllib.request.urlopen(url + "_stcore/health", timeout=2).status == 200, process, 120, log)
    return process, url


def stop_dashboard(process: subprocess.Popen) -> None:
    """The dashboard and the helper processes it started."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def wait_until(ready, process: subprocess.Popen, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the dashboard exited: {log.read_text()[-2000:]}")
        try:
            if ready():
                return
        except Exception:
            pass
        time.sleep(0.5)
    raise SystemExit(f"gave up after {timeout_s:.0f} s: {log.read_text()[-2000:]}")


def history_rounds(history: Path, after_id: int = 0) -> list[tuple[int, int]]:
    """(kind, body bytes) of every kept round after `after_id` (the prefilled ones), oldest first;
    read-only, beside the dashboard's writer."""
    path = history / "history.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
        return [(kind, size) for kind, size in db.execute(
            "SELECT kind, LENGTH(body) FROM podium_snapshots WHERE id > ? ORDER BY id", (after_id,))]


def wait_for_first_round(fleet: Fleet, dashboard: subprocess.Popen, url: str, log: Path,
                         timeout_s: float) -> tuple[FirstRound, float]:
    """The runtime starts with the first session: the Overview, left open as a first user would, shows
    the clusters as they come in (what it showed when); then wait for the round in the history (when)."""
    started = time.perf_counter()
    seen = watch_first_round(url, fleet.clusters, timeout_s=timeout_s)
    wait_until(lambda: len(history_rounds(fleet.history, fleet.prefilled_to)) > 0, dashboard, timeout_s, log)
    return seen, time.perf_counter() - started


def report_first_round(seen: FirstRound, stored_s: float) -> None:
    def seconds(value: float | None) -> str:
        return "never" if value is None else f"{value:.1f} s"
    print(f"dashboard: the Overview, opened as it starts, showed a first cluster after {seconds(seen.first_cluster_s)} "
          f"and the whole first round after {seconds(seen.every_cluster_s)}; the round was in the history after "
          f"{stored_s:.1f} s", flush=True)


def watch(pid: int, seconds: float) -> list[Sample]:
    """CPU seconds and RSS of the dashboard's process tree every 5 s for `seconds`."""
    started, samples = time.monotonic(), []
    while True:
        pids = tree(pid)
        elapsed = time.monotonic() - started
        samples.append(Sample(at_s=elapsed, cpu_s=cpu_seconds(pids), rss_bytes=rss_bytes(pids)))
        if elapsed >= seconds:
            return samples
        time.sleep(min(5.0, seconds - elapsed))


def report_watch(summary: WatchSummary) -> None:
    gib = 2**30
    print(f"watching: {summary.seconds:.0f} s, CPU {summary.cpu_share * 100:.1f}% of one core on average (target < 25%: "
          f"{verdict(summary.cpu_share < 0.25)}), RSS peak {summary.peak_rss_bytes / gib:.2f} GiB (target < 3 GiB: "
          f"{verdict(summary.peak_rss_bytes < 3 * gib)})", flush=True)
    for name, part in (("first", summary.first), ("last", summary.last)):
        print(f"          {name:5s} {part.end_s - part.start_s:4.0f} s: CPU {part.cpu_share * 100:.1f}% of one core, "
              f"median RSS {part.median_rss_bytes / gib:.2f} GiB", flush=True)
    print(f"          RSS growth from the first to the last window {summary.rss_growth * 100:+.1f}% (no growth: at most "
          f"+{RSS_GROWTH_ALLOWED * 100:g}%: {verdict(not summary.grows)})", flush=True)
    medians = ", ".join(f"{part.median_rss_bytes / gib:.2f}" for part in summary.windows)
    print(f"          median RSS window by window: {medians} GiB", flush=True)
    print(f"          RSS trend over the second half {summary.late_trend_bytes_per_hour / 2**20:+.0f} MiB per hour "
          f"(least squares: a leak climbs to the end, a warm-up step does not)", flush=True)


# -- analysis ---------------------------------------------------------------------------------------
def analyze_each(snapshot_file: str) -> None:
    """Child: time fleet.analysis.analyze on each cluster of a snapshot; one JSON line per cluster."""
    from fleet.analysis import analyze
    from fleet.cli import read_snapshot
    from fleet.model import Snapshot

    snapshot = read_snapshot(snapshot_file)
    for cluster in snapshot.clusters:
        started = time.perf_counter()
        analyze(Snapshot(taken_at=snapshot.taken_at, clusters=[cluster]))
        print(json.dumps({"cluster": cluster.name, "nodes": len(cluster.nodes), "instances": len(cluster.instances),
                          "seconds": time.perf_counter() - started}), flush=True)


def analysis_times(fleet: Fleet, folder: Path, timeout_s: float) -> list[dict]:
    snapshot = folder / "snapshot.json"
    done = subprocess.run([sys.executable, "-m", "fleet", "snapshot", "--config", str(fleet.config),
                           "--output", str(snapshot)], cwd=ROOT, env=fleet.env, capture_output=True, text=True,
                          timeout=1800)
    if done.returncode not in (EXIT_OK, EXIT_NOT_ALL_OK) or not snapshot.exists():
        raise RuntimeError(f"`fleet snapshot` failed (exit status {done.returncode}): {done.stderr.strip()}")
    if done.returncode == EXIT_NOT_ALL_OK:  # written, but some cluster was not ok: say which, analyze it anyway
        print("analysis: the snapshot's clusters were not all ok:\n" + done.stderr.strip(), flush=True)
    child = subprocess.Popen([sys.executable, "-m", "bench.fleet_scale", "--analyze", str(snapshot)], cwd=ROOT,
                             env=fleet.env, stdout=subprocess.PIPE, text=True)
    try:
        output, _ = child.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        child.kill()
        output, _ = child.communicate()
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


# -- the report -------------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report_pages(cold, views) -> None:
    print(f"first visit (empty cache, static bundle included): {cold.seconds:.2f} s, {cold.bytes / MIB:.2f} MB")
    print(f"{'page':11s} {'settle s':>9s} {'MB recv':>8s} {'(http':>7s} {'ws)':>7s}  target <= {PAGE_SECONDS:g} s, "
          f"<= {PAGE_BYTES / MIB:g} MB")
    for view in views:
        seconds = f"{view.seconds:8.2f}" + ("" if view.settled else "+")
        notes = "" if view.settled else "  still running at the timeout"
        notes += f"  {view.exceptions} exception block(s)" if view.exceptions else ""
        print(f"{view.page:11s} {seconds:>9s} {view.bytes / MIB:8.2f} {view.http_bytes / MIB:7.2f} "
              f"{view.websocket_bytes / MIB:7.2f}  {verdict(view.settled and view.seconds <= PAGE_SECONDS)}, "
              f"{verdict(view.bytes <= PAGE_BYTES)}{notes}")


def report_filters(answers) -> None:
    print(f"{'page':11s} {'answer s':>9s} {'MB recv':>8s} {'rows':>19s}  what the user did  target <= "
          f"{FILTER_SECONDS:g} s")
    for answer in answers:
        seconds = f"{answer.seconds:8.2f}" + ("" if answer.settled else "+")
        rows = f"{answer.rows_before if answer.rows_before is not None else '?':>8} -> " \
               f"{answer.rows_after if answer.rows_after is not None else '?':<8}"
        notes = f"  {answer.exceptions} exception block(s)" if answer.exceptions else ""
        print(f"{answer.page:11s} {seconds:>9s} {answer.bytes / MIB:8.2f} {rows:>19s}  {answer.action}  "
              f"{verdict(answer.settled and answer.seconds <= FILTER_SECONDS)}{notes}")


def report_history(rounds: list[tuple[int, int]], poll_interval_s: float, file_bytes: int) -> None:
    keyframes = [size for kind, size in rounds if kind != DELTA]
    deltas = [size for kind, size in rounds if kind == DELTA]
    keyframe = sum(keyframes) / max(1, len(keyframes))
    delta = sum(deltas) / len(deltas) if deltas else keyframe
    every = ChainPolicy().keyframe_every  # a chain is at most this many rounds
    per_round = keyframe / every + delta * (every - 1) / every
    per_day = per_round * 86_400 / poll_interval_s
    print(f"history:  {len(rounds)} rounds kept ({len(keyframes)} keyframes of {keyframe / MIB:.2f} MB, "
          f"{len(deltas)} deltas of {delta / 1024:.1f} KB on average); sqlite file {file_bytes / MIB:.1f} MB")
    print(f"          per round {per_round / 1024:.1f} KB, per day at {poll_interval_s:g} s rounds "
          f"{per_day / 2**30:.2f} GB (a keyframe every {every} rounds or sooner; quiet fleet)  "
          f"target < 1 GB/day: {verdict(per_day < 2**30)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="300 nodes per cluster at the seed's densities")
    parser.add_argument("--nodes", type=int, help="this many nodes per cluster at the seed's densities")
    parser.add_argument("--share", type=float, help="the seed fleet with every count times this (e.g. 0.25)")
    parser.add_argument("--watch-s", type=float, default=60.0, help="watch period for CPU and RSS (issue: 1800)")
    parser.add_argument("--poll-interval-s", type=float, default=15.0)
    parser.add_argument("--history-days", type=float, default=0.0,
                        help="days of rounds in the history before the dashboard starts (issue: 7; a small "
                             "fleet's rounds under these clusters' names, bench/history_fill.py)")
    parser.add_argument("--page-timeout-s", type=float, default=120.0)
    parser.add_argument("--analysis-timeout-s", type=float, default=900.0)
    parser.add_argument("--serve", choices=["kubernetes", "marathon"], help=argparse.SUPPRESS)
    parser.add_argument("--analyze", help=argparse.SUPPRESS)
    parser.add_argument("--k8s-nodes", type=int, default=SEED.k8s_nodes, help=argparse.SUPPRESS)
    parser.add_argument("--mesos-agents", type=int, default=SEED.mesos_agents, help=argparse.SUPPRESS)
    parser.add_argument("--marathon-apps", type=int, default=SEED.marathon_apps, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, replace(SEED, k8s_nodes=args.k8s_nodes, mesos_agents=args.mesos_agents,
                                  marathon_apps=args.marathon_apps))
        return 0
    if args.analyze:
        analyze_each(args.analyze)
        return 0
    from bench.fleet_pages import answer_filters, visit_pages

    size = scaled(args.nodes or 300) if args.small or args.nodes else fraction_of_seed(args.share) if args.share else SEED
    with tempfile.TemporaryDirectory(prefix="podium-fleet-") as temp:
        folder, started = Path(temp), time.perf_counter()
        fleet = Fleet(size, folder, args.poll_interval_s)
        print(f"emulators: {size}; serving after {time.perf_counter() - started:.1f} s", flush=True)
        log = folder / "streamlit.log"
        dashboard = None
        try:
            if args.history_days:
                fleet.prefilled_to = prefill(fleet.history, fleet.names, args.history_days, args.poll_interval_s,
                                             lambda done, total: print(f"history: {done:,} of {total:,} rounds of "
                                                                       f"{args.history_days:g} days written", flush=True))
            dashboard, url = start_dashboard(fleet.env, fleet.config, log)
            report_first_round(*wait_for_first_round(fleet, dashboard, url, log, 1800))
            print("pages while the first round is still being prepared (tables, problems, analysis):")
            report_pages(*visit_pages(url, timeout_s=args.page_timeout_s))
            report_watch(summarize(watch(dashboard.pid, args.watch_s), window_s=min(300.0, args.watch_s / 3)))
            print("pages again, after watching (the fleet quiet, rounds going on):")
            report_pages(*visit_pages(url, timeout_s=args.page_timeout_s))
            print("filters and searches on the table pages (a name from the table's first row; then one cluster):")
            report_filters(answer_filters(url, timeout_s=args.page_timeout_s))
            report_history(history_rounds(fleet.history, fleet.prefilled_to), args.poll_interval_s,
                           sum(p.stat().st_size for p in fleet.history.glob("history.sqlite3*")))
            results = analysis_times(fleet, folder, args.analysis_timeout_s)
            for result in results:
                print(f"analysis: {result['cluster']:16s} {result['nodes']:7,} nodes {result['instances']:8,} "
                      f"instances  {result['seconds']:7.2f} s", flush=True)
            total = sum(r["seconds"] for r in results)
            print(f"analysis: whole fleet {total:.2f} s over {len(results)} of {fleet.clusters} clusters (target < 5 s: "
                  f"{verdict(total < 5 and len(results) == fleet.clusters)}; a 50,000-node cluster < 2 s)", flush=True)
        finally:
            if dashboard is not None:
                stop_dashboard(dashboard)
            fleet.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
