"""Settings: list, add, edit, remove clusters; test a connection; tokens go to a 0600 file.

Edits go through fleet.config.ConfigDocument: validated, atomic, comments kept, `.bak` kept; a
save based on a file someone else changed meanwhile is refused, never silently merged.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from fleet import orchestrators
from fleet.cluster_form import entry_from_form, form_values, store_token
from fleet.config import ConfigConflict, ConfigDocument, ConfigError
from fleet.runtime import FleetRuntime
from views import alerts, api_tokens
from views.format import badge
from views.widgets import table

DOC_KEY = "settings-document"
NEW = "+ Add a cluster"


def document(runtime: FleetRuntime, *, fresh: bool = False) -> ConfigDocument:
    """The file as it was when this session started editing (so a conflicting save is detected)."""
    if fresh or DOC_KEY not in st.session_state or st.session_state[DOC_KEY].path != runtime.config_path:
        st.session_state[DOC_KEY] = ConfigDocument(runtime.config_path)
    return st.session_state[DOC_KEY]


def field_prefix(choice: str) -> str:
    return f"settings-field-{choice}-"


def forget_form(choice: str) -> None:
    """Clear a submitted form's widgets (a typed token must not linger in the session)."""
    for key in [k for k in st.session_state if str(k).startswith(field_prefix(choice))]:
        del st.session_state[key]


def cluster_list(doc: ConfigDocument) -> None:
    entries = [e for e in doc.cluster_entries() if isinstance(e, dict)]
    if not entries:
        st.info("No clusters configured yet: add one below.")
        return
    table(pd.DataFrame([{"name": e.get("name"), "orchestrator": e.get("orchestrator"),
                         "endpoint": e.get("url") or e.get("context") or "in-cluster",
                         "credentials": e.get("token_env") and f"env {e['token_env']}"
                         or (e.get("token_file") and "token file") or None}
                        for e in entries]), "settings-clusters")


def show_test_result(runtime: FleetRuntime, entry: dict, token: str) -> None:
    try:
        with st.spinner(f"Connecting to {entry.get('url') or entry.get('context') or entry['name']}…"):
            cluster = runtime.test_connection(entry, token=token or None)
    except ConfigError as exc:
        st.error("Not valid yet:\n\n" + "\n\n".join(f"- {p.key}: {p.message}" for p in exc.problems))
        return
    if cluster.status == "ok":
        st.success(f"Connected: {cluster.orchestrator} {cluster.version or ''}, "
                   f"{cluster.summary.nodes_total} nodes, {cluster.summary.workloads_total} workloads.")
    else:
        st.markdown(badge(cluster.status))
        (st.warning if cluster.status == "degraded" else st.error)(cluster.error or cluster.status)


def takes_token(orchestrator: str) -> bool:
    facts = orchestrators.facts_of(orchestrator)
    return facts is not None and facts.takes_token


def save(runtime: FleetRuntime, doc: ConfigDocument, entry: dict, token: str, original: str | None) -> None:
    if token and takes_token(entry["orchestrator"]):
        path = store_token(runtime.config_path, entry["name"], token)
        entry.pop("token_env", None)
        entry["token_file"] = str(Path(path).relative_to(runtime.config_path.parent))
    try:
        doc.upsert_cluster(entry, original_name=original)
        doc.save()
    except ConfigError as exc:
        document(runtime, fresh=True)
        st.error("Not saved:\n\n" + "\n\n".join(f"- {p.key}: {p.message}" for p in exc.problems))
        return
    except ConfigConflict as exc:
        st.error(f"Not saved: {exc}")
        if st.button("Reload the file", key="settings-reload"):
            document(runtime, fresh=True)
            st.rerun()
        return
    runtime.reload()
    document(runtime, fresh=True)
    forget_form(original or NEW)
    st.session_state["settings-flash"] = f"Saved {entry['name']} to {runtime.config_path}; polling restarted."
    st.rerun()


def cluster_form(runtime: FleetRuntime, doc: ConfigDocument, choice: str) -> None:
    existing = next((dict(e) for e in doc.cluster_entries() if isinstance(e, dict) and e.get("name") == choice), None)
    original = existing["name"] if existing else None
    names = orchestrators.names()
    known = existing is not None and existing.get("orchestrator") in names
    orchestrator = st.selectbox("Orchestrator", names, format_func=orchestrators.label_of,
                                index=names.index(existing["orchestrator"]) if known else 0,
                                key=f"settings-orchestrator-{choice}")
    values = form_values(existing or {})
    prefix = field_prefix(choice)
    with st.form(key=f"settings-form-{choice}-{orchestrator}"):
        name = st.text_input("Name", value=original or "", help="unique; shown everywhere", key=f"{prefix}name")
        typed = {}
        for field in orchestrators.facts_of(orchestrator).form_fields:  # type: ignore[union-attr]
            key = f"{prefix}{orchestrator}-{field.key}"
            if field.kind == "bool":
                typed[field.key] = st.checkbox(field.label, value=bool(values.get(field.key, True)), help=field.help,
                                               key=key)
            else:
                typed[field.key] = st.text_input(field.label, value=values.get(field.key) or "", help=field.help,
                                                 key=key)
        token = ""
        if takes_token(orchestrator):
            stored = existing and existing.get("token_file")
            token = st.text_input("Token", type="password", value="", key=f"{prefix}token",
                                  help="stored in a 0600 file next to clusters.yaml, never shown again"
                                       + (" — leave empty to keep the stored one" if stored else ""))
        test, submit = st.columns(2)
        tested = test.form_submit_button("Test connection", icon=":material/network_check:")
        saved = submit.form_submit_button("Save", type="primary", icon=":material/save:")
    entry = entry_from_form(name, orchestrator, typed, kept=existing)
    if tested:
        show_test_result(runtime, entry, token)
    if saved:
        save(runtime, doc, entry, token, original)
    if existing:
        with st.expander(f"Remove {original}"):
            confirm = st.checkbox(f"Yes, remove {original} from {runtime.config_path.name}", key=f"rm-ok-{original}")
            if st.button("Remove", disabled=not confirm, key=f"rm-{original}", type="primary"):
                try:
                    doc.remove_cluster(original)
                    doc.save()
                except (ConfigError, ConfigConflict) as exc:
                    st.error(f"Not removed: {exc}")
                    return
                runtime.reload()
                document(runtime, fresh=True)
                st.session_state["settings-flash"] = f"Removed {original}; polling restarted."
                st.rerun()


def render(runtime: FleetRuntime) -> None:
    st.header("Settings")
    st.caption(f"Clusters are kept in `{runtime.config_path}` (comments kept; the previous version is saved as "
               f"`{runtime.config_path.name}.bak`).")
    if flash := st.session_state.pop("settings-flash", None):
        st.success(flash)
    try:
        doc = document(runtime)
    except ConfigError as exc:
        st.error("The file cannot be edited here until its YAML parses:")
        st.code(str(exc), language="text")
        return
    if runtime.config_error is not None:
        st.warning("The file has problems (the dashboard is not polling it):")
        st.code(str(runtime.config_error), language="text")
    cluster_list(doc)
    names = [n for n in doc.cluster_names() if n]
    choice = st.selectbox("Add or edit", [NEW] + names, key="settings-choice")
    st.subheader("New cluster" if choice == NEW else f"Edit {choice}")
    cluster_form(runtime, doc, choice)
    alerts.settings_section(runtime, doc)
    api_tokens.render(runtime, doc, lambda: document(runtime, fresh=True))
