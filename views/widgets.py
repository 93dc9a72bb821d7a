"""Pieces several pages share: filter bars, table column formats, the row cap note."""
from __future__ import annotations

import pandas as pd
import streamlit as st

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
