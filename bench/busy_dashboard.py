"""Page views while the dashboard's process is busy: Streamlit's and Python's defaults (the
baseline: the file watcher on, a 5 ms GIL switch interval) against the dashboard's settings
(`.streamlit/config.toml` turns the watcher off, app.py sets GIL_SWITCH_INTERVAL_S).

    .venv/bin/python -m bench.busy_dashboard              # 3 pairs
    .venv/bin/python -m bench.busy_dashboard --pairs 5 --nodes 52000

The dashboard's process collects, stores and analyzes besides serving pages. Here one of its
threads analyzes a Marathon-like snapshot (bench/analysis_scale.py's `--mixed` shape) over and over,
as the dashboard's analysis thread does when a 50,000-node cluster changes
(`views.resilience.analyze_giving_way`), while headless Chromium opens the Overview twice, each
time in a new browser (an empty cache: the static bundle included) until the script run the load
started is over: the process's first page view (its pages' modules are imported then) and a second
one. The dashboard watches one small emulated Nomad cluster in its own process. Baseline and
Podium dashboards alternate, each started afresh; the busy thread is added through a
`sitecustomize` module on the dashboard's PYTHONPATH (this bench's, not the product's). Printed:
each view's seconds, the medians and their ratios, and the views of an idle dashboard for scale.
Times are from this machine, this run: compare ratios, not absolute numbers.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.fleet_pages import visit_pages  # noqa: E402
from bench.fleet_scale import start_dashboard, stop_dashboard, wait_until  # noqa: E402

DEFAULT_SWITCH_S = 0.005  # Python's default (sys.getswitchinterval() in a fresh interpreter)

# Runs in the dashboard's process only (the bench sets PODIUM_BENCH_BUSY for it): once app.py is
# imported (it sets the dashboard's interval), optionally put the default back, then analyze forever
# as the dashboard's analysis thread does (a fresh memo each time: the same snapshot, analyzed afresh).
SITECUSTOMIZE = '''
import os, sys, threading, time

def _busy():
    nodes, switch_s, ready = int(os.environ["PODIUM_BENCH_BUSY"]), os.environ.get("PODIUM_BENCH_SWITCH_S"), os.environ["PODIUM_BENCH_READY"]
    from bench.analysis_scale import mixed_snapshot
    from fleet.analysis import AnalysisMemo
    from views.resilience import analyze_giving_way  # the dashboard's analysis thread, pauses included
    snapshot = mixed_snapshot(nodes, 4)
    while not hasattr(sys.modules.get("app"), "server"):
        time.sleep(0.1)
    if switch_s:
        sys.setswitchinterval(float(switch_s))
    with open(ready, "w") as marker:
        marker.write(str(sys.getswitchinterval()))
    while True:
        analyze_giving_way(AnalysisMemo(), snapshot, lambda share: None)

if os.environ.get("PODIUM_BENCH_BUSY") and "app.py" in sys.argv:  # not the dashboard's helper processes
    threading.Thread(target=_busy, name="bench-busy", daemon=True).start()
'''


def start_emulator() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "sim.nomad", "--nodes", "50", "--jobs", "20",
                                "--allocs-per-job", "5"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("URL "):
        process.kill()
        raise SystemExit(f"the Nomad emulator did not start: {line!r}")
    return process, line.split()[1]


def page_views(folder: Path, config: Path, nodes: int | None, baseline: bool) -> tuple[float, float, float]:
    """(seconds of the process's first page view, of a second one, the switch interval in force) for
    one dashboard started afresh; `nodes` None: no busy thread."""
    ready = folder / f"ready-{time.monotonic_ns()}"
    env = {**os.environ, "PYTHONPATH": f"{folder}{os.pathsep}{ROOT}", "PODIUM_BENCH_READY": str(ready)}
    if nodes:
        env["PODIUM_BENCH_BUSY"] = str(nodes)
    if baseline:
        env["PODIUM_BENCH_SWITCH_S"] = str(DEFAULT_SWITCH_S)
    log = folder / "dashboard.log"
    process, url = start_dashboard(env, config, log, ["--server.fileWatcherType", "auto"] if baseline else [])
    try:
        if nodes:  # the busy thread is at work
            wait_until(ready.exists, process, 300, log)
        first, _ = visit_pages(url, pages=["overview"], timeout_s=300)
        second, _ = visit_pages(url, pages=["overview"], timeout_s=300)
        interval = float(ready.read_text()) if nodes else float("nan")
        return first.seconds, second.seconds, interval
    finally:
        stop_dashboard(process)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=52_000, help="nodes of the snapshot the busy thread analyzes")
    parser.add_argument("--skip-baseline", action="store_true", help="only dashboards with the shipped settings")
    args = parser.parse_args(argv)
    arms = (("podium", False),) if args.skip_baseline else (("baseline", True), ("podium", False))
    emulator, nomad_url = start_emulator()
    views: dict[str, list[tuple[float, float]]] = {"baseline": [], "podium": []}
    try:
        with tempfile.TemporaryDirectory(prefix="podium-busy-") as tmp:
            folder = Path(tmp)
            (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
            config = folder / "clusters.yaml"
            config.write_text(f"settings:\n  history_dir: {folder / 'history'}\nclusters:\n"
                              f"  - name: small-nomad\n    orchestrator: nomad\n    url: {nomad_url}\n")
            for name, baseline in arms:
                first, second, _ = page_views(folder, config, None, baseline)
                print(f"idle, {LABELS[name]}: first page view {first:.2f} s, second {second:.2f} s", flush=True)
            for _ in range(args.pairs):  # alternate, so both meet the same background load
                for name, baseline in arms:
                    first, second, interval = page_views(folder, config, args.nodes, baseline)
                    views[name].append((first, second))
                    print(f"busy, {LABELS[name]} (switch interval {interval * 1000:g} ms): first page view "
                          f"{first:.2f} s, second {second:.2f} s", flush=True)
    finally:
        emulator.kill()
        emulator.wait()
    for index, which in enumerate(("first", "second")):
        if args.skip_baseline:
            print(f"median {which} page view beside a busy thread: "
                  f"{statistics.median(v[index] for v in views['podium']):.2f} s with the dashboard's settings")
            continue
        before, after = (statistics.median(v[index] for v in views[name]) for name in ("baseline", "podium"))
        print(f"median {which} page view beside a busy thread: {before:.2f} s with the defaults, {after:.2f} s "
              f"with the dashboard's settings: {before / after:.1f}x faster")


LABELS = {"baseline": "defaults (watcher on, 5 ms)", "podium": "the dashboard's settings"}


if __name__ == "__main__":
    main()
