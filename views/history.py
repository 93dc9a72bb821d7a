"""History: trends per cluster from the kept snapshots, and the diff between two moments.

Thin: the store gives trend points and snapshots, fleet.diff compares them. Charts are fed at most
MAX_POINTS rows per cluster (evenly thinned), never a week of raw rounds.
"""
from __future__ import annotations

from datetime import datetime

import altair as alt
import pandas as pd
import streamlit as st

from fleet.diff import SnapshotDiff, change_lines, diff_snapshots
from fleet.model import Snapshot
from fleet.store import SnapshotStore, StoredSnapshot, TrendPoint
from views.snapshots import load_upload

MAX_POINTS = 400
GIB = 2**30


def thinned(points: list[TrendPoint], most: int = MAX_POINTS) -> list[TrendPoint]:
    """At most `most` points, evenly spaced, always keeping the newest."""
    if len(points) <= most:
        return points
    step = len(points) / most
    picked = [points[int(i * step)] for i in range(most - 1)]
    return picked + [points[-1]]


def nodes_frame(points: list[TrendPoint]) -> pd.DataFrame:
    rows = [(p.taken_at, "ready", p.nodes_ready) for p in points]
    rows += [(p.taken_at, "total", p.nodes_total) for p in points]
    return pd.DataFrame(rows, columns=["time", "nodes", "count"])


# the same meaning as everywhere else: running is good, failed is bad
STATE_COLOURS = {"running": "#54a24b", "pending": "#4c78a8", "succeeded": "#bab0ac", "stopped": "#9d9d9d",
                 "unknown": "#d3d3d3", "failed": "#e45756"}


def instances_frame(points: list[TrendPoint]) -> pd.DataFrame:
    rows = [(p.taken_at, state, count) for p in points for state, count in sorted(p.instances_by_state.items())]
    return pd.DataFrame(rows, columns=["time", "state", "instances"])


def allocation_frame(points: list[TrendPoint]) -> pd.DataFrame:
    rows = []
    for p in points:
        rows.append((p.taken_at, "CPU (cores)", "allocated", p.cpu_allocated_cores))
        rows.append((p.taken_at, "CPU (cores)", "allocatable", p.cpu_allocatable_cores))
        rows.append((p.taken_at, "memory (GiB)", "allocated", p.mem_allocated_bytes / GIB))
        rows.append((p.taken_at, "memory (GiB)", "allocatable", p.mem_allocatable_bytes / GIB))
    return pd.DataFrame(rows, columns=["time", "resource", "measure", "amount"])


def line_chart(frame: pd.DataFrame, value: str, series: str, title: str) -> alt.Chart:
    return alt.Chart(frame, title=title).mark_line(point=len(frame) < 60).encode(
        x=alt.X("time:T", title=None), y=alt.Y(f"{value}:Q"), color=alt.Color(f"{series}:N"),
        tooltip=["time:T", f"{series}:N", f"{value}:Q"])


def render_trends(store: SnapshotStore) -> None:
    clusters = store.clusters()
    if not clusters:
        return
    cluster = st.selectbox("Cluster", clusters, key="history-cluster")
    points = thinned(store.trends(cluster))
    left, right = st.columns(2)
    left.altair_chart(line_chart(nodes_frame(points), "count", "nodes", "Nodes"), key="history-nodes")
    right.altair_chart(alt.Chart(instances_frame(points), title="Instances by state").mark_area().encode(
        x=alt.X("time:T", title=None), y=alt.Y("instances:Q", stack=True),
        color=alt.Color("state:N", scale=alt.Scale(domain=list(STATE_COLOURS), range=list(STATE_COLOURS.values()))),
        tooltip=["time:T", "state:N", "instances:Q"]), key="history-instances")
    allocation = allocation_frame(points)
    for column, (resource, title) in zip(st.columns(2), (("CPU (cores)", "CPU allocated (cores)"),
                                                         ("memory (GiB)", "Memory allocated (GiB)"))):
        column.altair_chart(line_chart(allocation[allocation["resource"] == resource], "amount", "measure", title),
                            key=f"history-{resource.split()[0]}")


def moment_label(stored: StoredSnapshot) -> str:
    return f"{stored.taken_at:%Y-%m-%d %H:%M:%S} UTC (#{stored.id})"


def pick_stored(store: SnapshotStore, stored: list[StoredSnapshot]) -> tuple[Snapshot, Snapshot] | None:
    if len(stored) < 2:
        st.caption("Two kept snapshots are needed to compare moments.")
        return None
    labels = {moment_label(s): s.id for s in reversed(stored)}
    names = list(labels)
    older, newer = st.columns(2)
    old = older.selectbox("From", names, index=1, key="history-from")
    new = newer.selectbox("To", names, index=0, key="history-to")
    return store.load(labels[old]), store.load(labels[new])


def pick_uploaded() -> tuple[Snapshot, Snapshot] | None:
    older, newer = st.columns(2)
    files = (older.file_uploader("Older snapshot (JSON)", type=["json"], key="history-upload-old"),
             newer.file_uploader("Newer snapshot (JSON)", type=["json"], key="history-upload-new"))
    if not all(files):
        return None
    loaded = [load_upload(f.name, f.getvalue()) for f in files]  # type: ignore[union-attr]
    for _, error in loaded:
        if error:
            st.error(error)
    if any(error for _, error in loaded):
        return None
    return loaded[0][0], loaded[1][0]  # type: ignore[return-value]


def render_diff(diff: SnapshotDiff) -> None:
    st.caption(f"From {diff.old_taken_at} to {diff.new_taken_at}")
    if diff.unchanged:
        st.success("No changes between these two moments.", icon=":material/check_circle:")
        return
    for cluster in diff.clusters:
        if cluster.change == "unchanged":
            continue
        with st.container(border=True, key=f"diff-{cluster.cluster}"):
            st.markdown(f"**{cluster.cluster}** — {cluster.change}")
            lines = change_lines(cluster, arrow="→")
            if lines:
                st.code("\n".join(lines), language="diff")


def render_compare(store: SnapshotStore | None, stored: list[StoredSnapshot]) -> None:
    st.subheader("What changed")
    choices = ["kept moments", "uploaded files"] if store is not None else ["uploaded files"]
    source = st.radio("Compare", choices, horizontal=True, key="history-compare-source")
    pair = pick_stored(store, stored) if source == "kept moments" and store is not None else pick_uploaded()
    if pair is not None:
        render_diff(diff_snapshots(*pair))


def render(store: SnapshotStore | None, *, problem: str | None = None) -> None:
    """The History page. `store` is None when no history is kept; `problem` says why, if known."""
    st.header("History")
    if problem:
        st.error(problem)
    stored = store.list_snapshots() if store is not None else []
    if store is None:
        st.info("No history is kept in this process; two snapshot files can still be compared below.",
                icon=":material/info:")
    elif not stored:
        st.info("No snapshot kept yet: one is kept after every collection round.", icon=":material/hourglass_top:")
    else:
        first, last = stored[0].taken_at, stored[-1].taken_at
        st.caption(f"{len(stored):,} snapshots kept in {store.describe()}, from {stamp(first)} to {stamp(last)}")
        render_trends(store)
    render_compare(store, stored)


def stamp(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC"
