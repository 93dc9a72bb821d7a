"""Settings → API tokens through AppTest: created and shown once, kept only as a hash, revoked."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from fleet.auth import api_token_name, hash_token
from fleet.config import load_config
from tests.views.test_settings import fill, press, settings_script

CONFIG = """settings:
  demo: false
  # who may sign in
  auth:
    admins: [ops@example.com]
clusters:
  - name: edge
    orchestrator: swarm
    url: tcp://edge:2376
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "clusters.yaml"
    path.write_text(CONFIG)
    return path


def open_settings(config) -> AppTest:
    app = AppTest.from_function(settings_script, args=(str(config),), default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app


def create(app: AppTest, name: str) -> str:
    fill(app, **{"Token name": name})
    press(app, "Create token")
    return app.code[-1].value


def test_a_created_token_is_shown_once_and_only_its_hash_is_kept(config):
    app = open_settings(config)
    token = create(app, "prometheus")
    assert token.startswith("podium_") and len(token) > 40
    assert any("Copy it now" in s.value for s in app.success)
    text = config.read_text()
    assert token not in text and hash_token(token) in text and "# who may sign in" in text
    assert api_token_name(load_config(config).settings.auth, token) == "prometheus"
    app.run()
    assert token not in [c.value for c in app.code]
    assert list(app.dataframe[-1].value["name"]) == ["prometheus"]


def test_a_revoked_token_is_gone_from_the_config(config):
    app = open_settings(config)
    token = create(app, "ci")
    create(app, "prometheus")
    app.selectbox(key="api-token-revoke-choice").select("ci").run()
    press(app, "Revoke")
    assert any("Revoked API token ci" in s.value for s in app.success)
    policy = load_config(config).settings.auth
    assert [t.name for t in policy.api_tokens] == ["prometheus"] and api_token_name(policy, token) is None


def test_a_second_token_with_the_same_name_is_refused(config):
    app = open_settings(config)
    create(app, "ci")
    fill(app, **{"Token name": "ci"})
    press(app, "Create token")
    assert "A token named 'ci' exists already" in app.error[0].value


def test_without_auth_the_page_says_the_api_is_open(tmp_path):
    path = tmp_path / "clusters.yaml"
    path.write_text(CONFIG.replace("  # who may sign in\n  auth:\n    admins: [ops@example.com]\n", ""))
    app = open_settings(path)
    assert any("open to anyone who can reach this server" in i.value for i in app.info)
    assert not [b for b in app.button if b.label == "Create token"]
