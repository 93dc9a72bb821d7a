"""Real engines for the slower test tiers: a throwaway dockerd in Swarm mode, headless Chromium.

Started and stopped by the tests themselves. Where a tool is missing, the tests that need it skip
with a reason, except when PODIUM_REQUIRE_ENGINES=1 (CI, `make test`): then they fail.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import docker
import pytest

BUSYBOX = "/bin/busybox"
IMAGE = "podium/busybox:1"
BUSYBOX_APPLETS = ["sh", "sleep", "true", "false", "echo", "cat", "ls", "wget", "test"]
# the bridge a swarm-mode dockerd makes in its network namespace; it outlives the engine
GATEWAY_BRIDGE = "docker_gwbridge"


def host_has_gateway_bridge() -> bool:
    return Path("/sys/class/net", GATEWAY_BRIDGE).exists()


def require_tool(path_or_name: str, why: str) -> str:
    found = path_or_name if os.path.exists(path_or_name) else shutil.which(path_or_name)
    if found:
        return found
    message = f"{path_or_name} not found: {why}"
    if os.environ.get("PODIUM_REQUIRE_ENGINES") == "1":
        pytest.fail(message + " (PODIUM_REQUIRE_ENGINES=1: `make test` installs it)")
    pytest.skip(message)


def wait_for(predicate, *, timeout_s: float = 60.0, interval_s: float = 0.25, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # keep waiting; report the last error on timeout
            last_error = exc
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:g}s waiting for {what}" +
                         (f" (last error: {last_error})" if last_error else ""))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_process_group(process: subprocess.Popen | None, *, grace_s: float) -> None:
    """SIGTERM a process group started with start_new_session, SIGKILL it after the grace period."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Dockerd:
    """One dockerd with its own data root and socket, as DEVELOPERS.md describes."""

    # engines started in the host's network namespace and not removed yet, and whether the host had
    # the gateway bridge before the first of them: the last one removed takes away a bridge they made
    in_host_namespace: set["Dockerd"] = set()
    bridge_was_there = True

    def __init__(self, name: str, *, swarm_port: int | None = None, extra_args: list[str] | None = None):
        self.extra_args = extra_args or []  # e.g. a tcp listener with --tlsverify
        self.root = Path(tempfile.mkdtemp(prefix=f"pd-{name}-", dir="/tmp"))
        self.socket = self.root / "docker.sock"
        self.url = f"unix://{self.socket}"
        self.swarm_port = swarm_port or free_port()
        self.process: subprocess.Popen | None = None
        self.client: docker.APIClient | None = None

    def start(self) -> "Dockerd":
        dockerd = require_tool("dockerd", "the Swarm tests run a real Docker engine")
        if os.geteuid() != 0:
            pytest.skip("dockerd needs root")
        if not Dockerd.in_host_namespace:
            Dockerd.bridge_was_there = host_has_gateway_bridge()
        Dockerd.in_host_namespace.add(self)
        log = open(self.root / "dockerd.log", "wb")
        self.process = subprocess.Popen(
            [dockerd, "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
             "-H", self.url, "--pidfile", str(self.root / "pid"), "--iptables=false", "--ip6tables=false",
             "--bridge=none", "--storage-driver=vfs", *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.client = docker.APIClient(base_url=self.url, version="auto", timeout=30) if self._ping() else None
        return self

    def _ping(self) -> bool:
        def ready() -> bool:
            if self.process and self.process.poll() is not None:
                raise AssertionError(f"dockerd exited: {(self.root / 'dockerd.log').read_text()[-2000:]}")
            return self.socket.exists() and docker.APIClient(base_url=self.url, version="1.41", timeout=2).ping()
        wait_for(ready, timeout_s=60, what=f"dockerd on {self.url}")
        return True

    def init_swarm(self) -> "Dockerd":
        address = f"127.0.0.1:{self.swarm_port}"
        self.client.init_swarm(advertise_addr=address, listen_addr=address)
        wait_for(lambda: self.client.nodes(), what="the swarm to have a node")
        return self

    def import_busybox(self) -> str:
        busybox = require_tool(BUSYBOX, "a runnable image is built from Debian's busybox-static")
        tarball = self.root / "rootfs.tar"
        with tarfile.open(tarball, "w") as archive:
            archive.add(busybox, arcname="bin/busybox")
            for applet in BUSYBOX_APPLETS:
                link = tarfile.TarInfo(f"bin/{applet}")
                link.type, link.linkname = tarfile.SYMTYPE, "busybox"
                archive.addfile(link)
        repository, tag = IMAGE.split(":")
        self.client.import_image(src=str(tarball), repository=repository, tag=tag,
                                 changes=['CMD ["/bin/sleep", "3600"]'])
        return IMAGE

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
        stop_process_group(self.process, grace_s=20)
        # containers' shims may outlive a killed dockerd; their mounts must go before the files
        subprocess.run(["sh", "-c", f"grep -o ' {self.root}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"],
                       check=False, capture_output=True)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        if self in Dockerd.in_host_namespace:
            Dockerd.in_host_namespace.discard(self)
            if not Dockerd.in_host_namespace and not Dockerd.bridge_was_there:
                subprocess.run(["ip", "link", "delete", GATEWAY_BRIDGE], check=False, capture_output=True)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


class StreamlitServer:
    """`streamlit run app.py` on a free port, as a user starts it; waits until it answers."""

    def __init__(self, root: Path, env: dict[str, str]):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.env = env
        self.process: subprocess.Popen | None = None
        self.log = Path(tempfile.mkstemp(prefix="podium-streamlit-", suffix=".log")[1])

    def start(self) -> "StreamlitServer":
        import sys
        import urllib.request

        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                   "--server.port", str(self.port), "--server.address", "127.0.0.1",
                   "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        self.process = subprocess.Popen(command, cwd=self.root, env={**os.environ, **self.env},
                                        stdout=open(self.log, "wb"), stderr=subprocess.STDOUT,
                                        start_new_session=True)

        def healthy() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"streamlit exited: {self.log.read_text()[-2000:]}")
            with urllib.request.urlopen(self.url + "_stcore/health", timeout=2) as response:
                return response.status == 200
        wait_for(healthy, timeout_s=60, what="streamlit to answer")
        return self

    def stop(self) -> None:
        stop_process_group(self.process, grace_s=15)
        self.log.unlink(missing_ok=True)
