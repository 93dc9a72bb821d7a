"""Alerts: what is firing now (since when, its labels), what is about to, what resolved recently, and
whether each destination is receiving; and the `alerts:` editor of the Settings page (admins only).

Thin: the engine (fleet/alerts/engine.py) judges every round; this page renders its AlertsView.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from fleet.alerts.dispatch import DestinationHealth
from fleet.alerts.engine import AlertEngine, AlertsView
from fleet.alerts.state import Alert
from fleet.config import ConfigConflict, ConfigDocument, ConfigError
from fleet.runtime import FleetRuntime
from views.format import ago
from views.widgets import table

REFRESH_S = 5.0


def object_of(alert: Alert) -> str:
    return ", ".join(f"{k}={v}" for k, v in alert.object_labels) or "(cluster)"


def alerts_frame(alerts: list[Alert], *, resolved: bool = False) -> pd.DataFrame:
    rows = [{"severity": a.severity, "alert": a.name, "cluster": a.cluster, "object": object_of(a),
             "summary": a.summary, "description": a.annotations["description"], "since": a.since,
             **({"resolved": a.resolved_at} if resolved else {"flapping": a.flapping}),
             "labels": ", ".join(f"{k}={v}" for k, v in a.labels.items())} for a in alerts]
    return pd.DataFrame(rows)


def destination_state(health: DestinationHealth) -> str:
    """One line a person reads: receiving, or failing since when and why."""
    if health.failing_since is not None:
        return (f"failing since {health.failing_since:%Y-%m-%d %H:%M:%S} UTC ({ago(health.failing_since)}), "
                f"last error: {health.last_error}")
    if health.last_success_at is not None:
        return f"ok, last delivery {ago(health.last_success_at)}"
    return "ok, nothing sent yet"


def destinations_frame(destinations: list[DestinationHealth]) -> pd.DataFrame:
    return pd.DataFrame([{"destination": d.name, "type": d.kind, "url": d.url, "state": destination_state(d),
                          "sent": d.sent, "given up": d.failed, "dropped": d.dropped, "queued": d.queued}
                         for d in destinations])


def render_view(view: AlertsView) -> None:
    judged = f"last judged {ago(view.last_round_at)}" if view.last_round_at else "no round judged yet"
    st.caption(f"{len(view.firing)} firing · {len(view.pending)} pending · {view.rounds} rounds judged, {judged} · "
               f"an alert fires after {view.config.for_rounds} consecutive rounds (docs/alerts.md)")
    st.subheader("Destinations")
    failing = [d for d in view.destinations if d.failing_since is not None]
    for health in failing:
        st.error(f"**{health.name}** ({health.kind}, {health.url}) is {destination_state(health)}",
                 icon=":material/notifications_off:")
    if view.destinations:
        table(destinations_frame(view.destinations), "alerts-destinations")
    else:
        st.info("No destinations configured: alerts show on this page only. Add Alertmanager or webhook "
                "destinations under `alerts:` in Settings.", icon=":material/info:")
    st.subheader("Firing")
    if view.firing:
        table(alerts_frame(view.firing), "alerts-firing",
              column_config={"since": st.column_config.DatetimeColumn("since", format="YYYY-MM-DD HH:mm:ss")})
    else:
        st.success("Nothing is firing.", icon=":material/check_circle:")
    if view.pending:
        with st.expander(f"Pending ({len(view.pending)}): holding, not yet for enough rounds"):
            table(alerts_frame(view.pending), "alerts-pending")
    st.subheader("Recently resolved")
    if view.resolved:
        table(alerts_frame(view.resolved, resolved=True), "alerts-resolved")
    else:
        st.caption("None since the dashboard started.")


def render(engine: AlertEngine | None) -> None:
    st.header("Alerts")
    if engine is None:
        st.info("Alerts are judged once the fleet is running.", icon=":material/info:")
        return

    @st.fragment(run_every=REFRESH_S)
    def live() -> None:
        render_view(engine.view())

    live()


# -- Settings: the `alerts:` section ------------------------------------------------------------------

def settings_section(runtime: FleetRuntime, doc: ConfigDocument) -> None:
    """Edit the `alerts:` section as YAML; saved only when the whole file still validates."""
    st.subheader("Alerts")
    st.caption("Conditions, severities, `for_rounds` and destinations (docs/alerts.md). Authorization headers are "
               "read from an environment variable or a file (`auth_header_env`, `auth_header_file`), never "
               "written here.")
    text = st.text_area("alerts:", value=doc.alerts_text(), height=260, key="settings-alerts-text")
    if not st.button("Save alerts", key="settings-alerts-save", icon=":material/save:"):
        return
    try:
        doc.set_alerts(text)
        doc.save()
    except ConfigError as exc:
        st.session_state.pop("settings-document", None)  # re-read the file: the failed edit is not kept
        st.error("Not saved:\n\n" + "\n\n".join(f"- {p.key or p.file}: {p.message}" for p in exc.problems))
        return
    except ConfigConflict as exc:
        st.error(f"Not saved: {exc}")
        return
    runtime.reload()
    st.session_state.pop("settings-document", None)
    st.session_state["settings-flash"] = f"Saved the alerts section to {runtime.config_path}."
    st.rerun()
