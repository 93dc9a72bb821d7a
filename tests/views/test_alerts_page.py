"""The Alerts page (firing, resolved, destination health) and the `alerts:` editor in Settings."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fleet.alerts.dispatch import DestinationHealth, SendError
from fleet.alerts.engine import AlertEngine
from fleet.alerts.settings import AlertsConfig, DestinationConfig
from fleet.config import load_config
from fleet.model import Snapshot
from tests.fleet.configs import editable_copy
from tests.fleet.snapshot_builder import T0, ClusterBuilder
from tests.views.test_settings import press
from views.alerts import destination_state


def test_a_failing_destination_says_since_when_and_the_last_error():
    health = DestinationHealth("am", "alertmanager", "http://am:9093", failing_since=T0,
                               last_error="ConnectTimeout: timed out")
    text = destination_state(health)
    assert text.startswith("failing since 2026-01-01 12:00:00 UTC") and text.endswith("last error: ConnectTimeout: timed out")


def page_script() -> None:
    import streamlit as st

    from tests.views.test_alerts_page import engine_with_history
    from views import alerts

    alerts.render_view(st.cache_resource(engine_with_history)().view())


def refusing_post(url, body, headers, timeout_s):
    raise SendError("HTTP 503: unavailable")


def engine_with_history() -> AlertEngine:
    """Node n2 went down for three rounds, then one more node stayed down; the destination refuses."""
    dead = DestinationConfig(name="am", kind="alertmanager", url="http://am.test:9093", max_attempts=1)
    clock = iter(T0 + timedelta(seconds=15 * i) for i in range(100))
    engine = AlertEngine(AlertsConfig(destinations=(dead,)), clock=lambda: next(clock), post=refusing_post)

    def snapshot(*down: str) -> Snapshot:
        builder = ClusterBuilder(name="prod").node("n1").node("n2", status="down" if "n2" in down else "ready")
        builder.node("n3", status="not_ready" if "n3" in down else "ready")
        return Snapshot(taken_at=T0, clusters=[builder.build()])

    for down in (("n2",), ("n2",), ("n2",), ("n3",), ("n3",)):
        engine.evaluate(snapshot(*down))
    engine.wait_sent()
    return engine


def test_the_page_shows_firing_resolved_and_a_failing_destination():
    app = AppTest.from_function(page_script, default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    frames = [frame.value for frame in app.dataframe]
    firing = next(v for v in frames if "flapping" in v.columns)
    assert list(firing["object"]) == ["node=n3"] and list(firing["alert"]) == ["PodiumNodeNotReady"]
    resolved = next(v for v in frames if "resolved" in v.columns)
    assert list(resolved["object"]) == ["node=n2"]
    assert any("am" in e.value and "failing since" in e.value and "HTTP 503: unavailable" in e.value
               for e in app.error)


def settings_script(config_path: str) -> None:
    from pathlib import Path

    import streamlit as st

    from fleet.runtime import FleetRuntime
    from tests.fleet.fakes import ScriptedSource, small_cluster
    from views import settings

    @st.cache_resource
    def runtime(path: str) -> FleetRuntime:
        return FleetRuntime(Path(path), lambda cluster: ScriptedSource(cluster.name, [small_cluster()]))

    settings.render(runtime(config_path))


@pytest.fixture
def settings_app(tmp_path, monkeypatch) -> tuple[AppTest, Path]:
    monkeypatch.setenv("PODIUM_TEST_NOMAD_TOKEN", "env-token")
    config = editable_copy(tmp_path)
    app = AppTest.from_function(settings_script, args=(str(config),), default_timeout=30)
    app.run()
    assert not app.exception
    return app, config


def test_an_admin_saves_the_alerts_section_in_settings(settings_app):
    app, config = settings_app
    app.text_area(key="settings-alerts-text").input(
        "for_rounds: 3\ndestinations:\n  - name: am\n    type: alertmanager\n    url: http://am:9093\n")
    press(app, "Save alerts")
    alerts = load_config(config, resolve_secrets=False).alerts
    assert alerts.for_rounds == 3 and [d.name for d in alerts.destinations] == ["am"]
    assert "# the edge swarm" in config.read_text()  # the rest of the file, comments included, is kept


def test_an_invalid_alerts_section_is_explained_and_not_saved(settings_app):
    app, config = settings_app
    before = config.read_text()
    app.text_area(key="settings-alerts-text").input("for_rounds: 0\nconditions:\n  PodiumNope: {}\n")
    press(app, "Save alerts")
    text = app.error[0].value
    assert "alerts.for_rounds: must be a positive whole number" in text and "alerts.conditions.PodiumNope" in text
    assert config.read_text() == before
