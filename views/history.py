"""History: trends per cluster from the kept snapshots, and the diff between two moments.

Thin: the store gives trend points and snapshots, fleet.diff compares them. Charts are fed at most
MAX_POINTS rows per cluster (evenly thinned), never a week of raw rounds.
"""
from __future__ import annotations

import statistics
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TypeVar

import altair as alt
import pandas as pd
import streamlit as st

from fleet.diff import SnapshotDiff, change_lines, diff_snapshots
from fleet.store import SnapshotStore, StoredSnapshot, TrendPoint
from views.snapshots import load_upload

MAX_POINTS = 400
MAX_CHANGE_LINES = 1_000
MAX_MOMENTS = 500  # moments offered to compare: a week of 15 s rounds is 40,000, too many for a list
GIB = 2**30
# a pause between kept rounds this many times longer than their usual spacing (the dashboard was
# stopped, or nothing could be written) is drawn as a break in the charts, not as a straight line
# across time no round was kept
GAP_FACTOR = 5
Kept = TypeVar("Kept")


def thinned(points: list[Kept], most: int = MAX_POINTS) -> list[Kept]:
    """At most `most` points, evenly spaced, always keeping the newest."""
    if len(points) <= most:
        return points
    step = len(points) / most
    picked = [points[int(i * step)] for i in range(most - 1)]
    return picked + [points[-1]]


def pauses(points: list[TrendPoint]) -> list[tuple[datetime, datetime]]:
    """(last point before, first point after) each pause far longer than the points' usual spacing
    (the median)."""
    steps = [b.taken_at - a.taken_at for a, b in zip(points, points[1:])]
    if len(steps) < 2:
        return []
    usual = max(statistics.median(steps), timedelta(seconds=1))
    return [(a.taken_at, b.taken_at) for a, b, step in zip(points, points[1:], steps) if step > GAP_FACTOR * usual]


def gap_times(points: list[TrendPoint]) -> list[datetime]:
    """The middle of each pause, where the charts break."""
    return [before + (after - before) / 2 for before, after in pauses(points)]


def with_gaps(rows: list[tuple], points: list[TrendPoint], series: list[tuple]) -> list[tuple]:
    """`rows` (time first, value last) with a row of no value for each series in each gap, where
    Vega breaks the series' line or area."""
    gaps = [(when, *names, None) for when in gap_times(points) for names in series]
    return sorted(rows + gaps, key=lambda row: row[0]) if gaps else rows


def nodes_frame(points: list[TrendPoint]) -> pd.DataFrame:
    rows = [(p.taken_at, "ready", p.nodes_ready) for p in points]
    rows += [(p.taken_at, "total", p.nodes_total) for p in points]
    return pd.DataFrame(with_gaps(rows, points, [("ready",), ("total",)]), columns=["time", "nodes", "count"])


# the same meaning as everywhere else: running is good, failed is bad (every InstanceState)
STATE_COLOURS = {"running": "#54a24b", "pending": "#4c78a8", "succeeded": "#bab0ac", "stopped": "#9d9d9d",
                 "unknown": "#d3d3d3", "failed": "#e45756"}


def instances_frame(points: list[TrendPoint]) -> pd.DataFrame:
    """Every state at every point, 0 where a round had none of it: a state left out of some rounds
    would be drawn as a slope between the rounds that had it, and a cluster without instances as
    an empty chart."""
    rows = [(p.taken_at, state, p.instances_by_state.get(state, 0)) for p in points for state in STATE_COLOURS]
    return pd.DataFrame(with_gaps(rows, points, [(state,) for state in STATE_COLOURS]),
                        columns=["time", "state", "instances"])


def count_scale(frame: pd.DataFrame, value: str) -> alt.Scale:
    """Counts from 0; all zero, the axis still reads 0 to 1 (Vega would label a zero domain 0.000000)."""
    return alt.Scale(domain=[0, 1]) if frame.empty or not frame[value].any() else alt.Scale(zero=True)


def allocation_frame(points: list[TrendPoint]) -> pd.DataFrame:
    rows = []
    for p in points:
        rows.append((p.taken_at, "CPU (cores)", "allocated", p.cpu_allocated_cores))
        rows.append((p.taken_at, "CPU (cores)", "allocatable", p.cpu_allocatable_cores))
        rows.append((p.taken_at, "memory (GiB)", "allocated", p.mem_allocated_bytes / GIB))
        rows.append((p.taken_at, "memory (GiB)", "allocatable", p.mem_allocatable_bytes / GIB))
    series = [(resource, measure) for resource in ("CPU (cores)", "memory (GiB)") for measure in ("allocated", "allocatable")]
    return pd.DataFrame(with_gaps(rows, points, series), columns=["time", "resource", "measure", "amount"])


# 24-hour UTC, as every other time in the app; the browser's locale and time zone never apply.
# Ticks between whole minutes (a dashboard started a minute ago has rounds 15 s apart) show their
# seconds, else they would all read the same minute ("04:18 04:18 04:18"); midnight shows its date.
HOURS_AXIS = alt.Axis(labelExpr="utcFormat(datum.value, '%S') != '00' ? utcFormat(datum.value, '%H:%M:%S') : "
                                "utcFormat(datum.value, '%H:%M') == '00:00' ? utcFormat(datum.value, '%b %d') : "
                                "utcFormat(datum.value, '%H:%M')")
# over days a half-width chart has room for few labels and drops overlapping ones, midnight's
# dates among them ("12:00 12:00 12:00" for a week): one tick a day, labelled with its date
DAYS_AXIS = alt.Axis(tickCount="day", labelExpr="utcFormat(datum.value, '%b %d')")
DAYS_FROM = timedelta(days=2)
TIME_TOOLTIP = alt.Tooltip("time:T", title="time (UTC)", format="%Y-%m-%d %H:%M:%S", formatType="utc")


def time_axis(points: list[TrendPoint]) -> alt.X:
    """The charts' time axis: hours and minutes, or dates when the points span days."""
    days = len(points) > 1 and points[-1].taken_at - points[0].taken_at >= DAYS_FROM
    return alt.X("time:T", title=None, scale=alt.Scale(type="utc"), axis=DAYS_AXIS if days else HOURS_AXIS)


# nodes and instances are counted: no "0.2 nodes" ticks on a small cluster's chart
WHOLE_NUMBERS = alt.Axis(format="d", tickMinStep=1)


def count_y(frame: pd.DataFrame, value: str, **encoding) -> alt.Y:
    """The y of a chart of counts: whole numbers from 0 (0 to 1 when every count is 0)."""
    return alt.Y(f"{value}:Q", scale=count_scale(frame, value), axis=WHOLE_NUMBERS, **encoding)


def line_chart(frame: pd.DataFrame, value: str, series: str, title: str, x: alt.X, counted: bool = False) -> alt.Chart:
    return alt.Chart(frame, title=title).mark_line(point=len(frame) < 60).encode(
        x=x, y=count_y(frame, value) if counted else alt.Y(f"{value}:Q"), color=alt.Color(f"{series}:N"),
        tooltip=[TIME_TOOLTIP, f"{series}:N", f"{value}:Q"])


def render_trends(store: SnapshotStore) -> None:
    clusters = store.clusters()
    if not clusters:
        return
    cluster = st.selectbox("Cluster", clusters, key="history-cluster")
    points = thinned(store.trends(cluster, most=MAX_POINTS))
    x = time_axis(points)
    left, right = st.columns(2)
    left.altair_chart(line_chart(nodes_frame(points), "count", "nodes", "Nodes", x, counted=True), key="history-nodes")
    instances = instances_frame(points)
    right.altair_chart(alt.Chart(instances, title="Instances by state").mark_area().encode(
        x=x, y=count_y(instances, "instances", stack=True),
        color=alt.Color("state:N", scale=alt.Scale(domain=list(STATE_COLOURS), range=list(STATE_COLOURS.values()))),
        tooltip=[TIME_TOOLTIP, "state:N", "instances:Q"]), key="history-instances")
    allocation = allocation_frame(points)
    for column, (resource, title) in zip(st.columns(2), (("CPU (cores)", "CPU allocated (cores)"),
                                                         ("memory (GiB)", "Memory allocated (GiB)"))):
        column.altair_chart(line_chart(allocation[allocation["resource"] == resource], "amount", "measure", title, x),
                            key=f"history-{resource.split()[0]}")
    if gaps := pauses(points):
        st.caption("No round kept " + ", ".join(f"from {stamp(before)} to {stamp(after)}" for before, after in gaps[:3])
                   + (f" and {len(gaps) - 3} more times" if len(gaps) > 3 else "") + ": the charts break there.")


def moment_label(stored: StoredSnapshot) -> str:
    return f"{stored.taken_at:%Y-%m-%d %H:%M:%S} UTC (#{stored.id})"


def offered_moments(stored: list[StoredSnapshot]) -> list[StoredSnapshot]:
    """At most MAX_MOMENTS, evenly thinned, always with the two newest (the default comparison)."""
    if len(stored) <= MAX_MOMENTS:
        return stored
    return thinned(stored[:-2], MAX_MOMENTS - 2) + stored[-2:]


class Comparisons:
    """Each pair of kept moments decoded and compared once per process, on one worker thread, for every
    session: a kept moment never changes, and at the seed's size decoding two takes seconds."""

    def __init__(self, most: int = 16) -> None:
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="podium-history-diff")
        self._pairs: OrderedDict[tuple[str, int, int], Future[SnapshotDiff]] = OrderedDict()
        self._most = most

    def of(self, store: SnapshotStore, old_id: int, new_id: int) -> Future[SnapshotDiff]:
        key = (store.describe(), old_id, new_id)
        with self._lock:
            if key not in self._pairs:
                self._pairs[key] = self._worker.submit(lambda: diff_snapshots(store.load(old_id), store.load(new_id)))
                while len(self._pairs) > self._most:
                    self._pairs.popitem(last=False)
            self._pairs.move_to_end(key)
            return self._pairs[key]


comparisons = Comparisons()
COMPARE_WAIT_S = 0.5  # a small fleet's pair is compared by then; a large one's appears when done


def pick_stored(store: SnapshotStore, stored: list[StoredSnapshot]) -> SnapshotDiff | None:
    if len(stored) < 2:
        st.caption("Two kept snapshots are needed to compare moments.")
        return None
    labels = {moment_label(s): s.id for s in reversed(offered_moments(stored))}
    names = list(labels)
    older, newer = st.columns(2)
    old = older.selectbox("From", names, index=1, key="history-from")
    new = newer.selectbox("To", names, index=0, key="history-to")
    comparison = comparisons.of(store, labels[old], labels[new])
    try:
        return comparison.result(timeout=COMPARE_WAIT_S)
    except TimeoutError:
        st.info("Comparing the two moments… (decoding two kept snapshots of a large fleet takes a few seconds); "
                "the changes appear here when done.", icon=":material/hourglass_top:")
        show_when_done(comparison)
        return None


def show_when_done(comparison: Future) -> None:
    @st.fragment(run_every=1.0)
    def waiting() -> None:
        if comparison.done():
            st.rerun()

    waiting()


def pick_uploaded() -> SnapshotDiff | None:
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
    return diff_snapshots(loaded[0][0], loaded[1][0])  # type: ignore[arg-type]


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
            if len(lines) > MAX_CHANGE_LINES:
                st.caption(f"The first {MAX_CHANGE_LINES:,} of {len(lines):,} changes.")
            if lines:
                st.code("\n".join(lines[:MAX_CHANGE_LINES]), language="diff")


def render_compare(store: SnapshotStore | None, stored: list[StoredSnapshot]) -> None:
    st.subheader("What changed")
    choices = ["kept moments", "uploaded files"] if store is not None else ["uploaded files"]
    source = st.radio("Compare", choices, horizontal=True, key="history-compare-source")
    diff = pick_stored(store, stored) if source == "kept moments" and store is not None else pick_uploaded()
    if diff is not None:
        render_diff(diff)


def render(store: SnapshotStore | None, *, problem: str | None = None) -> None:
    """The History page. `store` is None when no history is kept; `problem` says why, if known."""
    st.header("History")
    if problem:
        st.error(problem)
    # thinned in the store: a week of 15 s rounds is 40,000 moments
    stored = store.list_snapshots(most=MAX_MOMENTS) if store is not None else []
    if store is None:
        st.info("No history is kept in this process; two snapshot files can still be compared below.",
                icon=":material/info:")
    elif not stored:
        st.info("No snapshot kept yet: one is kept after every collection round.", icon=":material/hourglass_top:")
    else:
        kept, first, last = store.span()
        st.caption(f"{kept:,} snapshots kept in {store.describe()}, from {stamp(first or stored[0].taken_at)} to "
                   f"{stamp(last or stored[-1].taken_at)}")
        render_trends(store)
    render_compare(store, stored)


def stamp(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC"
