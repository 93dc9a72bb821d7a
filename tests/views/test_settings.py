"""The Settings page through AppTest: add, edit, remove, validation errors, tokens kept out of the file."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fleet.config import load_config
from tests.fleet.configs import editable_copy


TOKEN = "typed-canary-5b2f"


def settings_script(config_path: str) -> None:
    from pathlib import Path

    import streamlit as st

    from fleet.runtime import FleetRuntime
    from tests.fleet.fakes import ScriptedSource, small_cluster
    from views import settings

    @st.cache_resource
    def runtime(path: str) -> FleetRuntime:
        return FleetRuntime(Path(path), lambda cluster: ScriptedSource(cluster.name, [small_cluster(version="9.9")]))

    settings.render(runtime(config_path))


@pytest.fixture
def config(tmp_path) -> Path:
    return editable_copy(tmp_path)


@pytest.fixture
def app(config, monkeypatch) -> AppTest:
    monkeypatch.setenv("PODIUM_TEST_NOMAD_TOKEN", "env-token")
    app = AppTest.from_function(settings_script, args=(str(config),), default_timeout=30)
    app.run()
    assert not app.exception
    return app


def fill(app: AppTest, **values: str) -> None:
    for label, value in values.items():
        next(t for t in app.text_input if t.label == label).input(value)


def press(app: AppTest, label: str) -> AppTest:
    next(b for b in app.button if b.label == label).click()
    app.run()
    assert not app.exception, app.exception
    return app


def test_lists_the_configured_clusters(app):
    assert list(app.dataframe[0].value["name"]) == ["edge", "batch", "legacy"]


def test_add_a_swarm_cluster_keeps_comments(app, config):
    app.selectbox(key="settings-orchestrator-+ Add a cluster").select("swarm").run()
    fill(app, **{"Name": "new-edge", "API URL": "tcp://new-edge:2376"})
    press(app, "Save")
    assert any("Saved new-edge" in s.value for s in app.success)
    assert [c.name for c in load_config(config, resolve_secrets=False).clusters][-1] == "new-edge"
    assert "# the edge swarm" in config.read_text()
    assert config.with_name("clusters.yaml.bak").exists()


def test_invalid_entry_is_explained_inline_and_not_saved(app, config):
    before = config.read_text()
    app.selectbox(key="settings-orchestrator-+ Add a cluster").select("nomad").run()
    fill(app, Name="no-url")
    press(app, "Save")
    assert "url: required for nomad clusters" in app.error[0].value
    assert config.read_text() == before


def test_typed_token_goes_to_a_0600_file_never_into_the_yaml(app, config):
    app.selectbox(key="settings-orchestrator-+ Add a cluster").select("nomad").run()
    fill(app, **{"Name": "guarded", "API URL": "http://nomad.example:4646", "Token": TOKEN})
    press(app, "Save")
    text = config.read_text()
    assert TOKEN not in text and "token_file: secrets/guarded.token" in text
    secret = config.parent / "secrets" / "guarded.token"
    assert secret.read_text().strip() == TOKEN
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert all(TOKEN not in str(element.value) for element in app.text_input)


def test_edit_renames_a_cluster_in_place(app, config):
    app.selectbox(key="settings-choice").select("edge").run()
    name = next(t for t in app.text_input if t.label == "Name")
    assert name.value == "edge"
    name.input("edge-eu")
    press(app, "Save")
    names = [c.name for c in load_config(config, resolve_secrets=False).clusters]
    assert names == ["edge-eu", "batch", "legacy"]
    assert "# the edge swarm" in config.read_text()


def test_remove_needs_confirmation(app, config):
    app.selectbox(key="settings-choice").select("legacy").run()
    remove = next(b for b in app.button if b.label == "Remove")
    assert remove.disabled
    app.checkbox(key="rm-ok-legacy").check().run()
    press(app, "Remove")
    assert [c.name for c in load_config(config, resolve_secrets=False).clusters] == ["edge", "batch"]


def test_test_connection_reports_what_it_found(app):
    app.selectbox(key="settings-orchestrator-+ Add a cluster").select("swarm").run()
    fill(app, **{"Name": "probe", "API URL": "tcp://probe:2376"})
    press(app, "Test connection")
    assert "Connected: swarm 9.9, 2 nodes, 1 workloads." in app.success[0].value


def test_a_save_over_someone_elses_change_is_refused(app, config):
    config.write_text(config.read_text() + "  - name: other\n    orchestrator: swarm\n    url: tcp://o:2376\n")
    app.selectbox(key="settings-orchestrator-+ Add a cluster").select("swarm").run()
    fill(app, **{"Name": "mine", "API URL": "tcp://mine:2376"})
    press(app, "Save")
    assert "changed by someone else" in app.error[0].value
    assert "name: mine" not in config.read_text() and "name: other" in config.read_text()
