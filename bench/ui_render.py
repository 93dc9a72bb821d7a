"""Render time of every page (AppTest) for a small and a large fleet, side by side.

    python -m bench.ui_render [--large-nodes 5000] [--pods-per-node 30] [--moments 3]

The small fleet (50 nodes) is the baseline measured in the same run; the ratio says how much
slower a page gets at scale. "first" is a page's first run in a fresh session (the snapshot file
decoded, tables built; for History the two newest kept moments decoded and compared), "rerun" the
median of the refreshes that follow, what a user waits for on each filter or round. History reads
a SQLite store holding `--moments` rounds of the fleet. Seconds in a real browser and bytes sent
are measured by bench/fleet_scale.py; nothing here asserts a time: benchmarks print, tests check.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import msgspec
from streamlit.testing.v1 import AppTest

from bench.synthetic import synthetic_snapshot
from fleet.model import Snapshot, encode_snapshot
from fleet.store import open_sqlite

PAGES = ["overview", "nodes", "workloads", "instances", "services", "health", "capacity", "resilience", "history",
         "snapshots"]


class NoBareModeNotes(logging.Filter):
    """AppTest itself touches session state outside a script run; Streamlit then logs that this
    'can be ignored when running in bare mode'. It says nothing about the pages: keep it out."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "missing ScriptRunContext" not in record.getMessage()


def quiet_streamlit() -> None:
    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    logger.addFilter(NoBareModeNotes())
    for handler in logger.handlers:
        handler.addFilter(NoBareModeNotes())


def page_script(page: str, snapshot_file: str, history_file: str) -> None:
    import importlib
    from pathlib import Path

    import streamlit as st

    from fleet.model import decode_snapshot
    from fleet.store import open_sqlite
    from views.context import PageContext

    @st.cache_resource
    def load(path: str):
        return decode_snapshot(Path(path).read_bytes())

    if page == "history":
        from views import history
        history.render(open_sqlite(history_file))
    else:
        importlib.import_module(f"views.{page}").render(PageContext(load(snapshot_file), "live"))


def time_page(page: str, files: tuple[str, str], repeats: int) -> tuple[float, float]:
    app = AppTest.from_function(page_script, args=(page, *files), default_timeout=900)
    started = time.perf_counter()
    app.run()
    first = time.perf_counter() - started
    if app.exception:
        raise SystemExit(f"{page} raised: {app.exception}")
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        app.run()
        times.append(time.perf_counter() - started)
    return first, statistics.median(times)


def keep_history(path: Path, snapshot: Snapshot, moments: int) -> None:
    """`moments` rounds one minute apart; each round one more node is lost, so the diff has something to say."""
    store = open_sqlite(path, clock=lambda: snapshot.taken_at + timedelta(minutes=moments))
    clusters = snapshot.clusters
    for minute in range(moments):
        first = clusters[0]
        lost = [msgspec.structs.replace(n, status="down") if i == minute else n for i, n in enumerate(first.nodes)]
        clusters = [msgspec.structs.replace(first, nodes=lost), *clusters[1:]]
        store.save(msgspec.structs.replace(snapshot, clusters=clusters, taken_at=snapshot.taken_at
                                           + timedelta(minutes=minute)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=30)
    parser.add_argument("--moments", type=int, default=3, help="kept rounds in the History page's store")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pages", nargs="*", default=PAGES, choices=PAGES)
    args = parser.parse_args()
    quiet_streamlit()
    folder = Path(tempfile.mkdtemp(prefix="podium-bench-"))
    fleets = {"small": synthetic_snapshot(50, args.pods_per_node),
              "large": synthetic_snapshot(args.large_nodes, args.pods_per_node, clusters=2)}
    files = {}
    for name, snapshot in fleets.items():
        files[name] = (str(folder / f"{name}.json"), str(folder / f"{name}.sqlite3"))
        Path(files[name][0]).write_bytes(encode_snapshot(snapshot, indent=0))
        keep_history(Path(files[name][1]), snapshot, args.moments)
        print(f"{name}: {sum(c.summary.nodes_total for c in snapshot.clusters):,} nodes, "
              f"{sum(c.summary.instances_total for c in snapshot.clusters):,} instances, "
              f"{args.moments} kept moments")
    print(f"{'page':<12}{'small first':>13}{'rerun':>8}{'large first':>13}{'rerun':>8}{'ratio (rerun)':>15}")
    for page in args.pages:
        small_first, small = time_page(page, files["small"], args.repeats)
        large_first, large = time_page(page, files["large"], args.repeats)
        print(f"{page:<12}{small_first:>13.3f}{small:>8.3f}{large_first:>13.3f}{large:>8.3f}{large / small:>15.1f}")


if __name__ == "__main__":
    main()
