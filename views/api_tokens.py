"""Settings → API tokens: admins create and revoke the tokens scripts and Prometheus send to the HTTP API.

A new token is shown once, right after it is made; the config keeps only its SHA-256 (fleet/auth.py).
Tokens matter only with `settings.auth`: without it the API is as open as the pages.
"""
from __future__ import annotations

from typing import Callable

import pandas as pd
import streamlit as st

from fleet.auth import new_api_token
from fleet.config import ConfigConflict, ConfigDocument, ConfigError
from fleet.runtime import FleetRuntime
from views.widgets import table

CREATED_KEY = "api-token-created"  # (name, token) for the one rerun that shows it


def render(runtime: FleetRuntime, doc: ConfigDocument, reread: Callable[[], None]) -> None:
    st.subheader("API tokens")
    if doc.auth_section() is None:
        st.info("The HTTP API (`/api/v1/…`, `/metrics`; see docs/api.md) is open to anyone who can reach this "
                "server, like the pages. Configure `auth` in the settings to require API tokens.",
                icon=":material/lock_open:")
        return
    if created := st.session_state.pop(CREATED_KEY, None):
        st.success(f"API token **{created[0]}** created. Copy it now: it is not stored and will not be shown again.")
        st.code(created[1], language="text")
    entries = doc.api_token_entries()
    if entries:
        table(pd.DataFrame([{"name": e.get("name"), "created": e.get("created_at")} for e in entries]),
              "settings-api-tokens")
    else:
        st.caption("No API tokens yet: only /healthz, /readyz and /api/v1/status answer without one.")
    with st.form("api-token-new", clear_on_submit=True):
        name = st.text_input("Token name", help="who uses it, e.g. prometheus", key="api-token-name")
        if st.form_submit_button("Create token", icon=":material/key:"):
            create(runtime, doc, entries, name.strip(), reread)
    if entries:
        names = [str(e.get("name")) for e in entries]
        choice = st.selectbox("Revoke a token", names, key="api-token-revoke-choice")
        if st.button("Revoke", key="api-token-revoke", type="primary"):
            save(runtime, doc, [e for e in entries if e.get("name") != choice], reread, f"Revoked API token {choice}.")


def create(runtime: FleetRuntime, doc: ConfigDocument, entries: list[dict], name: str,
           reread: Callable[[], None]) -> None:
    if not name:
        st.error("Give the token a name.")
        return
    if any(e.get("name") == name for e in entries):
        st.error(f"A token named {name!r} exists already: revoke it first or choose another name.")
        return
    token, entry = new_api_token(name)
    if save(runtime, doc, [*entries, entry], reread, None):
        st.session_state[CREATED_KEY] = (name, token)
        st.rerun()


def save(runtime: FleetRuntime, doc: ConfigDocument, entries: list[dict], reread: Callable[[], None],
         flash: str | None) -> bool:
    try:
        doc.set_api_tokens(entries)
        doc.save()
    except (ConfigError, ConfigConflict) as exc:
        reread()
        st.error(f"Not saved: {exc}")
        return False
    runtime.reload_auth()  # the API checks tokens from now on; polling goes on undisturbed
    reread()
    if flash:
        st.session_state["settings-flash"] = flash
        st.rerun()
    return True
