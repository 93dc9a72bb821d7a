"""Job specs in bulk: hundreds of `/v1/job/:id` reads, done in the collector's worker process.

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

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import msgspec

from collectors.nomad.wire import JobSpec
from collectors.plainget import PlainGet, PlainTarget
from collectors.toolkit import paused_gc

READERS = 4  # keep-alive connections a batch of specs is read over
_specs = msgspec.json.Decoder(JobSpec)
_encoder = msgspec.msgpack.Encoder()
decode_specs = msgspec.msgpack.Decoder(list[JobSpec | None]).decode


def spec_path(job_id: str) -> str:
    return f"/v1/job/{quote(job_id, safe='')}"


def read_specs(target: PlainTarget, base: dict[str, str], jobs: list[tuple[str, str]], timeout_s: float) -> bytes:
    """Specs of (namespace, job ID) pairs, in order, msgpack-encoded; None for any not read plainly."""
    plain = PlainGet(target, timeout_s)

    def read(job: tuple[str, str]) -> JobSpec | None:
        body = plain.get(spec_path(job[1]), {**base, "namespace": job[0]})
        if body is None:
            return None
        try:
            return _specs.decode(body)
        except msgspec.DecodeError:
            return None  # read again the usual way, which says what is wrong with it

    try:
        with paused_gc(), ThreadPoolExecutor(READERS, thread_name_prefix="nomad-spec") as pool:  # specs hold no cycles
            return _encoder.encode(list(pool.map(read, jobs)))
    finally:
        plain.close()
