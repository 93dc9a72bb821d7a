from __future__ import annotations

from pathlib import Path

import pytest

from fleet.config import ConfigConflict, ConfigDocument, ConfigError, load_config, parse_config
from tests.fleet.configs import editable_copy

CONFIGS = Path(__file__).parent / "configs"
ENV = {"PODIUM_TEST_NOMAD_TOKEN": "nomad-canary-token"}


def problems(name: str, environ: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(CONFIGS / name, environ=environ or {})
    return [str(p) for p in caught.value.problems]


def test_valid_config_loads_settings_clusters_and_secrets():
    config = load_config(CONFIGS / "valid.yaml", environ=ENV)
    assert (config.settings.poll_interval_s, config.settings.timeout_s) == (30, 5)
    assert [c.name for c in config.clusters] == ["edge", "batch", "legacy"]
    batch, legacy = config.clusters[1], config.clusters[2]
    assert batch.token.reveal() == "nomad-canary-token" and batch.option("regions") == ["eu", "us"]
    assert batch.option("namespace") == "*"
    assert legacy.secret("password").reveal() == "hunter2-canary"
    assert legacy.option("password_file") == str(CONFIGS / "secrets" / "legacy-password")


def test_secrets_never_show_in_repr():
    config = load_config(CONFIGS / "valid.yaml", environ=ENV)
    text = repr(config) + str(config.clusters)
    assert "nomad-canary-token" not in text and "hunter2-canary" not in text


def test_unknown_key_names_file_line_and_key():
    [problem] = problems("unknown-key.yaml")
    assert problem.startswith(f"{CONFIGS / 'unknown-key.yaml'}:7: clusters[0] (edge).verfy_tls: unknown key")


def test_unknown_orchestrator_names_the_line():
    [problem] = problems("unknown-orchestrator.yaml")
    assert ":6: clusters[1] (legacy).orchestrator: unknown orchestrator 'openshift'" in problem


def test_duplicate_name_points_at_the_second_use():
    [problem] = problems("duplicate-name.yaml")
    assert ":8: clusters[2].name: duplicate cluster name 'edge' (first used in clusters[0])" in problem


def test_missing_token_variable_is_reported():
    [problem] = problems("missing-token-env.yaml")
    assert ":6: clusters[0] (batch).token_env: environment variable PODIUM_TEST_UNSET_TOKEN is not set" in problem


def test_yaml_syntax_error_names_the_line():
    [problem] = problems("yaml-syntax-error.yaml")
    assert "yaml-syntax-error.yaml:5:" in problem and "YAML syntax error" in problem


def test_missing_file_says_how_to_start():
    [problem] = problems("no-such-file.yaml")
    assert "file not found" in problem and "clusters.example.yaml" in problem


@pytest.mark.parametrize("text, expected", [
    ("clusters:\n  - name: a\n    orchestrator: swarm\n", "url: required for swarm clusters"),
    ("clusters:\n  - name: a\n    orchestrator: marathon\n    url: http://m:8080\n", "mesos_url: required"),
    ("clusters:\n  - name: a\n    orchestrator: swarm\n    url: unix:///s\n    regions: all\n",
     "regions: not used by swarm clusters"),
    ("clusters:\n  - name: a\n    orchestrator: nomad\n    url: http://u:p@nomad:4646\n", "credentials in the URL"),
    ("settings:\n  timeout_s: -1\n", "settings.timeout_s: must be a positive number"),
    ("settings:\n  poll_every: 3\n", "settings.poll_every: unknown setting"),
    ("clusters:\n  - name: a\n    orchestrator: nomad\n    url: ftp://nomad\n", "expected a URL starting with"),
    ("surprise: true\n", "surprise: unknown top-level key"),
])
def test_invalid_values_are_explained(text, expected):
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "inline.yaml", environ={})
    assert expected in str(caught.value)


def test_endpoint_never_carries_credentials():
    config = parse_config("clusters:\n  - name: a\n    orchestrator: nomad\n    url: http://ops@nomad:4646/\n",
                          "x.yaml", environ={})
    assert config.clusters[0].endpoint == "http://nomad:4646/"


@pytest.fixture
def editable(tmp_path) -> Path:
    return editable_copy(tmp_path)


def test_save_keeps_comments_and_order_and_a_backup(editable):
    before = editable.read_text()
    document = ConfigDocument(editable)
    document.upsert_cluster({"name": "new", "orchestrator": "swarm", "url": "tcp://new:2376"})
    document.save()
    after = editable.read_text()
    assert "# the edge swarm" in after and "# slow network" in after
    assert after.index("name: edge") < after.index("name: batch") < after.index("name: new")
    assert editable.with_name("clusters.yaml.bak").read_text() == before
    assert [c.name for c in load_config(editable, environ=ENV).clusters] == ["edge", "batch", "legacy", "new"]


def test_edit_and_remove_cluster(editable):
    document = ConfigDocument(editable)
    document.upsert_cluster({"name": "edge-1", "orchestrator": "swarm", "url": "tcp://edge:2376"}, original_name="edge")
    document.remove_cluster("legacy")
    document.save()
    names = [c.name for c in load_config(editable, environ=ENV).clusters]
    assert names == ["edge-1", "batch"]


def test_save_refuses_an_invalid_result_and_leaves_the_file(editable):
    before = editable.read_text()
    document = ConfigDocument(editable)
    document.upsert_cluster({"name": "bad", "orchestrator": "swarm"})
    with pytest.raises(ConfigError, match="url: required"):
        document.save()
    assert editable.read_text() == before


def test_concurrent_edit_is_detected_not_lost(editable):
    first, second = ConfigDocument(editable), ConfigDocument(editable)
    first.upsert_cluster({"name": "one", "orchestrator": "swarm", "url": "tcp://one:2376"})
    first.save()
    second.upsert_cluster({"name": "two", "orchestrator": "swarm", "url": "tcp://two:2376"})
    with pytest.raises(ConfigConflict, match="changed by someone else"):
        second.save()
    assert "name: one" in editable.read_text() and "name: two" not in editable.read_text()


def test_example_config_is_valid_and_documents_every_key():
    from fleet import orchestrators
    from fleet.config.validate import COMMON_KEYS, SETTINGS_DEFAULTS, TLS_KEYS

    example = Path(__file__).resolve().parents[2] / "config" / "clusters.example.yaml"
    load_config(example, environ={})
    text = example.read_text()
    option_keys = {key for facts in orchestrators.registered() for key in facts.options}
    for key in sorted(set(COMMON_KEYS) | option_keys | TLS_KEYS | set(SETTINGS_DEFAULTS)):
        assert f"{key}:" in text, f"{key} is not documented in clusters.example.yaml"


def test_quoted_values_come_back_as_plain_strings_a_snapshot_can_encode():
    from fleet.model import Cluster, Snapshot, encode_snapshot, utc_now

    text = ('clusters:\n  - name: "quoted"\n    orchestrator: \'nomad\'\n    url: "http://n:4646"\n'
            '    namespace: "*"\n    regions: ["eu"]\n')
    cluster = parse_config(text, "q.yaml", environ={}).clusters[0]
    values = (cluster.name, cluster.orchestrator, cluster.option("namespace"), cluster.option("regions")[0])
    assert [type(v) for v in values] == [str] * 4
    model = Cluster(name=cluster.name, orchestrator=cluster.orchestrator, endpoint=cluster.endpoint, status="ok")
    assert b'"name": "quoted"' in encode_snapshot(Snapshot(taken_at=utc_now(), clusters=[model]))


def test_answer_bounds_are_positive_numbers_with_generous_defaults():
    text = ("clusters:\n  - name: a\n    orchestrator: swarm\n    url: unix:///s\n"
            "  - name: b\n    orchestrator: swarm\n    url: unix:///t\n    max_answer_mib: 64\n    max_list_s: 120\n")
    first, second = parse_config(text, "c.yaml", environ={}).clusters
    assert (first.max_answer_mib, first.max_list_s) == (1024, 600)
    assert (second.max_answer_mib, second.max_list_s) == (64, 120)
    with pytest.raises(ConfigError, match=r"c.yaml:5: clusters\[0\] \(a\).max_answer_mib: must be a positive number"):
        parse_config("clusters:\n  - name: a\n    orchestrator: swarm\n    url: unix:///s\n    max_answer_mib: 0\n",
                     "c.yaml", environ={})
