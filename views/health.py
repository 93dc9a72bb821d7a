"""Health: one feed of what is wrong now, most severe and newest first."""
from __future__ import annotations

import streamlit as st

from views.context import PageContext
from views.tables import problems_table, snapshot_problems
from views.widgets import capped, filter_bar, table


def render(context: PageContext) -> None:
    st.header("Health")
    problems = snapshot_problems(context.snapshot)
    if not problems:
        st.success("Nothing is wrong right now.", icon=":material/check_circle:")
        return
    counts = problems_table(context.snapshot)["severity"].value_counts()
    columns = st.columns(4)
    for column, severity in zip(columns, ("critical", "error", "warning", "info")):
        column.metric(severity.capitalize(), int(counts.get(severity, 0)))
    frame = filter_bar(problems_table(context.snapshot), "health", {"severity": "Severity", "cluster": "Cluster",
                                                            "kind": "Kind"},
                       text_columns=("object", "summary"), text_label="Search")
    shown = capped(frame, "problems")
    table(shown[["severity", "cluster", "kind", "object", "summary", "time"]], "health-table",
          column_config={"summary": st.column_config.TextColumn("what", width="large")})
