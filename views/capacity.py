"""Capacity: allocated vs allocatable per cluster and per node, a node heat map, usage where known.

Everything is aggregated in Python first: a chart never ships more than a few thousand rows.
"""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from collections import Counter

from fleet import orchestrators
from fleet.model import Node, Snapshot
from views.context import PageContext
from views.tables import fleet_tables

MAX_NODES_CHARTED = 60
HEATMAP_BINS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001, float("inf")]
HEATMAP_LABELS = ["0–10%", "10–20%", "20–30%", "30–40%", "40–50%", "50–60%", "60–70%", "70–80%", "80–90%", "90–100%",
                  "over 100%"]


def cluster_totals(nodes: pd.DataFrame) -> pd.DataFrame:
    """Long form: one row per cluster, resource and measure (allocated / free)."""
    grouped = nodes.groupby("cluster", sort=True).agg(
        cpu_allocated=("cpu_allocated", "sum"), cpu_allocatable=("cpu_allocatable", "sum"),
        mem_allocated=("mem_allocated_gib", "sum"), mem_allocatable=("mem_allocatable_gib", "sum")).reset_index()
    rows = []
    for row in grouped.itertuples():
        for resource, allocated, allocatable, unit in (("CPU", row.cpu_allocated, row.cpu_allocatable, "cores"),
                                                        ("Memory", row.mem_allocated, row.mem_allocatable, "GiB")):
            rows.append((row.cluster, resource, "allocated", allocated, unit,
                         allocated / allocatable if allocatable else 0.0))
            rows.append((row.cluster, resource, "free", max(0.0, allocatable - allocated), unit,
                         allocated / allocatable if allocatable else 0.0))
    return pd.DataFrame(rows, columns=["cluster", "resource", "measure", "amount", "unit", "ratio"])


def heatmap_counts(nodes: pd.DataFrame) -> pd.DataFrame:
    """Nodes per cluster per CPU-allocation band: the heat map's cells (at most clusters × 10)."""
    bands = pd.cut(nodes["cpu_alloc_ratio"], bins=HEATMAP_BINS, labels=HEATMAP_LABELS, right=False)
    counts = nodes.assign(band=bands).groupby(["cluster", "band"], observed=False).size().reset_index(name="nodes")
    return counts


def busiest_nodes(nodes: pd.DataFrame, limit: int = MAX_NODES_CHARTED) -> pd.DataFrame:
    top = nodes.nlargest(limit, "cpu_alloc_ratio")
    return top.assign(node=top["cluster"] + " / " + top["name"])[["node", "cpu_alloc_ratio", "mem_alloc_ratio"]]


# the same machine named two ways: Docker/Nomad say uname's x86_64 / aarch64, Kubernetes Go's amd64 / arm64
ARCH_NAMES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}


def platform_of(node: Node) -> str:
    """`linux/amd64`, or what is known of it (Nomad's node list names the OS but not the architecture)."""
    arch = ARCH_NAMES.get(node.arch, node.arch) if node.arch else None
    if node.os and arch:
        return f"{node.os}/{arch}"
    if node.os or arch:
        return f"{node.os} (architecture not reported)" if node.os else f"{arch} (OS not reported)"
    return "platform not reported"


def platform_mix(snapshot: Snapshot) -> dict[str, list[str]]:
    """Per cluster, its node platforms most common first: `3 of 40 nodes windows/amd64`."""
    mix = {}
    for cluster in snapshot.clusters:
        counts = Counter(map(platform_of, cluster.nodes))
        total = len(cluster.nodes)
        mix[cluster.name] = [f"{count} of {total} nodes {platform}"
                             for platform, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    return {name: lines for name, lines in mix.items() if lines}


def render_platforms(snapshot: Snapshot) -> None:
    st.subheader("Node platforms")
    for cluster, lines in platform_mix(snapshot).items():
        st.markdown(f"**{cluster}**: " + " · ".join(lines))


def render(context: PageContext) -> None:
    st.header("Capacity")
    nodes = fleet_tables(context.snapshot).nodes
    if nodes.empty:
        st.info("No nodes collected yet.")
        return
    totals = cluster_totals(nodes)
    st.subheader("Allocated vs allocatable, per cluster")
    for resource in ("CPU", "Memory"):
        part = totals[totals["resource"] == resource]
        unit = part["unit"].iloc[0]
        chart = alt.Chart(part).mark_bar().encode(
            y=alt.Y("cluster:N", title=None),
            x=alt.X("amount:Q", title=f"{resource} ({unit})", stack="zero"),
            color=alt.Color("measure:N", scale=alt.Scale(domain=["allocated", "free"], range=["#e45756", "#d3d3d3"])),
            tooltip=["cluster", "measure", alt.Tooltip("amount:Q", format=".2f"), alt.Tooltip("ratio:Q", format=".0%")])
        st.altair_chart(chart, width="stretch")

    st.subheader("Node CPU allocation heat map")
    heat = heatmap_counts(nodes)
    st.altair_chart(alt.Chart(heat).mark_rect().encode(
        x=alt.X("band:O", title="CPU allocated", sort=HEATMAP_LABELS), y=alt.Y("cluster:N", title=None),
        color=alt.Color("nodes:Q", scale=alt.Scale(scheme="orangered")), tooltip=["cluster", "band", "nodes"]),
        width="stretch")

    st.subheader(f"Busiest nodes (top {MAX_NODES_CHARTED} by CPU allocation)")
    busiest = busiest_nodes(nodes).melt(id_vars="node", var_name="resource", value_name="ratio")
    st.altair_chart(alt.Chart(busiest).mark_bar().encode(
        y=alt.Y("node:N", sort="-x", title=None), x=alt.X("ratio:Q", title="allocated", axis=alt.Axis(format="%")),
        color="resource:N", yOffset="resource:N", tooltip=["node", "resource", alt.Tooltip("ratio:Q", format=".0%")]),
        width="stretch")

    render_platforms(context.snapshot)

    measured = nodes.dropna(subset=["cpu_used"])
    st.subheader("Measured usage")
    if measured.empty:
        st.caption("No cluster reports measured usage. " + "; ".join(
            f"{facts.label}: {facts.usage_source}" for facts in orchestrators.registered()) + ".")
    else:
        usage = measured.groupby("cluster").agg(cpu_used=("cpu_used", "sum"), cpu_allocated=("cpu_allocated", "sum"),
                                                 cpu_allocatable=("cpu_allocatable", "sum")).reset_index()
        usage = usage.melt(id_vars="cluster", var_name="measure", value_name="cores")
        st.altair_chart(alt.Chart(usage).mark_bar().encode(
            y=alt.Y("cluster:N", title=None), x=alt.X("cores:Q"), color="measure:N", yOffset="measure:N",
            tooltip=["cluster", "measure", alt.Tooltip("cores:Q", format=".2f")]), width="stretch")
