"""Instances: pods / tasks / allocations with state, health, restarts, reason and node."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from views.context import PageContext
from views.tables import fleet_tables
from views.widgets import capped, filter_bar, table

COLUMNS = ["cluster", "orchestrator", "workload", "name", "node", "state", "health", "restarts", "reason",
           "started_at"]


def problem_rows(instances: pd.DataFrame) -> pd.DataFrame:
    """Instances an operator should look at: not running, failing checks, a reason given, or restarting."""
    troubled = (~instances["state"].isin(["running", "succeeded"])) | (instances["health"] == "unhealthy")
    troubled |= (instances["reason"] != "") | (instances["restarts"] > 0)
    return instances[troubled]


def render(context: PageContext) -> None:
    st.header("Instances")
    tables = fleet_tables(context.snapshot)
    only_problems = st.toggle("Problems only", key="instances-problems-only",
                              help="not running, unhealthy, with a reason, or restarted")
    instances = problem_rows(tables.instances) if only_problems else tables.instances
    instances = filter_bar(instances, "instances", {"cluster": "Cluster", "orchestrator": "Orchestrator",
                                                    "state": "State", "health": "Health"},
                           text_columns=("name", "workload", "node", "reason"))
    shown = capped(instances, "instances")
    table(shown[COLUMNS], "instances-table")
