"""Big pod lists digested on the second core (see `collectors.offload`): pages of JSON in, PodRows out.

Decoding a page and digesting its pods costs ~7 µs a pod under the GIL: at 150,000 pods that is
most of a first collection. A pod list's first page says how many items remain, so the worker
is started only when the whole list is big enough to be worth a process (~0.2 s to start).
`PodOffload` is the page sink the client hands such a list to (`client.PageSink`); this module
is what the worker imports, so it stays clear of the client and its HTTP stack.
"""
from __future__ import annotations

import msgspec

from collectors.kubernetes import wire as w
from collectors.kubernetes.pods import PodRow, digest
from collectors.offload import Offload, SharedPages
from collectors.toolkit import decode_problem
from fleet.source import MalformedPayload

OFFLOAD_MIN_ITEMS = 20_000  # smaller lists: not worth a process


class DigestedPage(msgspec.Struct, array_like=True, gc=False):
    rows: list[PodRow] = []
    not_a_list: bool = False  # no `items`: not a list payload
    error: str | None = None  # the JSON could not be decoded: what is wrong, as `toolkit.decode_problem` says


def digest_page(data: bytes) -> DigestedPage:
    """One pod list page to rows (in the worker, or inline)."""
    try:
        page = w.list_decoder(w.Pod).decode(data)
    except msgspec.DecodeError as exc:
        return DigestedPage(error=decode_problem(exc))
    if page.items is msgspec.UNSET:
        return DigestedPage(not_a_list=True)
    return DigestedPage(rows=[digest(pod) for pod in page.items or ()])


class PodOffload(Offload[DigestedPage]):
    """The pod-list worker of one collector, and the page sink of its pod lists."""

    def __init__(self, min_items: int = OFFLOAD_MIN_ITEMS):
        super().__init__(digest_page, DigestedPage, min_items, "pod list")

    def worth_list(self, first_page_items: int, remaining: int | None) -> bool:
        return self.worth(first_page_items + (remaining or 0))

    def open_list(self, within_s: float) -> PodPages:
        self.start()
        return PodPages(self.pages(within_s=within_s))


class PodPages:
    """One pod list's pages through the offload: rows keyed as `pods.keyed_digest` keys them."""

    def __init__(self, shared: SharedPages[DigestedPage]):
        self.shared = shared

    def submit(self, data: bytes) -> list[tuple[str, PodRow]]:
        return _keyed_rows(self.shared.add(data))

    def collect(self) -> list[tuple[str, PodRow]]:
        return _keyed_rows(self.shared.finish())


def _keyed_rows(pages: list[DigestedPage]) -> list[tuple[str, PodRow]]:
    keyed: list[tuple[str, PodRow]] = []
    for page in pages:
        if page.error is not None:
            raise MalformedPayload(page.error)
        if page.not_a_list:
            raise MalformedPayload(w.NOT_A_LIST)
        keyed.extend((row.key, row) for row in page.rows)
    return keyed
