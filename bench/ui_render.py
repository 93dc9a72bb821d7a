"""Render time of each page (AppTest) for a small and a large fleet, side by side.

    python -m bench.ui_render [--large-nodes 5000] [--pods-per-node 30]

The small fleet (50 nodes) is the baseline measured in the same run; the ratio says how much
slower a page gets at scale. Nothing here asserts a time: benchmarks print, tests check.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from bench.synthetic import synthetic_snapshot
from fleet.model import encode_snapshot

PAGES = ["overview", "nodes", "workloads", "instances", "health", "capacity", "snapshots"]


def page_script(page: str, snapshot_file: str) -> None:
    import importlib
    from pathlib import Path

    import streamlit as st

    from fleet.model import decode_snapshot
    from views.context import PageContext

    @st.cache_resource
    def load(path: str):
        return decode_snapshot(Path(path).read_bytes())

    importlib.import_module(f"views.{page}").render(PageContext(load(snapshot_file), "live"))


def time_page(page: str, snapshot_file: str, repeats: int) -> float:
    app = AppTest.from_function(page_script, args=(page, snapshot_file), default_timeout=600)
    app.run()  # first run decodes the file and builds the tables: not what a user waits for per refresh
    if app.exception:
        raise SystemExit(f"{page} raised: {app.exception}")
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        app.run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="podium-bench-"))
    fleets = {"small": synthetic_snapshot(50, args.pods_per_node),
              "large": synthetic_snapshot(args.large_nodes, args.pods_per_node, clusters=2)}
    files = {}
    for name, snapshot in fleets.items():
        files[name] = folder / f"{name}.json"
        files[name].write_bytes(encode_snapshot(snapshot, indent=0))
        print(f"{name}: {sum(c.summary.nodes_total for c in snapshot.clusters):,} nodes, "
              f"{sum(c.summary.instances_total for c in snapshot.clusters):,} instances")
    print(f"{'page':<12}{'small (s)':>12}{'large (s)':>12}{'ratio':>8}")
    for page in PAGES:
        small = time_page(page, str(files["small"]), args.repeats)
        large = time_page(page, str(files["large"]), args.repeats)
        print(f"{page:<12}{small:>12.3f}{large:>12.3f}{large / small:>8.1f}")


if __name__ == "__main__":
    main()
