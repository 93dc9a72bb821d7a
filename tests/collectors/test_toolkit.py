"""The helpers every collector shares: one behaviour each, whichever collector calls them."""
from __future__ import annotations

import gc
import threading
from datetime import datetime, timezone

import pytest

from collectors.toolkit import Wire, decode, decoder_for, paused_gc, retry_after_s, short
from fleet.source import MalformedPayload

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("header, seconds", [
    ("120", 120.0), (" 7 ", 7.0), ("1.5", 1.5), ("0", 0.0), ("-3", 0.0),
    ("Mon, 30 Nov 2026 12:01:30 GMT", 90.0),  # an HTTP date: seconds from now
    ("Mon, 30 Nov 2026 11:00:00 GMT", 0.0),  # already past
    (None, None), ("", None), ("soon", None), ("nan", None), ("inf", None),
])
def test_retry_after_reads_seconds_or_an_http_date(header, seconds):
    assert retry_after_s(header, now=NOW) == seconds


def test_short_keeps_one_line_and_cuts_long_messages():
    assert short("connection\n  refused") == "connection refused"
    cut = short("x" * 500)
    assert len(cut) == 200 and cut.endswith("...")
    assert short(ValueError("bad"), limit=10) == "bad"


class Item(Wire):
    name: str
    size: int = 0


def test_decode_names_what_was_read_when_the_payload_is_not_json_or_has_the_wrong_shape():
    assert decode(b'[{"name": "a", "size": 2}]', list[Item], "GET /items") == [Item("a", 2)]
    with pytest.raises(MalformedPayload, match=r"^GET /items: not JSON: "):
        decode(b"<html>", list[Item], "GET /items")
    with pytest.raises(MalformedPayload, match=r"^GET /items: unexpected shape: Expected `str`, got `int`"):
        decode(b'[{"name": 1}]', list[Item], "GET /items")


def test_overlapping_gc_pauses_turn_the_collector_back_on_only_after_the_last_one():
    assert gc.isenabled()
    first, second = paused_gc(), paused_gc()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second pause still runs
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_gc_pauses_in_many_threads_leave_the_collector_on():
    def work() -> None:
        for _ in range(200):
            with paused_gc():
                pass

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.isenabled()


def test_a_pause_leaves_a_collector_that_was_off_off():
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


class FirstUseAgent(Wire):  # decoded nowhere else: the test below is its first use
    id: str
    hostname: str | None = None


class FirstUseAgents(Wire):
    slaves: list[FirstUseAgent] = []


def test_threads_decoding_a_type_for_the_first_time_share_one_decoder_built_once():
    """Two collectors' first decode of the same wire type at once crashed the CLI (SIGSEGV in msgspec
    while one thread built the type's info and another decoded with it): the info is built under a lock."""
    barrier, results = threading.Barrier(8), []

    def first_use() -> None:
        barrier.wait()
        results.append((decoder_for(FirstUseAgents), decode(b'{"slaves": [{"id": "a1"}]}', FirstUseAgents, "/slaves")))

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(decoder) for decoder, _ in results}) == 1
    assert all(agents.slaves[0].id == "a1" for _, agents in results)
