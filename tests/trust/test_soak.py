"""The soak: 1,000 poller rounds over endpoints that flap between healthy and broken leave no
threads, open sockets or memory behind. Bounded: tiny clusters, faults that answer at once."""
from __future__ import annotations

import gc
import itertools
import logging
import os
import threading
import tracemalloc
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import pytest

from collectors import build_collector
from fleet.config import Settings
from fleet.poller import Poller
from sim.httpserver import Fault, Request, Response, json_response, status
from tests.trust.targets import Target, running

pytestmark = pytest.mark.scale  # about a minute: in `make test`, not in the quick tier

ROUNDS = 1_000
WARM_UP = 50
KINDS = ("kubernetes", "nomad", "marathon")


def truncated(target: Target) -> Fault:
    def fault(request: Request) -> Response:
        response = target.front.handler(request)
        if response.stream is None:
            response.truncate_to = len(response.encoded()) // 2
        return response
    return fault


# what each endpoint does, round after round: mostly broken, often healthy again
FLAPS: list[Callable[[Target], Fault | None]] = [
    lambda target: None,
    lambda target: status(500),
    lambda target: status(429, headers={"Retry-After": "1"}),
    lambda target: None,
    truncated,
    lambda target: lambda request: json_response({"not": "the api"}),
    lambda target: status(401),
]


@dataclass(frozen=True)
class Usage:
    threads: int
    fds: int
    traced_bytes: int


def podium_threads() -> int:
    """Threads of Podium's own: the emulators' per-connection handler threads are the harness's,
    and how many of them are alive at one instant depends on when clients hung up."""
    return sum(1 for t in threading.enumerate() if "process_request_thread" not in t.name)


def usage() -> Usage:
    gc.collect()
    return Usage(podium_threads(), len(os.listdir("/proc/self/fd")), tracemalloc.get_traced_memory()[0])


def flap(targets: list[Target], round_number: int) -> None:
    for offset, target in enumerate(targets):
        target.front.requests.clear()  # the emulators' request records are the test's memory, not Podium's
        target.front.fault = FLAPS[(round_number + offset) % len(FLAPS)](target)
        if round_number % 7 == offset:
            target.front.drop_connections()  # a server restarting: keep-alive and watch connections cut


@contextmanager
def log_records_dropped() -> Iterator[None]:
    """pytest keeps every log record of a test for its report: that is the harness's memory, not
    Podium's. Records are still made (the poller logs each failure); a null handler drops them."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    root.handlers = [logging.NullHandler()]
    try:
        yield
    finally:
        root.handlers = handlers


@pytest.fixture(scope="module")
def soaked() -> tuple[Usage, Usage, set[str]]:
    with ExitStack() as stack:
        stack.enter_context(log_records_dropped())
        targets = [stack.enter_context(running(kind)) for kind in KINDS]
        poller = Poller([build_collector(t.config) for t in targets], Settings(poll_interval_s=1, timeout_s=2))
        stack.callback(poller.stop)
        statuses: set[str] = set()
        for number in itertools.count():
            if number == WARM_UP:
                tracemalloc.start()
            if number == WARM_UP + ROUNDS // 2:
                before = usage()  # steady state: what is still growing after this grows without bound
            if number == WARM_UP + ROUNDS:
                after = usage()
                tracemalloc.stop()
                return before, after, statuses
            flap(targets, number)
            statuses.update(c.status for c in poller.poll_once(force=True).clusters)
    raise AssertionError("unreachable")


def test_the_soak_saw_clusters_both_healthy_and_failing(soaked):
    _, _, statuses = soaked
    assert {"ok", "error", "unauthorized", "unreachable"} <= statuses


def test_the_soak_leaves_no_threads_behind(soaked):
    before, after, _ = soaked
    assert after.threads <= before.threads + 2


def test_the_soak_leaves_no_sockets_or_files_open(soaked):
    before, after, _ = soaked
    assert after.fds <= before.fds + 8


def test_the_soak_does_not_grow_memory(soaked):
    before, after, _ = soaked
    assert after.traced_bytes - before.traced_bytes < 2**20
