"""Podium: one dashboard for every container cluster. Run with `streamlit run app.py`."""
from __future__ import annotations

import streamlit as st

from collectors import build_collector
from fleet.runtime import FleetRuntime, config_path_from_env, start_runtime
from views import overview
from views.format import ago


@st.cache_resource(show_spinner=False)
def fleet_runtime(path: str) -> FleetRuntime:
    """One poller per process, shared by every browser session."""
    from pathlib import Path

    return start_runtime(Path(path), build_collector)


def no_config_help(runtime: FleetRuntime) -> None:
    st.info(f"No clusters configured yet. Create `{runtime.config_path}` — start from "
            "`config/clusters.example.yaml` — then reload this page.", icon=":material/info:")
    st.code("cp config/clusters.example.yaml config/clusters.yaml\n"
            "python -m fleet check --config config/clusters.yaml", language="bash")


def overview_page() -> None:
    runtime = fleet_runtime(str(config_path_from_env()))
    st.title("Podium")
    if runtime.config_error is not None:
        st.error(f"The configuration `{runtime.config_path}` has problems; fix them and reload:")
        st.code(str(runtime.config_error), language="text")
        return
    if not runtime.configured:
        no_config_help(runtime)
        return
    interval = runtime.config.settings.poll_interval_s  # type: ignore[union-attr]

    @st.fragment(run_every=min(interval, 5.0))
    def live() -> None:
        snapshot = runtime.snapshot()
        if snapshot is None:
            return
        left, right = st.columns([4, 1])
        left.caption(f"{len(snapshot.clusters)} cluster(s) · updated {ago(snapshot.taken_at)} · "
                     f"polling every {interval:g}s")
        if right.button("Refresh now", icon=":material/refresh:"):
            runtime.poller.refresh_now()  # type: ignore[union-attr]
        overview.render_snapshot(snapshot)

    live()


st.set_page_config(page_title="Podium", page_icon=":material/dashboard:", layout="wide")
page = st.navigation([st.Page(overview_page, title="Overview", icon=":material/dashboard:", url_path="overview",
                              default=True)])
page.run()
