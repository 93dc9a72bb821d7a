"""Big pod lists digested on the second core (see `collectors.offload`): pages of JSON in, PodRows out.

Decoding a page and digesting its pods costs ~7 µs a pod under the GIL: at 150,000 pods that is
most of a first collection. A pod list's first page says how many items remain, so the worker
is started only when the whole list is big enough to be worth a process (~0.2 s to start).
"""
from __future__ import annotations

import msgspec

from collectors.kubernetes import wire as w
from collectors.kubernetes.pods import PodRow, digest
from collectors.offload import Offload

OFFLOAD_MIN_ITEMS = 20_000  # smaller lists: not worth a process


class DigestedPage(msgspec.Struct, array_like=True, gc=False):
    rows: list[PodRow] = []
    not_a_list: bool = False  # no `items`: not a list payload
    error: str | None = None  # the JSON could not be decoded: msgspec's message


def digest_page(data: bytes) -> DigestedPage:
    """One pod list page to rows (in the worker, or inline)."""
    try:
        page = w.list_decoder(w.Pod).decode(data)
    except msgspec.DecodeError as exc:
        return DigestedPage(error=str(exc))
    if page.items is msgspec.UNSET:
        return DigestedPage(not_a_list=True)
    return DigestedPage(rows=[digest(pod) for pod in page.items or ()])


class PodOffload(Offload[DigestedPage]):
    """The pod-list worker of one collector."""

    def __init__(self, min_items: int = OFFLOAD_MIN_ITEMS):
        super().__init__(digest_page, DigestedPage, min_items, "pod list")

    def worth_list(self, first_page_items: int, remaining: int | None) -> bool:
        return self.worth(first_page_items + (remaining or 0))


def keyed_rows(rows: list[PodRow]) -> list[tuple[str, PodRow]]:
    """As `kubernetes_pods.keyed_digest` gives them, for the pods cache."""
    return [(row.key, row) for row in rows]
