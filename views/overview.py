"""Overview: fleet totals, the ten worst problems, then one card per cluster."""
from __future__ import annotations

import streamlit as st

from fleet.model import INSTANCE_STATES, WORKLOAD_STATUSES, Cluster, Snapshot, not_collected_yet
from fleet.orchestrators import label_of
from fleet.problems import Problem
from views.context import PageContext
from views import resilience
from views.tables import snapshot_problems
from views.format import (INSTANCE_STATE_COLOURS, WORKLOAD_STATUS_COLOURS, ago, badge, cores, human_bytes, ratio,
                          severity_badge)

WORST_SHOWN = 10
INSECURE_TLS = ("TLS verification is off for this cluster (`verify_tls: false`): its certificate is not checked, "
                "so anyone in the path could read its credentials and show false data. Set `ca_file` instead.")


VERDICT_WAIT_S = 0.1  # a small fleet's analysis is done by then; a large one's is shown as computing


def n_plus_1_verdicts(snapshot: Snapshot) -> dict[str, bool | None] | None:
    """Each cluster's N+1 verdict from the shared analysis of this snapshot (the Resilience page's);
    None while it is still computing: the page never waits for it."""
    job = resilience.analyses.job(snapshot)
    if not job.wait(VERDICT_WAIT_S) or job.failed:
        return None
    return {analysis.cluster: analysis.n_plus_1 for analysis in job.result().clusters}


def n_plus_1_badge(verdict: bool | None, computing: bool = False) -> str:
    if computing:
        return " :gray-badge[N+1 computing…]"
    if verdict is None:
        return ""
    return " :green-badge[N+1]" if verdict else " :red-badge[not N+1]"


def counts_line(counts: dict[str, int], order: tuple[str, ...], colours: dict[str, str]) -> str:
    return " ".join(f":{colours[k]}-badge[{counts[k]:,} {k}]" for k in order if counts.get(k))


def fleet_totals(snapshot: Snapshot) -> None:
    clusters = snapshot.clusters
    summaries = [c.summary for c in clusters]
    ok = sum(1 for c in clusters if c.status == "ok")
    columns = st.columns(5)
    columns[0].metric("Clusters ok", f"{ok} / {len(clusters)}")
    columns[1].metric("Nodes ready", f"{sum(s.nodes_ready for s in summaries):,} / "
                                     f"{sum(s.nodes_total for s in summaries):,}")
    columns[2].metric("Workloads", f"{sum(s.workloads_total for s in summaries):,}")
    columns[3].metric("Instances", f"{sum(s.instances_total for s in summaries):,}")
    allocated = sum(s.cpu_allocated_cores for s in summaries)
    allocatable = sum(s.cpu_allocatable_cores for s in summaries)
    columns[4].metric("CPU allocated", f"{ratio(allocated, allocatable):.0%}",
                      help=f"{cores(allocated)} of {cores(allocatable)} allocatable cores")


def worst_per_cluster(problems: list[Problem], most: int = WORST_SHOWN) -> list[Problem]:
    """The worst problem of every troubled cluster, then the next worst overall, up to `most`
    (more when more clusters are troubled): one noisy cluster never hides another. `problems` come
    worst first, and so does the answer."""
    picked: set[int] = set()
    seen: set[str] = set()
    for index, problem in enumerate(problems):
        if problem.cluster not in seen:
            seen.add(problem.cluster)
            picked.add(index)
    for index in range(len(problems)):
        if len(picked) >= most:
            break
        picked.add(index)
    return [problems[index] for index in sorted(picked)]


def worst_problems(snapshot: Snapshot) -> None:
    problems = worst_per_cluster(snapshot_problems(snapshot))
    if not problems:
        st.success("No problems right now.", icon=":material/check_circle:")
        return
    with st.container(border=True, key="worst-problems"):
        st.markdown(f"**Worst problems now** (top {len(problems)}, at least one per troubled cluster — all of them "
                    "on the Health page)")
        for problem in problems:
            st.markdown(f"{severity_badge(problem.severity)} **{problem.cluster}** · {problem.kind} "
                        f"`{problem.object}` — {problem.summary}")


def render_cluster_card(cluster: Cluster, n_plus_1_verdict: bool | None = None, computing: bool = False) -> None:
    summary = cluster.summary
    with st.container(border=True, key=f"cluster-{cluster.name}"):
        head, status = st.columns([3, 2])
        head.markdown(f"#### {cluster.name}")
        head.caption(f"{label_of(cluster.orchestrator)} · "
                     f"`{cluster.endpoint}` · version {cluster.version or 'unknown'}")
        stale = " :orange-badge[stale data]" if cluster.stale else ""
        shown_status = badge("collecting") if not_collected_yet(cluster) else badge(cluster.status)
        status.markdown(f"{shown_status}{stale}{n_plus_1_badge(n_plus_1_verdict, computing)}",
                        help="N+1: the cluster can lose any one node and re-place its work (see Resilience)")
        status.caption(f"collected {ago(cluster.collected_at)}")
        if not cluster.verify_tls:
            st.warning(INSECURE_TLS, icon=":material/gpp_maybe:")
        if not_collected_yet(cluster):
            st.info("Collecting… the first round is under way.", icon=":material/hourglass_top:")
            return
        if cluster.error:
            (st.warning if cluster.status == "degraded" else st.error)(cluster.error)
        if cluster.collected_at is None:
            return  # nothing was ever collected: no numbers to show
        nodes, workloads, instances = st.columns(3)
        nodes.metric("Nodes ready", f"{summary.nodes_ready:,} / {summary.nodes_total:,}")
        workloads.metric("Workloads", f"{summary.workloads_total:,}")
        instances.metric("Instances", f"{summary.instances_total:,}")
        by_status = counts_line(summary.workloads_by_status, WORKLOAD_STATUSES, WORKLOAD_STATUS_COLOURS)
        if by_status:
            st.markdown(f"Workloads: {by_status}")
        by_state = counts_line(summary.instances_by_state, INSTANCE_STATES, INSTANCE_STATE_COLOURS)
        if by_state:
            st.markdown(f"Instances: {by_state}")
        cpu, mem = st.columns(2)
        cpu.progress(ratio(summary.cpu_allocated_cores, summary.cpu_allocatable_cores),
                     text=f"CPU allocated {cores(summary.cpu_allocated_cores)} of "
                          f"{cores(summary.cpu_allocatable_cores)} cores"
                          + (f" · used {cores(summary.cpu_used_cores)}" if summary.cpu_used_cores is not None else ""))
        mem.progress(ratio(summary.mem_allocated_bytes, summary.mem_allocatable_bytes),
                     text=f"Memory allocated {human_bytes(summary.mem_allocated_bytes)} of "
                          f"{human_bytes(summary.mem_allocatable_bytes)}"
                          + (f" · used {human_bytes(summary.mem_used_bytes)}" if summary.mem_used_bytes is not None
                             else ""))


def render_snapshot(snapshot: Snapshot) -> None:
    verdicts = n_plus_1_verdicts(snapshot)
    for cluster in snapshot.clusters:
        if verdicts is None:
            render_cluster_card(cluster, computing=cluster.collected_at is not None)
        else:
            render_cluster_card(cluster, verdicts.get(cluster.name))


def render(context: PageContext) -> None:
    fleet_totals(context.snapshot)
    worst_problems(context.snapshot)
    render_snapshot(context.snapshot)
