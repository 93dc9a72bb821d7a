"""Podium: one dashboard for every container cluster. Run with `streamlit run app.py`.

The entry point wires the orchestrator-specific parts (collectors, the demo fleet's emulators)
into the orchestrator-agnostic core and routes to the pages; pages render a Snapshot only.

This file plays two parts. `streamlit run app.py` imports it as the module `app` and serves `app`,
an `st.App` whose lifespan starts the fleet with the process and whose routes are the HTTP API
(api/, docs/api.md). Streamlit then runs it as `__main__` for each page view: the page router.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import streamlit as st

from collectors import build_collector
from fleet.auth import mentions_auth
from fleet.config import parse_cluster_entries
from fleet.model import Snapshot, utc_now
from fleet.analysis import SnapshotAnalysis
from fleet.runtime import DemoFleet, FleetRuntime, config_path_from_env, shared_runtime
from views import (alerts, auth, capacity, health, history, instances, nodes, overview, resilience, services,
                   settings, snapshots, workloads)
from views.context import PageContext
from views.format import ago
from views.live import first_round_progress, shown_snapshot, tables_first, whole_round_shown

Render = Callable[[PageContext], None]
FIRST_ROUND_RERUN_S = 2.0  # how often a live page looks again while the first round is collected
GIL_SWITCH_INTERVAL_S = 0.0001  # see where it is set, below


def start_demo() -> DemoFleet:
    """Start the emulators in-process on loopback and describe them as ordinary clusters."""
    from sim.fleet import start_demo_fleet

    demo_clusters = start_demo_fleet()
    for demo in demo_clusters:
        os.environ.update(demo.environ)
    configs = parse_cluster_entries([d.config for d in demo_clusters], "(demo fleet)")

    def stop() -> None:
        for demo in demo_clusters:
            demo.stop()

    return DemoFleet(configs, stop)


def shared_analysis(snapshot: Snapshot) -> SnapshotAnalysis:
    """The one analysis per snapshot that the Resilience page also shows (alerts wait on it, off the poller)."""
    return resilience.analyses.job(snapshot).result()


def fleet_runtime(path: str) -> FleetRuntime:
    """One runtime (poller, demo fleet, alerts) per process, shared by the server, the API and every session."""
    return shared_runtime(Path(path), lambda p: FleetRuntime(p, build_collector, start_demo=start_demo,
                                                             analysis=shared_analysis,
                                                             before_storing=tables_first).start())


def runtime() -> FleetRuntime:
    return fleet_runtime(str(config_path_from_env()))


def no_fleet_help(fleet: FleetRuntime) -> None:
    if fleet.config_error is not None:
        st.error(f"The configuration `{fleet.config_path}` has problems; fix them (here in Settings, or in the "
                 "file) and reload:")
        st.code(str(fleet.config_error), language="text")
        return
    st.info(f"No clusters configured yet. Add one in Settings, or create `{fleet.config_path}` — start from "
            "`config/clusters.example.yaml` — then reload this page.", icon=":material/info:")
    st.code("cp config/clusters.example.yaml config/clusters.yaml\n"
            "python -m fleet check --config config/clusters.yaml", language="bash")


def banners(fleet: FleetRuntime) -> None:
    offline = snapshots.offline_snapshot()
    if offline:
        snapshot, name = offline
        clusters = ", ".join(c.name for c in snapshot.clusters[:6]) + (" …" if len(snapshot.clusters) > 6 else "")
        st.warning(f"Offline: browsing **{name}**, taken {snapshot.taken_at:%Y-%m-%d %H:%M:%S} UTC "
                   f"({ago(snapshot.taken_at)}), clusters {clusters or '(none)'} — read-only.",
                   icon=":material/history:")
        if st.button("Back to live", key="banner-back-live"):
            snapshots.leave_offline()
            st.rerun()
    elif fleet.demo is not None:
        st.info("Demo fleet — emulated clusters with problems that come and go. Add your clusters in Settings.",
                icon=":material/science:")
    replica_banner(fleet)


def replica_banner(fleet: FleetRuntime) -> None:
    """Replicas sharing a PostgreSQL history: say which one this is and which one polls."""
    if fleet.coordinator is None:
        return
    status = fleet.status()
    if status.role == "follower":
        st.info(f"Follower replica **{status.replica}**: showing the rounds stored by the leader "
                f"**{status.leader or '(none right now: taking over)'}**; this replica polls only its share.",
                icon=":material/dns:")
    else:
        st.caption(f"Leader replica **{status.replica}**: collects and stores the rounds every replica shows.")


def live_header(snapshot: Snapshot, fleet: FleetRuntime) -> None:
    interval = fleet.settings.poll_interval_s
    left, right = st.columns([5, 1])
    left.caption(f"{len(snapshot.clusters)} cluster(s) · updated {ago(snapshot.taken_at)} · "
                 f"polling every {interval:g}s")
    if right.button("Refresh now", icon=":material/refresh:", key="refresh-now"):
        fleet.poller.refresh_now()  # type: ignore[union-attr]
    first_round = fleet.poller is not None and fleet.poller.rounds == 0
    first_round_progress(snapshot, fleet.poller.progress if first_round else None)  # type: ignore[union-attr]


def snapshot_page(render: Render, *, needs_fleet: bool = True) -> Callable[[], None]:
    """A page that renders the live snapshot (refreshed in a fragment) or an uploaded one."""

    def page() -> None:
        fleet = runtime()
        banners(fleet)
        offline = snapshots.offline_snapshot()
        if offline:
            render(PageContext(offline[0], "offline", offline[1]))
            return
        if fleet.poller is None:
            if needs_fleet:
                no_fleet_help(fleet)
            else:
                render(PageContext(Snapshot(taken_at=utc_now()), "live"))
            return
        source = "demo" if fleet.demo is not None and not fleet.configured else "live"

        collecting = not whole_round_shown()

        @st.fragment(run_every=FIRST_ROUND_RERUN_S if collecting else min(fleet.settings.poll_interval_s, 10.0))
        def live() -> None:
            if collecting and whole_round_shown():
                st.rerun()  # the first round is in and prepared: the whole page again, at the usual pace
            snapshot = shown_snapshot(fleet.snapshot())  # the newest round whose tables are built
            live_header(snapshot, fleet)
            render(PageContext(snapshot, source))

        live()

    return page


def visitor() -> auth.Visitor:
    """Sign-in when `settings.auth` is configured (a broken config that mentions it stays locked)."""
    fleet = runtime()
    locked = fleet.config_error is not None and fleet.config_path.exists() and \
        mentions_auth(fleet.config_path.read_text(encoding="utf-8", errors="replace"))
    return auth.admit(fleet.settings.auth, locked=locked)


VISITOR: auth.Visitor


def settings_page() -> None:
    if not VISITOR.may_edit_settings:  # also when reached by its address
        auth.admins_only()
        return
    settings.render(runtime())


def alerts_page() -> None:
    fleet = runtime()
    banners(fleet)
    alerts.render(fleet.alerts)


def history_page() -> None:
    fleet = runtime()
    banners(fleet)
    history.render(fleet.store, problem=fleet.history_problem)


def pages() -> None:
    global VISITOR
    st.set_page_config(page_title="Podium", page_icon=":material/dashboard:", layout="wide")
    VISITOR = visitor()
    st.navigation(page_list()).run()


def page_list() -> dict[str, list]:
    return {
        "Fleet": [
            st.Page(snapshot_page(overview.render), title="Overview", icon=":material/dashboard:", url_path="overview",
                    default=True),
            st.Page(snapshot_page(nodes.render), title="Nodes", icon=":material/dns:", url_path="nodes"),
            st.Page(snapshot_page(workloads.render), title="Workloads", icon=":material/apps:", url_path="workloads"),
            st.Page(snapshot_page(instances.render), title="Instances", icon=":material/view_module:",
                    url_path="instances"),
            st.Page(snapshot_page(services.render), title="Services", icon=":material/lan:", url_path="services"),
            st.Page(snapshot_page(health.render), title="Health", icon=":material/monitor_heart:", url_path="health"),
            st.Page(snapshot_page(capacity.render), title="Capacity", icon=":material/bar_chart:", url_path="capacity"),
            st.Page(alerts_page, title="Alerts", icon=":material/notifications_active:", url_path="alerts"),
        ],
        "Analysis": [
            st.Page(snapshot_page(resilience.render), title="Resilience", icon=":material/health_and_safety:",
                    url_path="resilience"),
            st.Page(history_page, title="History", icon=":material/timeline:", url_path="history"),
        ],
        "Manage": [
            st.Page(snapshot_page(snapshots.render, needs_fleet=False), title="Snapshots", icon=":material/save:",
                    url_path="snapshots"),
            *([st.Page(settings_page, title="Settings", icon=":material/settings:", url_path="settings")]
              if VISITOR.may_edit_settings else []),
        ],
    }


if __name__ == "__main__":  # Streamlit runs this file for each page view
    pages()
else:  # `streamlit run app.py` imports it to find the server: one per process
    import sys

    from api.server import Server
    from views.live import prepare_ahead
    from views.resilience import analyses

    # This process also collects, stores and analyzes. While one of its threads runs Python for seconds
    # (a 50,000-node analysis), any other thread coming back from I/O waits up to the switch interval
    # for the GIL, and a page view does that thousands of times: beside one busy thread, a fresh
    # dashboard's first page view took up to 15 s at Python's 5 ms, under 3 s at 0.1 ms (docs/dashboard.md).
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    server = Server(runtime, jobs=analyses, round_hooks=(prepare_ahead,))
    app = st.App(__file__, lifespan=server.lifespan, routes=server.routes())
