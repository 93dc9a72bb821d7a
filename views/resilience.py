"""Resilience: what losing a node or a zone would do, how evenly load is spread, room left, limits.

Thin: every number comes from fleet.analysis over the one Snapshot this page is given.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pandas as pd
import streamlit as st

from fleet.analysis import AnalysisMemo, ClusterAnalysis, LossImpact, SnapshotAnalysis, analyze, severity
from fleet.model import Snapshot
from views.context import PageContext
from views.format import cores, human_bytes
from views.tables import InBackground, per_object, tables_being_prepared
from views.widgets import capped, table

MAX_LOSS_ROWS = 200
CAVEAT = ("Re-placement is predicted with first-fit decreasing over the ready, schedulable nodes' free "
          "allocatable CPU and memory. It cannot know placement constraints, affinities, host ports, local "
          "volumes or licences — see docs/analysis.md.")


def analyze_giving_way(memo: AnalysisMemo, snapshot: Snapshot, progress: Callable[[float], None]) -> SnapshotAnalysis:
    """The analysis, pausing at each progress report while a round's tables are prepared: pages wait
    for those tables, not for the analysis."""
    def heard(share: float) -> None:
        progress(share)
        tables_being_prepared.give_way()

    return analyze(snapshot, heard, memo=memo)


# analyzed once per published snapshot, on its own thread, shared by every session (never per browser session)
analyses = InBackground(partial(analyze_giving_way, AnalysisMemo()))  # a quiet cluster is not analyzed again
PROGRESS_EVERY_S = 0.25
FRESH_WAIT_S = 1.0  # how long this round's analysis is waited for before the previous round's is shown


def verdict(analysis: ClusterAnalysis) -> str:
    if analysis.n_plus_1 is None:
        return ":gray-badge[no data]"
    return ":green-badge[:material/check_circle: N+1]" if analysis.n_plus_1 else ":red-badge[:material/error: not N+1]"


def impact_sentence(impact: LossImpact) -> str:
    text = (f"losing **{impact.lost}** strands {len(impact.stranded)} instance(s) "
            f"({cores(impact.stranded_cpu_cores)} cores, {human_bytes(impact.stranded_mem_bytes)} requested)")
    if impact.unplaced:
        text += f"; **{impact.unplaced} fit nowhere** and would stay pending"
    if impact.spof_workloads:
        text += f"; goes dark: {', '.join(impact.spof_workloads)}"
    return text


def summary_frame(analyses: list[ClusterAnalysis]) -> pd.DataFrame:
    rows = [{
        "cluster": a.cluster, "orchestrator": a.orchestrator,
        "N+1": {True: "yes", False: "NO", None: "no data"}[a.n_plus_1],
        "worst node": a.worst_node.lost if a.worst_node else "",
        "would stay pending": a.worst_node.unplaced if a.worst_node else 0,
        "single points of failure": len(a.spof_workloads),
        "zones": "single" if a.zone_loss.single_zone else len(a.zone_loss.zones),
        "CPU spread (CV)": a.balance.cpu_cv, "memory spread (CV)": a.balance.mem_cv,
        "headroom (median instances)": a.headroom.instances, "limit warnings": len(a.limit_warnings),
    } for a in analyses]
    return pd.DataFrame(rows)


def loss_frame(impacts: list[LossImpact]) -> pd.DataFrame:
    worst_first = sorted(impacts, key=severity, reverse=True)[:MAX_LOSS_ROWS]
    return pd.DataFrame([{
        "lost": i.lost, "stranded": len(i.stranded), "re-placed": i.replaced, "pending": i.unplaced,
        "CPU stranded (cores)": i.stranded_cpu_cores, "memory stranded": human_bytes(i.stranded_mem_bytes),
        "goes dark": ", ".join(i.spof_workloads), "below half": ", ".join(i.below_half_workloads),
    } for i in worst_first])


# built once per analysis (a cluster's node losses are one per node: 65,000 at the seed), not per rerun
KEPT_ANALYSES = 16


def _node_loss_frame(analysis: ClusterAnalysis) -> pd.DataFrame:
    return loss_frame(analysis.node_loss)


def _spof_frame(analysis: ClusterAnalysis) -> pd.DataFrame:
    return pd.DataFrame([{"workload": s.workload, "node": s.node, "instances": s.instances}
                         for s in analysis.spof_workloads])


node_loss_frame = per_object(_node_loss_frame, KEPT_ANALYSES)
spof_frame = per_object(_spof_frame, KEPT_ANALYSES)


def render_node_loss(analysis: ClusterAnalysis) -> None:
    st.markdown(f"**Node loss** {verdict(analysis)}")
    if analysis.worst_node is None:
        st.caption("No nodes known for this cluster.")
        return
    st.markdown(f"Worst case: {impact_sentence(analysis.worst_node)}")
    table(capped(node_loss_frame(analysis), "node losses"), f"loss-{analysis.cluster}")
    if analysis.spof_workloads:
        st.markdown("**Single points of failure** — every running instance on one node:")
        table(capped(spof_frame(analysis), "single points of failure"), f"spof-{analysis.cluster}")


def render_zone_loss(analysis: ClusterAnalysis) -> None:
    zones = analysis.zone_loss
    st.markdown("**Zone loss**")
    if zones.single_zone:
        st.info(zones.note or "one zone", icon=":material/info:")
        return
    table(loss_frame(zones.impacts), f"zones-{analysis.cluster}")


def render_balance_and_room(analysis: ClusterAnalysis) -> None:
    balance, room = analysis.balance, analysis.headroom
    cpu, mem, more = st.columns(3)
    cpu.metric("CPU allocation spread (CV)", f"{balance.cpu_cv:.2f}", help="0 = perfectly even across nodes")
    mem.metric("Memory allocation spread (CV)", f"{balance.mem_cv:.2f}")
    more.metric("Headroom", "unknown" if room.instances is None else f"{room.instances} more",
                help=f"instances of the median request ({cores(room.median_cpu_request_cores)} cores, "
                     f"{human_bytes(room.median_mem_request_bytes)}) that still fit"
                     + (f"; limited by {room.limited_by}" if room.limited_by else ""))
    if balance.hottest:
        hottest = ", ".join(f"{n.node} (CPU {n.cpu_ratio:.0%}, memory {n.mem_ratio:.0%})" for n in balance.hottest)
        st.caption(f"Hottest nodes: {hottest}")


def render_limits(analysis: ClusterAnalysis) -> None:
    for warning in analysis.limit_warnings:
        st.warning(f"{warning.message} — [source]({warning.source})", icon=":material/warning:")


def render_cluster(analysis: ClusterAnalysis) -> None:
    with st.container(border=True, key=f"resilience-{analysis.cluster}"):
        st.markdown(f"#### {analysis.cluster} {verdict(analysis)}")
        render_limits(analysis)
        render_node_loss(analysis)
        render_zone_loss(analysis)
        render_balance_and_room(analysis)


def render_snapshot(snapshot: Snapshot) -> None:
    st.header("Resilience")
    st.caption(CAVEAT)
    if not snapshot.clusters:
        st.info("No clusters in this snapshot.", icon=":material/info:")
        return
    analysis = analysis_of(snapshot)
    if analysis.taken_at != iso_time(snapshot):
        st.caption(f"Showing the analysis of the round taken at {analysis.taken_at.replace('T', ' ')}; "
                   "the newest round's is being computed and appears on the next refresh.")
    clusters = analysis.clusters
    table(summary_frame(clusters), "resilience-summary", statuses="cluster")
    for analysis in clusters:
        render_cluster(analysis)


def iso_time(snapshot: Snapshot) -> str:
    return snapshot.taken_at.isoformat().replace("+00:00", "Z")  # as SnapshotAnalysis.taken_at


def analysis_of(snapshot: Snapshot) -> SnapshotAnalysis:
    """The shared analysis of this snapshot; while it runs, the previous round's if there is one, else
    a progress bar (each update lets Streamlit stop this run if the visitor leaves the page)."""
    job = analyses.job(snapshot)
    previous = analyses.finished
    if not job.wait(FRESH_WAIT_S) and previous is not None and previous is not job:
        return previous.result()
    if not job.wait(PROGRESS_EVERY_S):
        nodes = sum(len(c.nodes) for c in snapshot.clusters)
        bar = st.progress(0.0, text=f"Analyzing the loss of each of {nodes:,} nodes…")
        while not job.wait(PROGRESS_EVERY_S):
            bar.progress(job.progress, text=f"Analyzing the loss of each of {nodes:,} nodes…")
        bar.empty()
    return job.result()


def render(context: PageContext) -> None:
    render_snapshot(context.snapshot)
