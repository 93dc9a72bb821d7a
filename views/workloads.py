"""Workloads: desired / running / healthy across clusters; a workload's detail shows instances and events."""
from __future__ import annotations

import streamlit as st

from views.context import PageContext
from views.format import autoscaler_text
from views.tables import fleet_tables
from views.widgets import capped, filter_bar, pick_one, table

COLUMNS = ["cluster", "orchestrator", "namespace", "name", "kind", "status", "desired", "running", "healthy",
           "images", "cpu_request", "mem_request_mib", "autoscaler"]


def render(context: PageContext) -> None:
    st.header("Workloads")
    tables = fleet_tables(context.snapshot)
    workloads = filter_bar(tables.workloads, "workloads", {"cluster": "Cluster", "orchestrator": "Orchestrator",
                                                           "status": "Status", "kind": "Kind",
                                                           "namespace": "Namespace"},
                           text_columns=("name", "images"))
    shown = capped(workloads, "workloads")
    table(shown[COLUMNS], "workloads-table", statuses="workload", column_config={
        "cpu_request": st.column_config.NumberColumn("CPU / instance", format="%.2f"),
        "mem_request_mib": st.column_config.NumberColumn("Mem / instance MiB", format="%.0f"),
        "autoscaler": st.column_config.TextColumn(
            "Autoscaler", help="min ≤ current ≤ max, whether it is held at a bound, and what it scales on"),
    })
    # column-wise: iterating rows of pyarrow-backed strings costs ~0.1 ms a row
    namespaces = shown["namespace"].fillna("")
    prefixes = namespaces.where(namespaces == "", namespaces + "/")
    labels = dict(zip((shown["cluster"] + " / " + prefixes + shown["name"]).tolist(),
                      zip(shown["cluster"].tolist(), shown["id"].tolist(), shown["name"].tolist())))
    choice = pick_one(list(labels), "workloads-detail", "Workload detail")
    if choice:
        cluster, workload_id, name = labels[choice]
        autoscaler_note(context, cluster, workload_id)
        instances = tables.instances
        mine = instances[(instances["cluster"] == cluster) & (instances["workload_id"] == workload_id)]
        st.subheader(f"Instances of {choice}")
        table(capped(mine, "instances")[["name", "node", "state", "health", "restarts", "reason", "started_at"]],
              "workloads-detail-instances")
        events = tables.events
        related = events[(events["cluster"] == cluster) & events["object"].str.contains(name, regex=False)]
        st.subheader("Events")
        if related.empty:
            st.caption("No events recorded for this workload.")
        else:
            table(capped(related, "events")[["time", "severity", "object", "reason", "message"]],
                  "workloads-detail-events")


def autoscaler_note(context: PageContext, cluster: str, workload_id: str) -> None:
    scaler = next((w.autoscaler for c in context.snapshot.clusters if c.name == cluster
                   for w in c.workloads if w.id == workload_id), None)
    if scaler is None:
        return
    text = f"**Autoscaler** ({scaler.kind}): {autoscaler_text(scaler)}" + (f" — {scaler.message}" if scaler.message
                                                                           else "")
    (st.warning if scaler.limited else st.info)(text, icon=":material/open_in_full:")
