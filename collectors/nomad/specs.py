"""Job specs and service registrations in bulk: hundreds of `/v1/job/:id` and `/v1/service/:name`
reads, done in the collector's worker process.

A region's first round reads every job's spec (task-group counts, tasks, images), one request
each: ~800 in a large region. In the collector's own process those reads would compete for the
GIL with the decoding of the allocation list (each read waits for the interpreter several
times), so a big batch goes to the worker process (`collectors.offload.Worker`), which reads
them with `PlainGet` on a few keep-alive connections and sends back the decoded specs. A spec
the worker could not read plainly comes back as None and is read again the usual way, so errors
read exactly as they always do; a read past its deadline or over the size ceiling fails the batch
(Unreachable, AnswerTooLarge), as the usual way would.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import msgspec

from collectors.nomad.wire import JobSpec, ServiceRegistration
from collectors.plainget import PlainGet, PlainTarget
from collectors.toolkit import paused_gc

READERS = 4  # keep-alive connections a batch of specs is read over
_specs = msgspec.json.Decoder(JobSpec)
_registrations = msgspec.json.Decoder(list[ServiceRegistration])
_encoder = msgspec.msgpack.Encoder()
decode_specs = msgspec.msgpack.Decoder(list[JobSpec | None]).decode
decode_registrations = msgspec.msgpack.Decoder(list[list[ServiceRegistration] | None]).decode


def spec_path(job_id: str) -> str:
    return f"/v1/job/{quote(job_id, safe='')}"


def registration_path(service: str) -> str:
    return f"/v1/service/{quote(service, safe='')}"


def read_specs(target: PlainTarget, base: dict[str, str], jobs: list[tuple[str, str]], timeout_s: float) -> bytes:
    """Specs of (namespace, job ID) pairs, in order, msgpack-encoded; None for any not read plainly."""
    return _read_each(target, timeout_s, jobs, _specs, lambda job: (spec_path(job[1]), {**base, "namespace": job[0]}))


def read_registrations(target: PlainTarget, scoped: dict[str, str], names: list[tuple[str, str]],
                       timeout_s: float) -> bytes:
    """The registrations of (namespace, service name) pairs, in order, msgpack-encoded; None for any
    not read plainly (a service deregistered since the list: its 404 is read again the usual way)."""
    return _read_each(target, timeout_s, names, _registrations,
                      lambda name: (registration_path(name[1]), {**scoped, "namespace": name[0]}))


def _read_each(target: PlainTarget, timeout_s: float, items: list[tuple[str, str]], decoder: msgspec.json.Decoder,
               request: Callable[[tuple[str, str]], tuple[str, dict[str, str]]]) -> bytes:
    plain = PlainGet(target, timeout_s)

    def read(item: tuple[str, str]) -> Any:
        body = plain.get(*request(item))
        if body is None:
            return None
        try:
            return decoder.decode(body)
        except msgspec.DecodeError:
            return None  # read again the usual way, which says what is wrong with it

    try:
        with paused_gc(), ThreadPoolExecutor(READERS, thread_name_prefix="nomad-bulk") as pool:  # no cycles in them
            return _encoder.encode(list(pool.map(read, items)))
    finally:
        plain.close()
