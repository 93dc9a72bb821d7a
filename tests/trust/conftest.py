"""Fixtures of the trust suite: a certificate authority, an impostor one, the running targets."""
from __future__ import annotations

import threading
from typing import Iterator

import pytest

from tests.trust.pki import Authority
from tests.trust.targets import KINDS


def kind_params() -> list:
    """Every orchestrator; Swarm runs against the real engine (the swarm tier)."""
    return [pytest.param(kind, marks=pytest.mark.swarm) if kind == "swarm" else kind for kind in KINDS]


@pytest.fixture(scope="session")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return Authority("podium-trust", tmp_path_factory.mktemp("pki-podium-trust"))


@pytest.fixture(scope="session")
def impostor(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return Authority("impostor", tmp_path_factory.mktemp("pki-impostor"))


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown: frees every handler a fault keeps waiting (hangs, drips)."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def engine(request: pytest.FixtureRequest):
    """The real Swarm engine when the test is about Swarm; nothing otherwise."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is None or callspec.params.get("kind") != "swarm":
        return None
    return request.getfixturevalue("swarm_engine")
