"""Overview: one card per configured cluster — status, version, nodes, workloads, allocation."""
from __future__ import annotations

import streamlit as st

from fleet.model import WORKLOAD_STATUSES, Cluster, Snapshot
from fleet.poller import NOT_COLLECTED_YET
from views.format import ORCHESTRATOR_LABELS, WORKLOAD_STATUS_COLOURS, ago, badge, cores, human_bytes, ratio


def render_cluster_card(cluster: Cluster) -> None:
    summary = cluster.summary
    with st.container(border=True, key=f"cluster-{cluster.name}"):
        head, status = st.columns([3, 2])
        head.markdown(f"#### {cluster.name}")
        head.caption(f"{ORCHESTRATOR_LABELS.get(cluster.orchestrator, cluster.orchestrator)} · "
                     f"`{cluster.endpoint}` · version {cluster.version or 'unknown'}")
        stale = " :orange-badge[stale data]" if cluster.stale else ""
        status.markdown(f"{badge(cluster.status)}{stale}")
        status.caption(f"collected {ago(cluster.collected_at)}")
        if cluster.collected_at is None and cluster.error == NOT_COLLECTED_YET:
            st.info("Collecting… the first round is under way.", icon=":material/hourglass_top:")
            return
        if cluster.error:
            (st.warning if cluster.status == "degraded" else st.error)(cluster.error)
        if cluster.collected_at is None:
            return  # nothing was ever collected: no numbers to show
        nodes, workloads, instances = st.columns(3)
        nodes.metric("Nodes ready", f"{summary.nodes_ready} / {summary.nodes_total}")
        workloads.metric("Workloads", summary.workloads_total)
        instances.metric("Instances", summary.instances_total)
        by_status = " ".join(
            f":{WORKLOAD_STATUS_COLOURS[s]}-badge[{summary.workloads_by_status[s]} {s}]"
            for s in WORKLOAD_STATUSES if summary.workloads_by_status.get(s))
        if by_status:
            st.markdown(f"Workloads: {by_status}")
        cpu, mem = st.columns(2)
        cpu.progress(ratio(summary.cpu_allocated_cores, summary.cpu_allocatable_cores),
                     text=f"CPU allocated {cores(summary.cpu_allocated_cores)} of "
                          f"{cores(summary.cpu_allocatable_cores)} cores")
        mem.progress(ratio(summary.mem_allocated_bytes, summary.mem_allocatable_bytes),
                     text=f"Memory allocated {human_bytes(summary.mem_allocated_bytes)} of "
                          f"{human_bytes(summary.mem_allocatable_bytes)}")


def render_snapshot(snapshot: Snapshot) -> None:
    for cluster in snapshot.clusters:
        render_cluster_card(cluster)
