"""The image: built on a real Docker engine with no registry (deploy/docker/build-offline.sh), run
as a non-root user with a read-only root filesystem, answering on its routes.

The test engine runs without a bridge network (tests/engines.py: --bridge=none), so the container
shares the host's network (`--network host`) and listens on a free loopback port; the config and
the history live on a bind-mounted /data, scratch and Streamlit's home on a /tmp tmpfs.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests

from tests.engines import Dockerd, free_port, require_tool, wait_for

pytestmark = [pytest.mark.image, pytest.mark.timeout(3600)]

ROOT = Path(__file__).resolve().parents[2]
TAG = "podium:test"
UID = 10001
CONFIG = """\
settings:
  poll_interval_s: 5
  timeout_s: 5
  demo: true            # the built-in emulated clusters, in the container
  history_dir: history  # on the volume, beside this file
clusters: []
"""


def docker(engine: Dockerd, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], env={**os.environ, "DOCKER_HOST": engine.url}, capture_output=True,
                          text=True, check=check, timeout=timeout)


@pytest.fixture(scope="module")
def engine():
    require_tool("docker", "the image is built with the docker CLI")
    if not (Path.home() / ".cache" / "podium" / "python-base-bookworm.tar").exists():
        require_tool("mmdebstrap", "the base image is made from Debian's mirrors (deploy/docker/make-base-image.sh)")
    engine = Dockerd("image").start()
    try:
        built = subprocess.run([str(ROOT / "deploy" / "docker" / "build-offline.sh"), TAG], cwd=ROOT,
                               env={**os.environ, "DOCKER_HOST": engine.url, "PYTHON": sys.executable},
                               capture_output=True, text=True, timeout=3000)
        assert built.returncode == 0, f"build-offline.sh failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}"
        yield engine
    finally:
        engine.remove()


@pytest.fixture(scope="module")
def container(engine):
    data = Path(tempfile.mkdtemp(prefix="pd-image-data-", dir="/tmp"))
    (data / "clusters.yaml").write_text(CONFIG)
    os.chown(data, UID, UID)
    os.chown(data / "clusters.yaml", UID, UID)
    port = free_port()
    started = docker(engine, "run", "--detach", "--name", "podium-test", "--read-only",
                     "--tmpfs", "/tmp:rw,size=256m", "--user", f"{UID}:{UID}", "--cap-drop", "ALL",
                     "--security-opt", "no-new-privileges", "--network", "host", "--health-interval", "2s",
                     "--volume", f"{data}:/data", "--env", f"STREAMLIT_SERVER_PORT={port}",
                     "--env", "STREAMLIT_SERVER_ADDRESS=127.0.0.1", TAG)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(url + "/_stcore/health", timeout=2).text == "ok", timeout_s=180,
                 what=f"the container's Streamlit on {url} (logs: docker logs podium-test)")
        yield url, data, started.stdout.strip()
    finally:
        logs = docker(engine, "logs", "podium-test", check=False).stderr[-3000:]
        docker(engine, "rm", "--force", "podium-test", check=False)
        subprocess.run(["rm", "-rf", str(data)], check=False)
        print(logs)


def route(url: str, path: str) -> requests.Response:
    """A contract route's answer; skipped while the app has no such route (Streamlit then answers
    any path with its HTML page), as until the API routes land ([api], issue #17)."""
    response = requests.get(url + path, timeout=10)
    if response.headers.get("content-type", "").startswith("text/html"):
        pytest.skip(f"{path} is not served yet: the app answers with its HTML page (waits on [api], issue #17)")
    return response


def test_it_runs_as_the_non_root_user(engine, container):
    assert docker(engine, "exec", "podium-test", "id", "-u").stdout.strip() == str(UID)
    config = json.loads(docker(engine, "image", "inspect", TAG).stdout)[0]["Config"]
    assert config["User"] == f"{UID}:{UID}" and config["Volumes"] == {"/data": {}}


def test_the_root_filesystem_is_read_only_and_data_is_writable(engine, container):
    denied = docker(engine, "exec", "podium-test", "touch", "/opt/podium/app/x", check=False)
    assert denied.returncode != 0 and "Read-only file system" in denied.stderr
    assert docker(engine, "exec", "podium-test", "touch", "/data/probe", check=False).returncode == 0


def test_the_streamlit_page_answers(container):
    url, _, _ = container
    assert requests.get(url + "/_stcore/health", timeout=5).text == "ok"
    assert "<title>" in requests.get(url + "/", timeout=5).text


def test_healthz_answers_ok(container):
    url, _, _ = container
    response = route(url, "/healthz")
    assert (response.status_code, response.text.strip()) == (200, "ok")


def test_the_healthcheck_turns_healthy(engine, container):
    url, _, _ = container
    route(url, "/healthz")  # the HEALTHCHECK asks /healthz: meaningful once it is served
    wait_for(lambda: json.loads(docker(engine, "inspect", "podium-test").stdout)[0]["State"]["Health"]["Status"]
             == "healthy", timeout_s=120, what="docker's HEALTHCHECK to report healthy")


def test_readyz_turns_ready_after_the_first_round(container):
    url, _, _ = container
    route(url, "/readyz")
    wait_for(lambda: requests.get(url + "/readyz", timeout=5).status_code == 200, timeout_s=180,
             what="/readyz to answer 200")


def test_the_snapshot_is_served_and_the_history_is_on_the_volume(container):
    import jsonschema

    url, data, _ = container
    route(url, "/readyz")
    wait_for(lambda: requests.get(url + "/readyz", timeout=5).status_code == 200, timeout_s=180, what="/readyz")
    response = route(url, "/api/v1/snapshot")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    snapshot = response.json()
    jsonschema.validate(snapshot, json.loads((ROOT / "docs" / "snapshot.schema.json").read_text()))
    assert any(cluster["status"] in ("ok", "degraded") for cluster in snapshot["clusters"]), snapshot["clusters"]
    wait_for(lambda: any((data / "history").iterdir()), timeout_s=60, what="the history store on /data")
