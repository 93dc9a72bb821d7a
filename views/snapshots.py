"""Snapshots: download the current one (JSON, or a ZIP of CSV tables); upload one to browse offline."""
from __future__ import annotations

import msgspec
import streamlit as st

from fleet.export import FORMATS, export_file_name
from fleet.model import Snapshot, decode_snapshot
from views.context import PageContext
from views.format import ago

OFFLINE_KEY = "offline-snapshot"
MAX_UPLOAD_BYTES = 512 * 2**20


def offline_snapshot() -> tuple[Snapshot, str] | None:
    return st.session_state.get(OFFLINE_KEY)


def leave_offline() -> None:
    st.session_state.pop(OFFLINE_KEY, None)


def load_upload(name: str, data: bytes) -> tuple[Snapshot | None, str | None]:
    """Decode an uploaded file; a clear message instead of a stack trace when it is not a v1 snapshot."""
    if len(data) > MAX_UPLOAD_BYTES:
        return None, f"{name} is larger than {MAX_UPLOAD_BYTES // 2**20} MiB"
    try:
        return decode_snapshot(data), None
    except msgspec.ValidationError as exc:
        return None, f"{name} is not a Podium v1 snapshot: {exc}"
    except msgspec.DecodeError as exc:
        return None, f"{name} is not valid JSON: {exc}"


def render(context: PageContext) -> None:
    st.header("Snapshots")
    snapshot = context.snapshot
    where = f"uploaded file {context.label}" if context.read_only else "the live fleet"
    st.subheader("Download")
    st.caption(f"From {where}, taken {snapshot.taken_at:%Y-%m-%d %H:%M:%S} UTC ({ago(snapshot.taken_at)}); "
               f"{len(snapshot.clusters)} cluster(s). No credentials are ever part of a snapshot.")
    labels = {"json": "Snapshot (JSON)", "csv-zip": "Tables (ZIP of CSV)"}
    for column, (fmt, (_, mime, render_format)) in zip(st.columns(len(FORMATS)), FORMATS.items()):
        # generated when clicked, not on every refresh: a large fleet's export takes seconds
        column.download_button(labels.get(fmt, fmt), data=lambda render_format=render_format: render_format(snapshot),
                               file_name=export_file_name(snapshot, fmt), mime=mime, key=f"download-{fmt}",
                               icon=":material/download:", on_click="ignore")

    st.subheader("Browse a snapshot offline")
    st.caption("Open a snapshot file written by this dashboard or by `python -m fleet snapshot`: every page then "
               "shows it, read-only, until you go back to live.")
    upload = st.file_uploader("Snapshot file", type=["json"], key="snapshot-upload")
    if upload is not None:
        loaded, problem = load_upload(upload.name, upload.getvalue())
        if problem:
            st.error(problem)
        elif st.button(f"Browse {upload.name}", type="primary", key="snapshot-browse"):
            st.session_state[OFFLINE_KEY] = (loaded, upload.name)
            st.rerun()
    if context.read_only and st.button("Back to live", key="snapshot-back-live"):
        leave_offline()
        st.rerun()
