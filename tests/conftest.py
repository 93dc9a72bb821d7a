import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

import collectors  # noqa: E402,F401  (registers the built-in orchestrators, as the entry points do)

from sim.httpserver import AUDIT_ENV  # noqa: E402
from tests.engines import Dockerd  # noqa: E402


@pytest.fixture(scope="session")
def swarm_engine():
    """A real single-node Swarm with a runnable busybox image, shared by the swarm tier."""
    engine = Dockerd("swarm").start().init_swarm()
    engine.import_busybox()
    yield engine
    engine.remove()


@pytest.fixture(scope="session", autouse=True)
def read_only_audit(tmp_path_factory: pytest.TempPathFactory):
    """Across the whole session, every emulator (in this process or a dashboard it starts) sees
    only reads from Podium: any other request is written to this file and fails the session."""
    writes = tmp_path_factory.mktemp("read-only-audit") / "writes.log"
    previous = os.environ.get(AUDIT_ENV)
    os.environ[AUDIT_ENV] = str(writes)
    yield writes
    if previous is None:
        os.environ.pop(AUDIT_ENV, None)
    else:
        os.environ[AUDIT_ENV] = previous
    seen = writes.read_text() if writes.exists() else ""
    assert not seen, f"Podium sent emulators requests that are not reads:\n{seen}"
