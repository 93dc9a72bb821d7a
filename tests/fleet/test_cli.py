"""`python -m fleet` as a script or cron job sees it: exit codes, stdout, stderr."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = Path(__file__).parent / "configs"
CANARY = "podium-canary-7d1e0b9c"


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "fleet", *args], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=120)


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "clusters.yaml"
    path.write_text("settings:\n  timeout_s: 2\n" + body)
    return path


DEAD_SWARM = "  - name: dead\n    orchestrator: swarm\n    url: unix:///nonexistent/podium/docker.sock\n"
TOKEN_CLUSTER = ("  - name: guarded\n    orchestrator: nomad\n    url: http://127.0.0.1:9\n"
                 "    token_env: PODIUM_CANARY_TOKEN\n")


@pytest.mark.parametrize("config, where", [
    ("unknown-key.yaml", "unknown-key.yaml:7: clusters[0] (edge).verfy_tls"),
    ("unknown-orchestrator.yaml", "unknown-orchestrator.yaml:6: clusters[1] (legacy).orchestrator"),
    ("duplicate-name.yaml", "duplicate-name.yaml:8: clusters[2].name"),
    ("missing-token-env.yaml", "missing-token-env.yaml:6: clusters[0] (batch).token_env"),
    ("yaml-syntax-error.yaml", "yaml-syntax-error.yaml:5:"),
])
@pytest.mark.parametrize("command", ["snapshot", "check"])
def test_bad_config_exits_2_naming_the_place(command, config, where):
    result = run_cli(command, "--config", str(CONFIGS / config))
    assert result.returncode == 2
    assert where in result.stderr
    assert result.stdout == ""


def test_bad_arguments_exit_2():
    assert run_cli("snapshot", "--format", "xml").returncode == 2
    result = run_cli("snapshot", "--config", str(CONFIGS / "valid.yaml"), "--format", "csv")
    assert result.returncode == 2 and "--output FOLDER" in result.stderr


def test_unreachable_cluster_is_written_and_exits_3(tmp_path):
    result = run_cli("snapshot", "--config", str(write_config(tmp_path, "clusters:\n" + DEAD_SWARM)))
    assert result.returncode == 3
    [cluster] = json.loads(result.stdout)["clusters"]
    assert (cluster["name"], cluster["status"]) == ("dead", "unreachable")
    assert "no such socket" in cluster["error"]
    assert "dead: unreachable" in result.stderr  # progress goes to stderr


def test_check_prints_one_line_per_cluster(tmp_path):
    config = write_config(tmp_path, "clusters:\n" + DEAD_SWARM + TOKEN_CLUSTER)
    result = run_cli("check", "--config", str(config), env={"PODIUM_CANARY_TOKEN": CANARY})
    assert result.returncode == 3
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["dead", "guarded"]
    assert lines[0].split()[1] == "unreachable"


def test_token_never_appears_in_any_output(tmp_path):
    config = write_config(tmp_path, "clusters:\n" + TOKEN_CLUSTER)
    out = tmp_path / "out"
    for args in (["snapshot", "--config", str(config)], ["check", "--config", str(config)],
                 ["-v", "snapshot", "--config", str(config), "--format", "csv", "--output", str(out)]):
        result = run_cli(*args, env={"PODIUM_CANARY_TOKEN": CANARY})
        assert result.returncode == 3
        assert CANARY not in result.stdout + result.stderr
    assert all(CANARY not in f.read_text() for f in out.iterdir())


def test_csv_format_writes_the_five_tables(tmp_path):
    out = tmp_path / "tables"
    result = run_cli("snapshot", "--config", str(write_config(tmp_path, "clusters:\n" + DEAD_SWARM)),
                     "--format", "csv", "--output", str(out))
    assert result.returncode == 3
    assert sorted(p.name for p in out.iterdir()) == ["clusters.csv", "events.csv", "instances.csv", "nodes.csv",
                                                      "services.csv", "workloads.csv"]
    assert (out / "clusters.csv").read_text().splitlines()[1].startswith("dead,swarm,unix:///nonexistent")
