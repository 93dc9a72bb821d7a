"""The `alerts:` section of clusters.yaml: every key, and each mistake named by file, line and key."""
from __future__ import annotations

from pathlib import Path

import pytest

from fleet.alerts.catalog import CONDITIONS, DEFAULT_FOR_ROUNDS
from fleet.config import ConfigError, load_config, parse_config

CONFIGS = Path(__file__).parent / "configs"
ENV = {"PODIUM_TEST_AM_AUTH": "Bearer am-canary-secret"}


def test_the_alerts_section_loads_every_key():
    alerts = load_config(CONFIGS / "alerts.yaml", environ=ENV).alerts
    assert (alerts.for_rounds, alerts.flap_window_rounds, alerts.resend_interval_s) == (3, 10, 30.0)
    assert alerts.external_url == "https://podium.example/"
    assert alerts.condition("PodiumNodeNotReady").severity == "critical"
    assert alerts.for_rounds_of("PodiumNodeNotReady") == 4 and alerts.for_rounds_of("PodiumClusterDown") == 3
    assert "PodiumWorkloadDegraded" not in alerts.enabled() and "PodiumServiceDown" in alerts.enabled()
    am, chat = alerts.destinations
    assert (am.kind, am.url, am.severities, am.conditions) == ("alertmanager", "http://alertmanager:9093",
                                                              frozenset({"critical"}), None)
    assert am.auth_header.reveal() == "Bearer am-canary-secret"
    assert chat.auth_header.reveal() == "Bearer webhook-canary-secret"
    assert (chat.timeout_s, chat.max_attempts) == (2, 3)
    assert chat.wants("PodiumNodeNotReady", "warning") and not chat.wants("PodiumServiceDown", "critical")


def test_auth_headers_never_show_in_repr():
    config = load_config(CONFIGS / "alerts.yaml", environ=ENV)
    assert "canary" not in repr(config) + str(config.alerts)


def test_no_alerts_section_means_every_condition_and_no_destination():
    alerts = parse_config("clusters: []\n", "x.yaml", environ={}).alerts
    assert alerts.enabled() == set(CONDITIONS) and alerts.destinations == ()
    assert alerts.for_rounds == DEFAULT_FOR_ROUNDS


def problem_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "inline.yaml", environ={})
    return str(caught.value)


@pytest.mark.parametrize("text, expected", [
    ("alerts:\n  for_round: 2\n", "inline.yaml:2: alerts.for_round: unknown key; known keys: for_rounds"),
    ("alerts:\n  for_rounds: 0\n", "inline.yaml:2: alerts.for_rounds: must be a positive whole number, got 0"),
    ("alerts: [1]\n", "inline.yaml:1: alerts: must be a mapping"),
    ("alerts:\n  conditions:\n    PodiumNodeDown: {}\n",
     "inline.yaml:3: alerts.conditions.PodiumNodeDown: unknown condition; known: PodiumClusterDown"),
    ("alerts:\n  conditions:\n    PodiumNodeNotReady:\n      severity: page\n",
     "inline.yaml:4: alerts.conditions.PodiumNodeNotReady.severity: must be critical or warning, got 'page'"),
    ("alerts:\n  conditions:\n    PodiumNodeNotReady:\n      silence: true\n",
     "inline.yaml:4: alerts.conditions.PodiumNodeNotReady.silence: unknown key"),
    ("alerts:\n  destinations:\n    - name: am\n      type: pagerduty\n      url: http://x\n",
     "inline.yaml:4: alerts.destinations[0] (am).type: must be one of alertmanager, webhook, got 'pagerduty'"),
    ("alerts:\n  destinations:\n    - name: am\n      type: webhook\n      url: ftp://x\n",
     "inline.yaml:5: alerts.destinations[0] (am).url: must be an http:// or https:// URL"),
    ("alerts:\n  destinations:\n    - name: am\n      type: webhook\n      url: http://u:p@x\n",
     "inline.yaml:5: alerts.destinations[0] (am).url: credentials in the URL are not allowed"),
    ("alerts:\n  destinations:\n    - name: am\n      type: webhook\n      url: http://x\n      token: abc\n",
     "inline.yaml:6: alerts.destinations[0] (am).token: unknown key"),
    ("alerts:\n  destinations:\n    - name: am\n      type: webhook\n      url: http://x\n"
     "      auth_header_env: PODIUM_TEST_UNSET\n",
     "inline.yaml:6: alerts.destinations[0] (am).auth_header_env: environment variable PODIUM_TEST_UNSET is not set"),
    ("alerts:\n  destinations:\n    - name: am\n      type: webhook\n      url: http://x\n"
     "      severities: [page]\n", "inline.yaml:6: alerts.destinations[0] (am).severities: unknown 'page'"),
    ("alerts:\n  destinations:\n    - name: a\n      type: webhook\n      url: http://x\n"
     "    - name: a\n      type: webhook\n      url: http://y\n",
     "inline.yaml:6: alerts.destinations[1].name: duplicate destination name 'a'"),
    ("alerts:\n  destinations:\n    - type: webhook\n", "alerts.destinations[0].name: required"),
])
def test_alerts_mistakes_name_file_line_and_key(text, expected):
    assert expected in problem_of(text)


def test_the_example_config_documents_the_alerts_section():
    example = (Path(__file__).parents[2] / "config" / "clusters.example.yaml").read_text()
    for key in ("alerts:", "for_rounds", "flap_window_rounds", "resend_interval_s", "external_url", "conditions:",
                "destinations:", "auth_header_env", "auth_header_file", "severities", "max_attempts"):
        assert key in example, key
