"""`python -m fleet analyze` and `diff` as a deploy pipeline sees them: JSON, text, exit codes."""
from __future__ import annotations

import json
from pathlib import Path

from tests.fleet.test_cli import run_cli

SNAPSHOTS = Path(__file__).parent / "snapshots"
KEYS = {"n_plus_1", "worst_node", "spof_workloads", "zone_loss", "balance", "headroom", "limit_warnings"}


def test_analyze_of_a_fleet_that_survives_any_node_exits_0_with_every_key():
    result = run_cli("analyze", str(SNAPSHOTS / "n-plus-1.json"))
    assert result.returncode == 0, result.stderr
    [cluster] = json.loads(result.stdout)["clusters"]
    assert KEYS <= cluster.keys() and cluster["n_plus_1"] is True
    assert "node_loss" not in cluster


def test_analyze_exits_3_when_a_cluster_cannot_absorb_a_node():
    result = run_cli("analyze", str(SNAPSHOTS / "not-n-plus-1.json"))
    assert result.returncode == 3
    verdicts = {c["cluster"]: (c["n_plus_1"], c["worst_node"]["lost"]) for c in json.loads(result.stdout)["clusters"]}
    assert verdicts["prod"] == (False, "a")
    assert "prod: NOT N+1" in result.stderr


def test_analyze_all_nodes_lists_each_node_loss():
    result = run_cli("analyze", "--all-nodes", str(SNAPSHOTS / "n-plus-1.json"))
    [cluster] = json.loads(result.stdout)["clusters"]
    assert [n["lost"] for n in cluster["node_loss"]] == ["m1", "w1", "w2"]


def test_analyze_of_a_missing_file_exits_2_naming_it(tmp_path):
    result = run_cli("analyze", str(tmp_path / "nope.json"))
    assert result.returncode == 2 and f"{tmp_path / 'nope.json'}: file not found" in result.stderr


def test_analyze_of_broken_json_exits_2_saying_what_is_wrong(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": "podium.snapshot/v1", ')
    result = run_cli("analyze", str(broken))
    assert result.returncode == 2 and f"{broken}: not a podium.snapshot/v1 document" in result.stderr
    assert "truncated" in result.stderr and result.stdout == ""


def test_analyze_of_a_document_of_the_wrong_shape_names_the_field(tmp_path):
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"schema": "podium.snapshot/v1", "taken_at": "2026-01-01T00:00:00Z", "clusters": [{}]}')
    result = run_cli("analyze", str(wrong))
    assert result.returncode == 2 and "$.clusters[0]" in result.stderr


def test_diff_prints_text_by_default():
    result = run_cli("diff", str(SNAPSHOTS / "diff-old.json"), str(SNAPSHOTS / "diff-new.json"))
    assert result.returncode == 0, result.stderr
    assert "  ~ workload scaled: web 2 -> 3" in result.stdout.splitlines()


def test_diff_json_has_one_entry_per_cluster():
    result = run_cli("diff", "--json", str(SNAPSHOTS / "diff-old.json"), str(SNAPSHOTS / "diff-new.json"))
    document = json.loads(result.stdout)
    assert [(c["cluster"], c["change"]) for c in document["clusters"]] == [("prod", "changed"), ("lab", "removed")]


def test_diff_with_a_bad_file_exits_2(tmp_path):
    result = run_cli("diff", str(SNAPSHOTS / "diff-old.json"), str(tmp_path / "missing.json"))
    assert result.returncode == 2 and "missing.json: file not found" in result.stderr
