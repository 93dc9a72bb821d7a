"""A whole listing of a swarm: nodes, services and their tasks; a large swarm's tasks in parts, on both cores.

`/tasks` is most of a swarm's bytes (150,000 task objects, 250 MB of JSON at 1,000 nodes), and
decoding and sorting them is pure CPU under the GIL. So a large swarm's tasks are read in parts
(`engine.task_parts`: runs of whole services), and the collector's worker process
(`collectors.offload.Worker`, running `part_reads.read_part`) reads and digests some parts over
its own connection to the engine while the collector's thread reads and digests the others: both
cores work, and no part's JSON crosses between the processes (a pipe moves ~0.4 GB/s, slower
than digesting it). Only the digest comes back (`parts.DigestedPart`: the split and the tasks
that matter). The worker gets the engine's address and TLS file paths, no credential (a URL with
a password in it is read in this process only). A part the worker could not read, or a worker
that fails, dies or overruns, leaves its parts to this thread.
"""
from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import docker
import msgspec
import requests

from collectors.deadline import MIB
from collectors.offload import Worker, WorkerGone
from collectors.plainget import PlainTarget
from collectors.swarm import wire
from collectors.swarm.engine import (READ_TIMEOUT_SLACK_S, EngineSession, expected_tasks, task_parts, tls_verify,
                                    uses_tls)
from collectors.swarm.normalize import TaskSplit, joined
from collectors.swarm.part_reads import read_part
from collectors.swarm.parts import DigestedPart, digest_part, part_split
from fleet.config import ClusterConfig
from fleet.source import MalformedPayload, SourceError

# tasks meant to run, over all parts, from which the worker process is worth starting (~0.3 s)
OFFLOAD_MIN_TASKS = 10_000
# parts the worker holds at once: it reads the one it will likely get next (`then`) while it digests
# this one, and gets that as soon as it answers, so one keeps it busy and leaves more to this thread
PARTS_AT_WORKER = 1
UNIX = "http+unix://"
_part_decoder = msgspec.msgpack.Decoder(DigestedPart)


@dataclass
class Listing:
    nodes: list[wire.Node]
    services: list[wire.Service]
    tasks: list[wire.Task]
    # which tasks are current, when the tasks were read (and sorted out) in parts; else None
    split: TaskSplit | None = None


class TaskWorker(Worker):
    """The task-part worker process of one Swarm collector, started by its first large listing."""

    def __init__(self, config: ClusterConfig, min_tasks: int = OFFLOAD_MIN_TASKS):
        super().__init__("swarm task")
        self.target = plain_target(config)  # None: this engine is read in this process only
        self.min_tasks = min_tasks
        self.preload = (read_part,)  # its imports done before it counts as up
        self.parts_read = 0  # for tests and the bench

    def worth(self, tasks: int) -> bool:
        return self.target is not None and not self.broken and tasks >= self.min_tasks

    def read(self, api_version: str, timeout_s: float, services: list[str], then: list[str] | None) -> Future | None:
        """Have the worker read and digest this part, and start reading the part it will get next."""
        future = self.run(read_part, self.target, api_version, timeout_s, services, then)
        if future is not None:
            self.parts_read += 1
        return future

    def received(self, future: Future, within_s: float) -> DigestedPart | None:
        """The part the worker read, waited for at most `within_s`; None when it was not read
        plainly or the worker failed (then this thread reads it). A read past its deadline or
        over the size ceiling is raised as is."""
        try:
            answer = self.answer(future, within_s)
        except SourceError:
            raise
        except WorkerGone:  # it ended (then it is given up) or overran (then it was stopped)
            return None
        except Exception as exc:  # anything else from it: no more work there
            self.give_up(exc)
            return None
        return None if answer is None else _part_decoder.decode(answer)


def plain_target(config: ClusterConfig) -> PlainTarget | None:
    """Where the worker reads the engine, with the session's TLS settings; None for what `PlainGet`
    does not dial (ssh, named pipes) and for a URL with a password in it (never sent there)."""
    if not config.url or "@" in urlsplit(config.url).netloc:
        return None
    try:
        base = docker.utils.parse_host(config.url, False, uses_tls(config))
    except docker.errors.DockerException:
        return None
    max_bytes = int(config.max_answer_mib * MIB)
    if base.startswith(UNIX):
        return PlainTarget("http", "localhost", 80, "", (), False, max_bytes=max_bytes, unix_socket=base[len(UNIX):])
    parts = urlsplit(base)
    try:
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
        return None
    files, verify = config.tls, tls_verify(config)
    return PlainTarget(parts.scheme, parts.hostname, port, "", (), verify,
                       requests.utils.DEFAULT_CA_BUNDLE_PATH if verify is True else None,
                       (files.cert_file, files.key_file) if files.cert_file else None, max_bytes=max_bytes)


def nodes_and_services(session: EngineSession, timeout_s: float) -> tuple[list[wire.Node], list[wire.Service]]:
    nodes = session.read(timeout_s, "/nodes", list[wire.Node])
    # older engines (API < 1.41) ignore status=true: their counts come from the tasks (normalize)
    services = session.read(timeout_s, "/services", list[wire.Service], params={"status": "true"})
    return nodes, services


def list_all(session: EngineSession, timeout_s: float, worker: TaskWorker | None = None) -> Listing:
    nodes, services = nodes_and_services(session, timeout_s)
    parts = task_parts(services, len(nodes))
    if len(parts) <= 1:
        return Listing(nodes, services, session.read(timeout_s, "/tasks", list[wire.Task]))
    if worker is not None and worker.worth(sum(expected_tasks(s, len(nodes)) for s in services)):
        worker.start()  # comes up while this thread reads the first parts
    else:
        worker = None
    digests = tasks_in_parts(session, timeout_s, parts, worker)
    return Listing(nodes, services, [task for digest in digests for task in digest.tasks],
                   joined([part_split(digest) for digest in digests]))


def tasks_in_parts(session: EngineSession, timeout_s: float, parts: list[list[str]],
                   worker: TaskWorker | None) -> list[DigestedPart]:
    """Each part's digest, in part order. The worker (once up) takes parts from the front, up to
    PARTS_AT_WORKER at a time, and its next one as soon as it answers one (not when this thread
    next looks: it would idle while this thread digests); this thread takes them from the back, so
    the two meet in the middle, and reads its next part (in a thread) while it digests one. Each
    read is bounded like any request; a worker's answer is waited for no longer than its reads can
    take. Tasks of a service created after `/services` was read are left out (normalization has no
    service to put them under)."""
    digests: list[DigestedPart | None] = [None] * len(parts)
    waiting = deque(range(len(parts)))
    at_worker: dict[int, Future] = {}
    lock = threading.RLock()  # waiting and at_worker; re-entered when a part is answered as it is handed over
    ended = False  # the listing is over (or failed): an answer arriving now hands out nothing more
    worker_budget_s = PARTS_AT_WORKER * (timeout_s + READ_TIMEOUT_SLACK_S)

    def feed_worker(_: object = None) -> None:
        with lock:
            while worker is not None and not ended and waiting and worker.up and \
                    sum(not f.done() for f in at_worker.values()) < PARTS_AT_WORKER:
                # the part it gets next, unless this thread may take it first (the last ones)
                then = parts[waiting[1]] if len(waiting) > 3 else None
                future = worker.read(session.api_version, timeout_s, parts[waiting[0]], then)
                if future is None:
                    break
                at_worker[waiting.popleft()] = future
                future.add_done_callback(feed_worker)

    def take_last() -> int | None:
        with lock:
            return waiting.pop() if waiting else None

    try:
        with ThreadPoolExecutor(1, thread_name_prefix="swarm-tasks") as reader:
            ahead: tuple[int, Future[bytes]] | None = None
            while True:
                if ahead is None and (index := take_last()) is not None:
                    ahead = (index, reader.submit(session.part, timeout_s, parts[index]))
                feed_worker()
                with lock:
                    answered = [(i, f) for i, f in at_worker.items() if f.done() or ahead is None]
                    for index, _ in answered:  # nothing left for this thread: wait for the worker
                        del at_worker[index]
                    if not (waiting or at_worker or answered or ahead is not None):
                        break
                for index, future in answered:
                    digest = worker.received(future, worker_budget_s)  # type: ignore[union-attr]
                    if digest is None:
                        with lock:
                            waiting.append(index)
                    else:
                        digests[index] = checked(digest, session)
                if ahead is not None:
                    index, body = ahead
                    data = body.result()
                    ahead = None
                    if (following := take_last()) is not None:  # the next one is read while this one is digested
                        ahead = (following, reader.submit(session.part, timeout_s, parts[following]))
                    digests[index] = checked(digest_part(data, frozenset(parts[index])), session)
    finally:
        with lock:
            ended = True
    return digests  # type: ignore[return-value]


def checked(digest: DigestedPart, session: EngineSession) -> DigestedPart:
    if digest.error is not None:
        raise MalformedPayload(f"GET /tasks on {session.endpoint}: {digest.error}")
    return digest
