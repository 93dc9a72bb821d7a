"""Pieces several pages share: filter bars, tables with coloured status columns, the row cap note."""
from __future__ import annotations

from typing import Any, Callable

import pandas as pd
import streamlit as st

from views.format import (CLUSTER_STATUS_COLOURS, INSTANCE_HEALTH_COLOURS, INSTANCE_STATE_COLOURS, MISSING,
                          NODE_STATUS_COLOURS, SERVICE_STATUS_COLOURS, SEVERITY_COLOURS, WORKLOAD_STATUS_COLOURS)
from views.tables import MAX_ROWS_SHOWN, filter_frame


def options(frame: pd.DataFrame, column: str) -> list[str]:
    return sorted(v for v in frame[column].dropna().unique().tolist() if v != "")


def filter_bar(frame: pd.DataFrame, key: str, columns: dict[str, str], *,
               text_columns: tuple[str, ...] = ("name",), text_label: str = "Search") -> pd.DataFrame:
    """Multiselects for `columns` (column → label) plus a free-text box; returns the matching rows."""
    widgets = st.columns(len(columns) + 1)
    selections = {}
    for widget, (column, label) in zip(widgets, columns.items()):
        selections[column] = widget.multiselect(label, options(frame, column), key=f"{key}-{column}",
                                                placeholder="all")
    text = widgets[-1].text_input(text_label, key=f"{key}-text", placeholder="name contains…")
    return filter_frame(frame, selections, text, text_columns)


def capped(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """At most MAX_ROWS_SHOWN rows reach the browser; say so when rows are left out."""
    total = len(frame)
    if total > MAX_ROWS_SHOWN:
        st.caption(f"Showing the first {MAX_ROWS_SHOWN:,} of {total:,} {what} — narrow the filters to see the rest.")
        return frame.head(MAX_ROWS_SHOWN)
    st.caption(f"{total:,} {what}")
    return frame


def ratio_column(label: str, help_text: str) -> st.column_config.ProgressColumn:
    return st.column_config.ProgressColumn(label, help=help_text, format="percent", min_value=0.0, max_value=1.0)


def pick_one(labels: list[str], key: str, prompt: str) -> str | None:
    if not labels:
        return None
    return st.selectbox(prompt, labels, index=None, key=key, placeholder="choose one to see its detail")


def status_column(label: str, colours: dict[str, str],
                  format_func: Callable[[str], str] | None = None) -> Any:
    """A read-only column of coloured labels, the cards' badge colours: the browser colours each cell itself."""
    return st.column_config.MultiselectColumn(label, options=list(colours), color=list(colours.values()),
                                              format_func=format_func)


# column name -> how it is coloured, wherever a table has that column
STATUS_COLUMNS: dict[str, Any] = {
    "status": None,  # node, workload or cluster status: the page says which (see table's `statuses`)
    "state": status_column("state", INSTANCE_STATE_COLOURS),
    "health": status_column("health", INSTANCE_HEALTH_COLOURS),
    "severity": status_column("severity", SEVERITY_COLOURS,
                              lambda severity: severity.upper() if severity == "critical" else severity),
}
STATUS_COLOURS = {"node": NODE_STATUS_COLOURS, "workload": WORKLOAD_STATUS_COLOURS, "cluster": CLUSTER_STATUS_COLOURS,
                  "service": SERVICE_STATUS_COLOURS}


def table(frame: pd.DataFrame, key: str, *, statuses: str = "", column_config: dict[str, Any] | None = None,
          **kwargs: Any) -> None:
    """st.dataframe with the house look: a dash for absent values, status columns coloured like badges.

    `statuses` names what the `status` column holds ("node", "workload", "cluster", "service")."""
    config: dict[str, Any] = {column: kind for column, kind in STATUS_COLUMNS.items()
                              if column in frame.columns and kind is not None}
    if statuses and "status" in frame.columns:
        config["status"] = status_column("status", STATUS_COLOURS[statuses])
    config.update(column_config or {})
    st.dataframe(frame, key=key, hide_index=True, width="stretch", placeholder=MISSING, column_config=config,
                 **kwargs)
