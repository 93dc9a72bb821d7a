"""A throwaway PostgreSQL cluster for the store tests: initdb + pg_ctl in a temp dir, a free port.

Debian's `postgresql` package puts the server binaries in /usr/lib/postgresql/<version>/bin. As root
the server runs as the `postgres` user (PostgreSQL refuses to run as root). Missing binaries skip
the tests, or fail them under PODIUM_REQUIRE_ENGINES=1 (`make test` installs the package).
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.engines import free_port, require_tool

USER = "podium"
PASSWORD = "pg-canary-5b7c1e"  # a test credential: tests check it never shows up anywhere


def server_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    initdb = require_tool(found[-1] if found else "initdb", "the store tests run a real PostgreSQL "
                                                            "(Debian package postgresql)")
    return Path(initdb).parent


class PostgresServer:
    def __init__(self) -> None:
        self.bin = server_bin()
        self.root = Path(tempfile.mkdtemp(prefix="pd-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def run(self, *command: str) -> None:
        result = subprocess.run([*self.as_user, *command], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed: {result.stdout}{result.stderr}")

    def start(self) -> "PostgresServer":
        password_file = self.root / "password"
        password_file.write_text(PASSWORD + "\n")
        if self.as_user:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(password_file, "postgres", "postgres")
        self.run(str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "--pwfile", str(password_file),
                 "--auth=scram-sha-256", "--no-sync")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                 "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                            "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)
