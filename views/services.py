"""Services: the stable addresses in front of instances, with their backends and the workloads behind them."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from fleet.model import Cluster, Port, Snapshot
from views.context import PageContext
from views.tables import PerCluster, fleet_tables, joined, per_snapshot
from views.widgets import capped, filter_bar, pick_one, table

COLUMNS = ["cluster", "orchestrator", "namespace", "name", "kind", "status", "backends", "addresses", "ports",
           "workloads"]


def port_text(port: Port) -> str:
    """`80/tcp → 8080` (service port, its target), `:30080` for a published node/host/ingress port."""
    text = f"{port.port}/{port.protocol}"
    if port.target and port.target != str(port.port):
        text += f" → {port.target}"
    if port.published:
        text += f" (:{port.published})"
    return text


def services_frame(clusters: list[Cluster]) -> pd.DataFrame:
    rows = []
    for cluster in clusters:
        names = {w.id: w.name for w in cluster.workloads}
        rows.extend((cluster.name, cluster.orchestrator, s.id, s.name, s.namespace, s.kind, s.status,
                     f"{s.backends_ready} / {s.backends_total}", s.backends_ready, s.backends_total,
                     ", ".join(s.addresses), ", ".join(map(port_text, s.ports)),
                     ", ".join(names.get(w, w) for w in s.workload_ids), tuple(s.workload_ids))
                    for s in cluster.services)
    return pd.DataFrame(rows, columns=["cluster", "orchestrator", "id", "name", "namespace", "kind", "status",
                                       "backends", "backends_ready", "backends_total", "addresses", "ports",
                                       "workloads", "workload_ids"])


# a cluster's rows are built again only when its services or workloads (their names) are other objects
cluster_services = PerCluster(lambda cluster: services_frame([cluster]), lambda c: (c.services, c.workloads))


@per_snapshot
def service_table(snapshot: Snapshot) -> pd.DataFrame:
    if not snapshot.clusters:
        return services_frame([])
    frames = [cluster_services.of(cluster) for cluster in snapshot.clusters]
    cluster_services.keep_only(snapshot.clusters)
    return joined.of("services", frames)


def render(context: PageContext) -> None:
    st.header("Services")
    frame = service_table(context.snapshot)
    only_problems = st.toggle("Problems only", key="services-problems-only",
                              help="no ready backend, or only some of them ready")
    if only_problems:
        frame = frame[frame["status"].isin(["down", "degraded"])]
    services = filter_bar(frame, "services", {"cluster": "Cluster", "orchestrator": "Orchestrator",
                                              "status": "Status", "kind": "Kind", "namespace": "Namespace"},
                          text_columns=("name", "addresses", "workloads"))
    shown = capped(services, "services")
    table(shown[COLUMNS], "services-table", statuses="service", column_config={
        "backends": st.column_config.TextColumn("ready / backends",
                                                help="backends ready (passing checks, serving) of those known"),
    })
    labels = {f"{row.cluster} / {row.namespace + '/' if row.namespace else ''}{row.name}": row
              for row in shown.itertuples()}
    choice = pick_one(list(labels), "services-detail", "Service detail")
    if choice:
        detail(context.snapshot, labels[choice], choice)


def detail(snapshot: Snapshot, row, label: str) -> None:
    """The instances of the workloads behind the service (its backends), and those workloads."""
    tables = fleet_tables(snapshot)
    behind = set(row.workload_ids)
    workloads = tables.workloads[(tables.workloads["cluster"] == row.cluster) & tables.workloads["id"].isin(behind)]
    st.subheader(f"Workloads behind {label}")
    if workloads.empty:
        st.caption("No workload known behind this service (its backends are outside the orchestrator's "
                   "workloads, or it selects none).")
    else:
        table(workloads[["name", "namespace", "kind", "status", "desired", "running", "healthy"]],
              "services-detail-workloads", statuses="workload")
    instances = tables.instances
    mine = instances[(instances["cluster"] == row.cluster) & instances["workload_id"].isin(behind)]
    st.subheader("Their instances")
    st.caption(f"The service counts {row.backends_ready} of {row.backends_total} backends ready.")
    table(capped(mine, "instances")[["name", "workload", "node", "state", "health", "restarts", "reason"]],
          "services-detail-instances")
