import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from tests.engines import Dockerd  # noqa: E402


@pytest.fixture(scope="session")
def swarm_engine():
    """A real single-node Swarm with a runnable busybox image, shared by the swarm tier."""
    engine = Dockerd("swarm").start().init_swarm()
    engine.import_busybox()
    yield engine
    engine.remove()
