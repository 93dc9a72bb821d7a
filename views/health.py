"""Health: one feed of what is wrong now, most severe and newest first."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from fleet.problems import Problem
from views.context import PageContext
from views.tables import snapshot_problems
from views.widgets import capped, filter_bar, table


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    return pd.DataFrame(
        [(p.severity, p.cluster, p.orchestrator, p.kind, p.object, p.summary, p.time) for p in problems],
        columns=["severity", "cluster", "orchestrator", "kind", "object", "summary", "time"])


def render(context: PageContext) -> None:
    st.header("Health")
    problems = snapshot_problems(context.snapshot)
    if not problems:
        st.success("Nothing is wrong right now.", icon=":material/check_circle:")
        return
    counts = pd.Series([p.severity for p in problems]).value_counts()
    columns = st.columns(4)
    for column, severity in zip(columns, ("critical", "error", "warning", "info")):
        column.metric(severity.capitalize(), int(counts.get(severity, 0)))
    frame = filter_bar(problems_frame(problems), "health", {"severity": "Severity", "cluster": "Cluster",
                                                            "kind": "Kind"},
                       text_columns=("object", "summary"), text_label="Search")
    shown = capped(frame, "problems")
    table(shown[["severity", "cluster", "kind", "object", "summary", "time"]], "health-table",
          column_config={"summary": st.column_config.TextColumn("What", width="large")})
